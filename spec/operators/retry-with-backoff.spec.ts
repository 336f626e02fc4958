import { Subject } from 'rxjs';
import { backoffDelay, retryWithBackoff, type RetryWithBackoffOptions } from '../../src/operators/retry-with-backoff';
import { testScheduler } from '../helpers/test-scheduler';

// Small numbers so marbles stay readable: waits of 2 ms doubling to at most 8, healthy after 5 ms up.
const BACKOFF = { initialDelayMs: 2, maxDelayMs: 8, healthyMs: 5 };

/**
 * The operator with its callbacks turned into marbles: `retries` emits `failures:delayMs` as each wait is
 * scheduled, `healthy` emits `h` at each healthy spell.
 */
function observed(options: Partial<RetryWithBackoffOptions> = {}) {
  const retries = new Subject<string>();
  const healthy = new Subject<string>();
  const op = retryWithBackoff<string>({
    ...BACKOFF,
    ...options,
    onRetry: ({ failures, delayMs }) => retries.next(`${failures}:${delayMs}`),
    onHealthy: () => healthy.next('h'),
  });
  return { op, retries, healthy };
}

describe('backoffDelay', () => {
  it('doubles from initialDelayMs up to maxDelayMs; without jitter it never asks the random source', () => {
    const random = jest.fn(() => 0.9);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, BACKOFF, random))).toEqual([2, 4, 8, 8, 8]);
    expect(random).not.toHaveBeenCalled();
  });

  it('jitter shortens each wait by up to its fraction, rounded to whole ms', () => {
    expect(backoffDelay(1, { initialDelayMs: 1000, maxDelayMs: 30_000, healthyMs: 1, jitter: 0.25 }, () => 0.5)).toBe(875);
    expect(backoffDelay(9, { initialDelayMs: 1000, maxDelayMs: 30_000, healthyMs: 1, jitter: 0.25 }, () => 0)).toBe(30_000);
  });
});

describe('retryWithBackoff', () => {
  it('never: waits forever, still subscribed, tells nothing', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, retries, healthy } = observed();
      const source = cold('-');
      expectObservable(source.pipe(op)).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
      expectObservable(retries).toBe('-');
      expectObservable(healthy).toBe('-');
    });
  });

  it('empty: completes at once, no retry (completion passes through)', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, retries } = observed();
      const source = cold('|');
      expectObservable(source.pipe(op)).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
      expectObservable(retries).toBe('-');
    });
  });

  it('values: passed on unchanged; a completion while the healthy timer runs completes at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, healthy } = observed();
      const source = cold('-a-b|');
      expectObservable(source.pipe(op)).toBe('-a-b|');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectObservable(healthy).toBe('-');
    });
  });

  it('never-ending: a run up for healthyMs since its first value is told healthy once, and runs on', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, healthy } = observed();
      const source = cold('--a-b-c-d-e-');
      expectObservable(source.pipe(op), '^ 11ms !').toBe('--a-b-c-d-e-');
      expectSubscriptions(source.subscriptions).toBe('^ 11ms !');
      // First value at 2, healthy 5 ms later.
      expectObservable(healthy).toBe('7ms h');
    });
  });

  it('error: resubscribes after 2, 4, 8, 8 ms (capped), each failure told once as its wait is scheduled', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, retries } = observed();
      const source = cold('-#');
      // t0 sub, t1 error → 2 → t3, t4 → 4 → t8, t9 → 8 → t17, t18 → 8 → t26, t27 → 8; unsubscribed at 28.
      expectObservable(source.pipe(op), '^ 27ms !').toBe('-');
      expectSubscriptions(source.subscriptions).toBe(['^!', '3ms ^!', '8ms ^!', '17ms ^!', '26ms ^!']);
      expectObservable(retries).toBe('-a 2ms b 4ms c 8ms d 8ms e', { a: '1:2', b: '2:4', c: '3:8', d: '4:8', e: '5:8' });
    });
  });

  it('error: a source that fails right after its first value keeps backing off (the first value forgives nothing)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const { op, retries } = observed();
      const source = cold('a#');
      // t0 a, t1 error → 2 → t3 a, t4 → 4 → t8 a, t9 → 8 → t17 a, t18 → 8
      expectObservable(source.pipe(op), '^ 19ms !').toBe('a 2ms a 4ms a 8ms a');
      expectObservable(retries).toBe('-a 2ms b 4ms c 8ms d', { a: '1:2', b: '2:4', c: '3:8', d: '4:8' });
    });
  });

  it('a run up for healthyMs resets the count: its failure waits initialDelayMs again', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, retries, healthy } = observed();
      const source = cold('-a 8ms #');
      // t1 a, t6 healthy, t10 error (count back to 1) → 2 → t12 sub, t13 a, t18 healthy, t22 error → 2 → t24 sub
      expectObservable(source.pipe(op), '^ 25ms !').toBe('-a 11ms a 11ms a');
      expectSubscriptions(source.subscriptions).toBe(['^ 9ms !', '12ms ^ 9ms !', '24ms ^-!']);
      expectObservable(retries).toBe('10ms a 11ms a', { a: '1:2' });
      expectObservable(healthy).toBe('6ms h 11ms h');
    });
  });

  it('a run that fails before healthyMs is not forgiven: the waits grow', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const { op, retries, healthy } = observed({ healthyMs: 20 });
      const source = cold('-a 8ms #');
      // t10 error → 2 → t12 sub, t22 error → 4
      expectObservable(source.pipe(op), '^ 25ms !').toBe('-a 11ms a 11ms -');
      expectObservable(retries).toBe('10ms a 11ms b', { a: '1:2', b: '2:4' });
      expectObservable(healthy).toBe('-');
    });
  });

  it('jitter comes from the injected random source: 0.5 with jitter 0.5 cuts each wait by a quarter', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, retries } = observed({ initialDelayMs: 4, jitter: 0.5, random: () => 0.5 });
      const source = cold('-#');
      // t1 error → 3 → t4, t5 → 6 → t11, t12 → 6 (8 capped, cut by a quarter)
      expectObservable(source.pipe(op), '^ 12ms !').toBe('-');
      expectSubscriptions(source.subscriptions).toBe(['^!', '4ms ^!', '11ms ^!']);
      expectObservable(retries).toBe('-a 3ms b 6ms c', { a: '1:3', b: '2:6', c: '3:6' });
    });
  });

  it('early unsubscribe during a wait: no resubscription, nothing more told', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, retries } = observed();
      const source = cold('-#');
      expectObservable(source.pipe(op), '^-!').toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^!');
      expectObservable(retries).toBe('-a', { a: '1:2' });
    });
  });

  it('early unsubscribe before healthyMs: the healthy timer goes with it', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const { op, healthy } = observed();
      const source = cold('-a-b-');
      expectObservable(source.pipe(op), '^ 3ms !').toBe('-a-b');
      expectSubscriptions(source.subscriptions).toBe('^ 3ms !');
      expectObservable(healthy).toBe('-');
    });
  });

  it('each subscription counts its own failures from zero', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const { op, retries } = observed();
      const source = cold('-#');
      const retried = source.pipe(op);
      expectObservable(retried, '^ 4ms !').toBe('-');
      expectObservable(retried, '--^ 4ms !').toBe('-');
      // First: t1 → 1:2, t4 → 2:4. Second (from 2): t3 → 1:2, t6 → 2:4.
      expectObservable(retries).toBe('-a-ab-b', { a: '1:2', b: '2:4' });
    });
  });
});
