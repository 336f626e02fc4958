import { TestScheduler } from 'rxjs/testing';
import { gatherBetween } from '../../src/operators/gather-between';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('gatherBetween', () => {
  it('passes each value at once with the side values since the previous one', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const side = hot('  -a-b--c-----|');
      const sideSubs = '  ^--------!';
      const source = cold('--x--y--z|');
      expectObservable(source.pipe(gatherBetween(side, 10))).toBe('--p--q--r|', {
        p: { value: 'x', side: ['a'] },
        q: { value: 'y', side: ['b'] },
        r: { value: 'z', side: ['c'] },
      });
      expectSubscriptions(side.subscriptions).toBe(sideSubs);
    });
  });

  it('keeps only the newest max side values while the source is quiet', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const side = hot('-a-b-c-d-');
      expectObservable(cold('--------x|').pipe(gatherBetween(side, 2))).toBe('--------p|', { p: { value: 'x', side: ['c', 'd'] } });
    });
  });

  it('never waits for the side: a silent side gives empty lists', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-x-y|').pipe(gatherBetween(cold('-'), 5))).toBe('-p-q|', {
        p: { value: 'x', side: [] },
        q: { value: 'y', side: [] },
      });
    });
  });

  it('empty source completes and unsubscribes the side', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const side = hot('-a-b-');
      expectObservable(cold('|').pipe(gatherBetween(side, 5))).toBe('|');
      expectSubscriptions(side.subscriptions).toBe('(^!)');
    });
  });

  it('never-ending source never completes', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-').pipe(gatherBetween(cold('a|'), 5))).toBe('-');
    });
  });

  it("the source's error passes and unsubscribes the side; the side's error ends only the side", () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const side = hot('-a-');
      expectObservable(cold('--#').pipe(gatherBetween(side, 5))).toBe('--#');
      expectSubscriptions(side.subscriptions).toBe('^-!');
      expectObservable(cold('---x|').pipe(gatherBetween(cold('-a#'), 5))).toBe('---p|', { p: { value: 'x', side: ['a'] } });
    });
  });

  it('early unsubscribe releases both', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const side = hot('-a-b-c-');
      const source = cold('-x-y-z-');
      expectObservable(source.pipe(gatherBetween(side, 5)), '^--!').toBe('-p-', { p: { value: 'x', side: ['a'] } });
      expectSubscriptions(side.subscriptions).toBe('^--!');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
