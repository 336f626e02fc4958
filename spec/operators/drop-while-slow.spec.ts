import { Subject } from 'rxjs';
import type { RunHelpers } from 'rxjs/testing';
import { dropWhileSlow } from '../../src/operators/drop-while-slow';
import { gateStep, resyncingAfter } from '../../src/operators/slow-gate';
import type { Picture } from '../../src/picture';
import { pictures } from '../helpers/pictures';
import { testScheduler } from '../helpers/test-scheduler';

// Marble letters are pictures: upper case = keyframe, lower case = P picture.
// The `slow` marble drives the viewer's state: 1 = it is behind, 0 = it has caught up.
const v = pictures('AbcdDeFg');
const SLOW = { 1: true, 0: false };

/**
 * A dropWhileSlow whose `isSlow` follows the hot `slow` marble, and whose callbacks are turned into marbles:
 * `slowDrops` and `resyncDrops` emit each dropped picture at the time it was dropped, `resyncs` each resume.
 */
function viewer({ hot }: RunHelpers, slowMarble: string) {
  let slow = false;
  hot(slowMarble, SLOW).subscribe((s) => (slow = s));
  const slowDrops = new Subject<Picture>();
  const resyncDrops = new Subject<Picture>();
  const resyncs = new Subject<Picture>();
  const isSlow = jest.fn((_picture: Picture) => slow);
  const op = dropWhileSlow({
    isSlow,
    onDrop: (picture, reason) => (reason === 'slow' ? slowDrops : resyncDrops).next(picture),
    onResync: (picture) => resyncs.next(picture),
  });
  return { op, isSlow, slowDrops, resyncDrops, resyncs };
}

describe('dropWhileSlow', () => {
  it('never: waits forever, still subscribed, asks nothing', () => {
    let asked = 0;
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-', v);
      const subs = '       ^';
      const expected = '   -';
      expectObservable(source.pipe(dropWhileSlow({ isSlow: () => (asked++, true) }))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
    expect(asked).toBe(0);
  });

  it('empty: completes at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('|', v);
      const subs = '       (^!)';
      const expected = '   |';
      expectObservable(source.pipe(dropWhileSlow({ isSlow: () => true }))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('values, never slow: every picture passes, isSlow asked once per picture', () => {
    let isSlow!: jest.Mock;
    testScheduler().run((helpers) => {
      const { hot, expectObservable, expectSubscriptions } = helpers;
      const pics = hot('  -A-b-c-D-e-|', v);
      const slow = '      ------------';
      const expected = '  -A-b-c-D-e-|';
      const subs = '      ^----------!';
      const noDrops = '   ------------';
      const t = viewer(helpers, slow);
      isSlow = t.isSlow;
      expectObservable(pics.pipe(t.op)).toBe(expected, v);
      expectObservable(t.slowDrops).toBe(noDrops);
      expectObservable(t.resyncDrops).toBe(noDrops);
      expectObservable(t.resyncs).toBe(noDrops);
      expectSubscriptions(pics.subscriptions).toBe(subs);
    });
    expect(isSlow.mock.calls.map(([p]) => p as unknown)).toEqual([v.A, v.b, v.c, v.D, v.e]);
  });

  it('values: slow drops whole pictures; caught up, it drops P pictures until a keyframe, then resumes', () => {
    testScheduler().run((helpers) => {
      const { hot, expectObservable, expectSubscriptions } = helpers;
      const pics = hot('    -A-b-c-D-e-F-g-|', v);
      const slow = '        --1-----0-------';
      const expected = '    -A---------F-g-|';
      const slowDrops = '   ---b-c-D--------';
      const resyncDrops = ' ---------e------';
      const resyncs = '     -----------F----';
      const subs = '        ^--------------!';
      const t = viewer(helpers, slow);
      expectObservable(pics.pipe(t.op)).toBe(expected, v);
      expectObservable(t.slowDrops).toBe(slowDrops, v);
      expectObservable(t.resyncDrops).toBe(resyncDrops, v);
      expectObservable(t.resyncs).toBe(resyncs, v);
      expectSubscriptions(pics.subscriptions).toBe(subs);
    });
  });

  it('values: the reason isSlow gives reaches onDrop for that very picture', () => {
    const reasons: string[] = [];
    testScheduler().run(({ hot, expectObservable }) => {
      // l = behind by its acks (lag), k = behind by its socket backlog, 0 = caught up.
      let reason: 'lag' | 'backlog' | undefined;
      hot('  --l---k-0----', { l: 'lag', k: 'backlog', 0: undefined } as const).subscribe((r) => (reason = r));
      const pics = hot('-A-b-c-D-e-F-|', v);
      const op = dropWhileSlow<Picture, 'lag' | 'backlog'>({
        isSlow: () => reason,
        onDrop: (picture, why) => reasons.push(`${picture.seq}:${why}`),
      });
      expectObservable(pics.pipe(op)).toBe('-A---------F-|', v);
    });
    // b and c (seq 1, 2) while lagging, D (4) once the backlog is the reason, e (5) while waiting for a keyframe.
    expect(reasons).toEqual(['1:lag', '2:lag', '4:backlog', '5:resync']);
  });

  it('values: caught up just before a keyframe, it resumes there without resync drops', () => {
    testScheduler().run((helpers) => {
      const { hot, expectObservable } = helpers;
      const pics = hot('    -A-b-c-D-e-|', v);
      const slow = '        --1---0-----';
      const expected = '    -A-----D-e-|';
      const slowDrops = '   ---b-c------';
      const resyncDrops = ' ------------';
      const resyncs = '     -------D----';
      const t = viewer(helpers, slow);
      expectObservable(pics.pipe(t.op)).toBe(expected, v);
      expectObservable(t.slowDrops).toBe(slowDrops, v);
      expectObservable(t.resyncDrops).toBe(resyncDrops, v);
      expectObservable(t.resyncs).toBe(resyncs, v);
    });
  });

  it('values: slow again while resyncing drops for being slow, and resyncs once at the end', () => {
    testScheduler().run((helpers) => {
      const { hot, expectObservable } = helpers;
      const pics = hot('    -A-b-c-D-e-F-|', v);
      const slow = '        --1-0-1-0-----';
      const expected = '    -A---------F-|';
      const slowDrops = '   ---b---D------';
      const resyncDrops = ' -----c---e----';
      const resyncs = '     -----------F--';
      const t = viewer(helpers, slow);
      expectObservable(pics.pipe(t.op)).toBe(expected, v);
      expectObservable(t.slowDrops).toBe(slowDrops, v);
      expectObservable(t.resyncDrops).toBe(resyncDrops, v);
      expectObservable(t.resyncs).toBe(resyncs, v);
    });
  });

  it('values: slow from the start drops until caught up and a keyframe arrives', () => {
    testScheduler().run((helpers) => {
      const { hot, expectObservable } = helpers;
      const pics = hot('    -A-b-c-D-e-|', v);
      const slow = '        1-----0-----';
      const expected = '    -------D-e-|';
      const slowDrops = '   -A-b-c------';
      const resyncDrops = ' ------------';
      const t = viewer(helpers, slow);
      expectObservable(pics.pipe(t.op)).toBe(expected, v);
      expectObservable(t.slowDrops).toBe(slowDrops, v);
      expectObservable(t.resyncDrops).toBe(resyncDrops, v);
    });
  });

  it('error: passed on, also while dropping', () => {
    testScheduler().run((helpers) => {
      const { hot, expectObservable, expectSubscriptions } = helpers;
      const pics = hot('  -A-b-c-#', v, new Error('encoder died'));
      const slow = '      --1-----';
      const expected = '  -A-----#';
      const subs = '      ^------!';
      const t = viewer(helpers, slow);
      expectObservable(pics.pipe(t.op)).toBe(expected, v, new Error('encoder died'));
      expectSubscriptions(pics.subscriptions).toBe(subs);
    });
  });

  it('error: an isSlow that throws errors this viewer’s stream only', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const pics = hot('  -A-b-c-|', v);
      const expected = '  -A-#';
      const subs = '      ^--!';
      const other = '     -A-b-c-|';
      const isSlow = (p: Picture) => {
        if (p === v.b) throw new Error('socket gone');
        return false;
      };
      expectObservable(pics.pipe(dropWhileSlow({ isSlow }))).toBe(expected, v, new Error('socket gone'));
      expectObservable(pics.pipe(dropWhileSlow({ isSlow: () => false }))).toBe(other, v);
      expectSubscriptions(pics.subscriptions).toBe([subs, '^------!']);
    });
  });

  it('never-ending: keeps deciding per picture, never completes', () => {
    testScheduler().run((helpers) => {
      const { hot, expectObservable, expectSubscriptions } = helpers;
      const pics = hot('  -A-b-c-D-e-', v);
      const slow = '      --1-0------';
      const expected = '  -A-----D-e-';
      const subs = '      ^';
      const t = viewer(helpers, slow);
      expectObservable(pics.pipe(t.op)).toBe(expected, v);
      expectSubscriptions(pics.subscriptions).toBe(subs);
    });
  });

  it('early unsubscribe: releases the source at once', () => {
    testScheduler().run((helpers) => {
      const { hot, expectObservable, expectSubscriptions } = helpers;
      const pics = hot('  -A-b-c-D-e-|', v);
      const slow = '      --1-0-------';
      const unsub = '     --------!';
      const expected = '  -A-----D';
      const subs = '      ^-------!';
      const t = viewer(helpers, slow);
      expectObservable(pics.pipe(t.op), unsub).toBe(expected, v);
      expectSubscriptions(pics.subscriptions).toBe(subs);
    });
  });

  it('per subscription: a viewer that subscribes later does not inherit another one’s resync', () => {
    testScheduler().run((helpers) => {
      const { hot, expectObservable, expectSubscriptions } = helpers;
      const pics = hot('   -A-b-c-d-e-F-g-|', v);
      const slow = '       --1-0-----------';
      const first = '      ^-------!';
      const firstGets = '  -A-------';
      const second = '     --------^';
      const secondGets = ' ---------e-F-g-|';
      const t = viewer(helpers, slow);
      expectObservable(pics.pipe(t.op), first).toBe(firstGets, v);
      expectObservable(pics.pipe(t.op), second).toBe(secondGets, v);
      expectSubscriptions(pics.subscriptions).toBe([first, '--------^------!']);
    });
  });
});

describe('gateStep (the slow-viewer rule both dropWhileSlow and deliver use)', () => {
  it.each([
    // resyncing, slow, keyframe → step, resyncing after
    [false, false, false, 'send', false],
    [false, false, true, 'send', false],
    [false, true, false, 'slow', true],
    [false, true, true, 'slow', true],
    [true, true, true, 'slow', true],
    [true, false, false, 'resync', true],
    [true, false, true, 'resume', false],
  ] as const)('resyncing %s, slow %s, keyframe %s: %s', (resyncing, slow, keyframe, step, after) => {
    expect(gateStep(resyncing, slow, keyframe)).toBe(step);
    expect(resyncingAfter(gateStep(resyncing, slow, keyframe))).toBe(after);
  });
});
