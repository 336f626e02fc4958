import { ReplaySubject, share, take, type Observable } from 'rxjs';
import { gopCache, replayGop, throughGop, type Gop } from '../../src/operators/gop-cache';
import type { Picture } from '../../src/picture';
import { pictures } from '../helpers/pictures';
import { testScheduler } from '../helpers/test-scheduler';

// Marble letters are pictures: upper case = keyframe, lower case = P picture.
// Digits are GOPs (the keyframe and the pictures since, oldest first).
// Values are compared when the run ends, so a GOP array changed after it was emitted would fail these specs.
const v = pictures('aBcdEf');
const g: Record<string, Gop<Picture>> = {
  1: [v.B!],
  2: [v.B!, v.c!],
  3: [v.B!, v.c!, v.d!],
  4: [v.E!],
  5: [v.E!, v.f!],
};

/** The hub's arrangement: one GOP cache shared through a ReplaySubject(1), read by each viewer with replayGop. */
function shared(source: Observable<Picture>): Observable<Picture> {
  const gop$ = source.pipe(gopCache(), share({ connector: () => new ReplaySubject<Gop<Picture>>(1) }));
  return gop$.pipe(replayGop());
}

describe('gopCache', () => {
  it('never: emits nothing, still subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-', v);
      const subs = '       ^';
      const expected = '   -';
      expectObservable(source.pipe(gopCache())).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('empty: completes at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('|', v);
      const subs = '       (^!)';
      const expected = '   |';
      expectObservable(source.pipe(gopCache())).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('values: the GOP grows with each picture and starts afresh at each keyframe; pictures before the first keyframe are not kept', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-B-c-d-E-f-|', v);
      const subs = '       ^------------!';
      const expected = '   ---1-2-3-4-5-|';
      expectObservable(source.pipe(gopCache())).toBe(expected, g);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('error: passed on after the GOPs so far', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-B-c-#', v, new Error('encoder died'));
      const subs = '       ^------!';
      const expected = '   ---1-2-#';
      expectObservable(source.pipe(gopCache())).toBe(expected, g, new Error('encoder died'));
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('never-ending: one GOP per picture, never completes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-B-c-d-', v);
      const subs = '       ^';
      const expected = '   -1-2-3-';
      expectObservable(source.pipe(gopCache())).toBe(expected, g);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('early unsubscribe: releases the source at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-B-c-d-E-|', v);
      const unsub = '      ----!';
      const subs = '       ^---!';
      const expected = '   -1-2-';
      expectObservable(source.pipe(gopCache()), unsub).toBe(expected, g);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });
});

describe('replayGop', () => {
  it('never: emits nothing, still subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const gops = cold('-', g);
      const subs = '     ^';
      const expected = ' -';
      expectObservable(gops.pipe(replayGop())).toBe(expected);
      expectSubscriptions(gops.subscriptions).toBe(subs);
    });
  });

  it('empty: completes at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const gops = cold('|', g);
      const subs = '     (^!)';
      const expected = ' |';
      expectObservable(gops.pipe(replayGop())).toBe(expected);
      expectSubscriptions(gops.subscriptions).toBe(subs);
    });
  });

  it('values: the first GOP is replayed whole, later ones give only their newest picture', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const gops = cold('-2---3-4-5-|', g);
      const subs = '     ^----------!';
      const expected = ' -(Bc)d-E-f-|';
      expectObservable(gops.pipe(replayGop())).toBe(expected, v);
      expectSubscriptions(gops.subscriptions).toBe(subs);
    });
  });

  it('error: passed on', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const gops = cold('-2---3-#', g, new Error('encoder died'));
      const subs = '     ^------!';
      const expected = ' -(Bc)d-#';
      expectObservable(gops.pipe(replayGop())).toBe(expected, v, new Error('encoder died'));
      expectSubscriptions(gops.subscriptions).toBe(subs);
    });
  });

  it('never-ending: one picture per GOP after the first, never completes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const gops = cold('-3----4-5-', g);
      const subs = '     ^';
      const expected = ' -(Bcd)E-f-';
      expectObservable(gops.pipe(replayGop())).toBe(expected, v);
      expectSubscriptions(gops.subscriptions).toBe(subs);
    });
  });

  it('early unsubscribe: also in the middle of replaying a GOP, which then stops', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const gops = cold('-3-4-|', g);
      const subs = '     ^!';
      const expected = ' -(Bc|)';
      expectObservable(gops.pipe(replayGop(), take(2))).toBe(expected, v);
      expectSubscriptions(gops.subscriptions).toBe(subs);
    });
  });
});

describe('throughGop', () => {
  it('values: on its own it is a plain picture stream starting at the first keyframe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-B-c-d-E-f-|', v);
      const subs = '       ^------------!';
      const expected = '   ---B-c-d-E-f-|';
      expectObservable(source.pipe(throughGop())).toBe(expected, v);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('never, empty, error, early unsubscribe: passed through', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const never = cold('  -', v);
      const empty = cold('  |', v);
      const error = cold('  -B-#', v);
      const early = cold('  -B-c-d-|', v);
      const unsub = '       ----!';
      const neverGets = '   -';
      const emptyGets = '   |';
      const errorGets = '   -B-#';
      const earlyGets = '   -B-c-';
      const neverSubs = '   ^';
      const emptySubs = '   (^!)';
      const errorSubs = '   ^--!';
      const earlySubs = '   ^---!';
      expectObservable(never.pipe(throughGop())).toBe(neverGets);
      expectObservable(empty.pipe(throughGop())).toBe(emptyGets);
      expectObservable(error.pipe(throughGop())).toBe(errorGets, v);
      expectObservable(early.pipe(throughGop()), unsub).toBe(earlyGets, v);
      expectSubscriptions(never.subscriptions).toBe(neverSubs);
      expectSubscriptions(empty.subscriptions).toBe(emptySubs);
      expectSubscriptions(error.subscriptions).toBe(errorSubs);
      expectSubscriptions(early.subscriptions).toBe(earlySubs);
    });
  });
});

describe('gopCache shared with a ReplaySubject(1), read with replayGop', () => {
  it('a late subscriber gets the current GOP from its keyframe at once, then live pictures', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-B-c----d-E-f-|', v);
      const early = '     ^';
      const earlyGets = ' ---B-c----d-E-f-|';
      const late = '      ------^';
      const lateGets = '  ------(Bc)d-E-f-|';
      const viewers = shared(source);
      expectObservable(viewers, early).toBe(earlyGets, v);
      expectObservable(viewers, late).toBe(lateGets, v);
      // One subscription to the pictures for both viewers.
      expectSubscriptions(source.subscriptions).toBe('^---------------!');
    });
  });

  it('a subscriber that joins before the first keyframe starts at it; one that joins right after a keyframe gets it alone', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-c-B-d---E---f-|', v);
      const beforeKey = '   --^';
      const beforeGets = '  -----B-d---E---f-|';
      const afterKey = '    ------------^';
      const afterGets = '   ------------E--f-|';
      const viewers = shared(source);
      expectObservable(viewers, beforeKey).toBe(beforeGets, v);
      expectObservable(viewers, afterKey).toBe(afterGets, v);
      expectSubscriptions(source.subscriptions).toBe('--^--------------!');
    });
  });

  it('a subscriber leaving early does not disturb the others; the last one leaving releases the source', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-B-c-d-E-f-|', v);
      const first = '     ^----!';
      const firstGets = ' -B-c-';
      const second = '    ^--------!';
      const secondGets = '-B-c-d-E-';
      const viewers = shared(source);
      expectObservable(viewers, first).toBe(firstGets, v);
      expectObservable(viewers, second).toBe(secondGets, v);
      expectSubscriptions(source.subscriptions).toBe('^--------!');
    });
  });
});
