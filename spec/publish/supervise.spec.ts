import fc from 'fast-check';
import { map, NEVER } from 'rxjs';
import { backoffDelay, supervise, type Supervised } from '../../src/publish/supervise';
import { DEFAULTS } from '../../src/defaults';
import { testScheduler } from '../helpers/test-scheduler';

const BACKOFF = { initialDelayMs: 1000, maxDelayMs: 30_000, healthyMs: 60_000, jitter: 0.25 };

describe('backoffDelay', () => {
  it('doubles from 1 s to the 30 s cap (the defaults), with no jitter when random gives 0', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, DEFAULTS.publishRestart, () => 0))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('jitter only shortens: every wait is within [1 − jitter, 1] of the capped step, never above the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failures, r) => {
        const step = Math.min(BACKOFF.maxDelayMs, BACKOFF.initialDelayMs * 2 ** (failures - 1));
        const delay = backoffDelay(failures, BACKOFF, () => r);
        expect(delay).toBeLessThanOrEqual(step);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step * (1 - BACKOFF.jitter)));
        expect(delay).toBeLessThanOrEqual(BACKOFF.maxDelayMs);
      }),
    );
  });
});

/** Only the state changes and values, as short strings, for marbles. */
function short(event: Supervised<string>): string {
  switch (event.kind) {
    case 'starting':
      return `s${event.failures}`;
    case 'up':
      return `u${event.failures}`;
    case 'healthy':
      return 'h';
    case 'retrying':
      return `r${event.failures}:${event.delayMs}`;
    case 'value':
      return event.value;
  }
}

describe('supervise (virtual time: asyncScheduler inside run())', () => {
  // Small numbers so marbles stay readable: 10 ms doubling to 40, healthy after 50.
  const options = { initialDelayMs: 10, maxDelayMs: 40, healthyMs: 50, jitter: 0.5 };

  it('values: starting, up with the first value, then the values; runs on while the run lives', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const run = cold('-a---b');
      const events = supervise(() => run, { ...options, random: () => 0 }).pipe(map(short));
      expectObservable(events, '^ 20ms !').toBe('x(ua)b', { x: 's0', u: 'u0', a: 'a', b: 'b' });
      expectSubscriptions(run.subscriptions).toBe('^ 20ms !');
    });
  });

  it('never and empty: a run that never emits stays starting; one that ends at once is a failure like an error', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(supervise(() => NEVER, options).pipe(map(short)), '^ 100ms !').toBe('x', { x: 's0' });
      const empty = cold('|');
      expectObservable(supervise(() => empty, { ...options, random: () => 0 }).pipe(map(short)), '^ 12ms !').toBe('(xr) 6ms (yz)', {
        x: 's0',
        r: 'r1:10',
        y: 's1',
        z: 'r2:20',
      });
    });
  });

  it('a failing run backs off 10, 20, 40, 40 ms (capped at maxDelayMs), each failure told once with its count', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const run = cold('-#', undefined, new Error('boom'));
      const events = supervise(() => run, { ...options, random: () => 0 }).pipe(map(short));
      // t0 start, t1 fail → 10 → t11 start, t12 fail → 20 → t32, t33 → 40 → t73, t74 → 40 → t114, t115 → 40 (capped)
      expectObservable(events, '^ 115ms !').toBe('a b 9ms c d 19ms e f 39ms g h 39ms i j', {
        a: 's0',
        b: 'r1:10',
        c: 's1',
        d: 'r2:20',
        e: 's2',
        f: 'r3:40',
        g: 's3',
        h: 'r4:40',
        i: 's4',
        j: 'r5:40',
      });
    });
  });

  it('jitter comes from the injected random source: 0.5 with jitter 0.5 cuts each wait by a quarter', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const run = cold('-#');
      const events = supervise(() => run, { ...options, initialDelayMs: 20, random: () => 0.5 }).pipe(map(short));
      expectObservable(events, '^ 20ms !').toBe('a b 14ms c d', { a: 's0', b: 'r1:15', c: 's1', d: 'r2:30' });
    });
  });

  it('a run up for healthyMs resets the count: its later failure waits the first step again', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const runs = [cold('-#'), cold('-a 59ms #'), cold('-')];
      let n = 0;
      const events = supervise(() => runs[n++]!, { ...options, random: () => 0 }).pipe(map(short));
      // t0 start; t1 fail → 10; t11 start; t12 up + a; t62 healthy; t72 fail (count back to 1) → 10; t82 start
      expectObservable(events, '^ 90ms !').toBe('a b 9ms c (ux) 46ms h 9ms r 9ms s', {
        a: 's0',
        b: 'r1:10',
        c: 's1',
        u: 'u1',
        x: 'a',
        h: 'h',
        r: 'r1:10',
        s: 's1',
      });
    });
  });

  it('unsubscribing during a wait stops it: no run starts again', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const run = cold('-#');
      expectObservable(supervise(() => run, { ...options, random: () => 0 }).pipe(map(short)), '^ 5ms !').toBe('ab', {
        a: 's0',
        b: 'r1:10',
      });
      expectSubscriptions(run.subscriptions).toBe('^!');
    });
  });
});
