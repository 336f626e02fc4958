import { take } from 'rxjs';
import { deliver, Delivery } from '../../src/operators/deliver';
import type { Gop } from '../../src/operators/gop-cache';
import type { Picture } from '../../src/picture';
import { pictures } from '../helpers/pictures';
import { testScheduler } from '../helpers/test-scheduler';

// Marble letters for pictures: upper case = keyframe, lower case = P picture. The source is the hub's GOP cache:
// each value is the GOP after one more picture, named by that picture (`c` = [A, b, c]).
const v = pictures('AbcDefGh');
const { A, b, c, D, e, f, G, h } = v as Record<string, Picture>;
const g: Record<string, Gop<Picture>> = {
  A: [A!], b: [A!, b!], c: [A!, b!, c!], D: [D!], e: [D!, e!], f: [D!, e!, f!], G: [G!], h: [G!, h!],
};

/** A viewer whose slowness follows `state` (set by the test's hot marble): undefined, or the reason. */
function viewer() {
  const state: { slow: 'lag' | 'backlog' | undefined } = { slow: undefined };
  const drops: string[] = [];
  const resyncs: string[] = [];
  const letter = (p: Picture) => Object.keys(v).find((k) => v[k] === p)!;
  const op = deliver<Picture, 'lag' | 'backlog'>({
    slowReason: () => state.slow,
    onDrop: (p, reason) => drops.push(`${letter(p)}:${reason}`),
    onResync: (p) => resyncs.push(letter(p)),
  });
  return { state, drops, resyncs, op };
}

describe('deliver (one subscriber per viewer)', () => {
  it('never: emits nothing and stays subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const gops = cold<Gop<Picture>>('-');
      expectObservable(gops.pipe(viewer().op)).toBe('-');
      expectSubscriptions(gops.subscriptions).toBe('^');
    });
  });

  it('empty: completes at once', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Gop<Picture>>('|').pipe(viewer().op)).toBe('|');
    });
  });

  it('values: a viewer joining mid-GOP gets the GOP from its keyframe at once, then each newest picture', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      // Joins at 4: the first update it sees (c, at 5) is the whole GOP so far, replayed at once.
      const gops = hot('-A-b-c-------D-e-|', g);
      expectObservable(gops.pipe(viewer().op), '----^').toBe('-----(Abc)---D-e-|', v);
      expectSubscriptions(gops.subscriptions).toBe('----^------------!');
    });
  });

  it('values: starts at a keyframe even if the first GOP update does not begin with one', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const partial: Record<string, Gop<Picture>> = { x: [b!, c!], D: [D!], e: [D!, e!] };
      expectObservable(cold('-x-D-e-|', partial).pipe(viewer().op)).toBe('---D-e-|', v);
    });
  });

  it('values: slow drops whole pictures with the reason given; caught up, it drops until a keyframe, then resumes', () => {
    const t = viewer();
    testScheduler().run(({ hot, cold, expectObservable }) => {
      hot('--l---k-0-----').subscribe((s) => (t.state.slow = s === 'l' ? 'lag' : s === 'k' ? 'backlog' : undefined));
      const gops = cold('-A-b-c-D-e-f-G-h-|', g);
      expectObservable(gops.pipe(t.op)).toBe('-A-----------G-h-|', v);
    });
    expect(t.drops).toEqual(['b:lag', 'c:lag', 'D:backlog', 'e:resync', 'f:resync']);
    expect(t.resyncs).toEqual(['G']);
  });

  it('values: caught up just before a keyframe, it resumes there without resync drops', () => {
    const t = viewer();
    testScheduler().run(({ hot, cold, expectObservable }) => {
      hot('--l---0').subscribe((s) => (t.state.slow = s === 'l' ? 'lag' : undefined));
      expectObservable(cold('-A-b-c-D-e-|', g).pipe(t.op)).toBe('-A-----D-e-|', v);
    });
    expect(t.drops).toEqual(['b:lag', 'c:lag']);
    expect(t.resyncs).toEqual(['D']);
  });

  it('error: passed on, also while dropping', () => {
    const t = viewer();
    testScheduler().run(({ hot, cold, expectObservable }) => {
      hot('--l').subscribe(() => (t.state.slow = 'lag'));
      expectObservable(cold('-A-b-#', g).pipe(t.op)).toBe('-A---#', v);
    });
  });

  it('error: a slowReason that throws errors this viewer’s stream only, and unsubscribes it', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const gops = hot('-A-b-c-|', g);
      let n = 0;
      const failing = deliver<Picture>({
        slowReason: () => {
          if (++n === 2) throw new Error('socket gone');
          return undefined;
        },
      });
      expectObservable(gops.pipe(failing)).toBe('-A-#', v, new Error('socket gone'));
      expectObservable(gops.pipe(viewer().op)).toBe('-A-b-c-|', v);
      expectSubscriptions(gops.subscriptions).toBe(['^--!', '^------!']);
    });
  });

  it('never-ending: keeps deciding per picture, never completes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-A-b-c-D-e-f-G-h-', g).pipe(viewer().op)).toBe('-A-b-c-D-e-f-G-h-', v);
    });
  });

  it('early unsubscribe: releases the source at once, also in the middle of a GOP replay', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const gops = hot('-A-b-c-D-|', g);
      const sub = '     ^----!';
      expectObservable(gops.pipe(viewer().op), sub).toBe('-A-b-', v);
      expectSubscriptions(gops.subscriptions).toBe(sub);
    });
    // take(1) while the joining GOP is replayed: the rest of the replay is not offered.
    const offered: number[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const op = deliver<Picture>({ slowReason: (p) => void offered.push(p.seq) });
      expectObservable(cold('-c-|', g).pipe(op, take(1))).toBe('-(A|)', v);
    });
    expect(offered).toEqual([0]);
  });
});

describe('Delivery (the observer deliver() is built on, which a Viewer subscribes directly)', () => {
  it('sends to its sink what the operator would emit, and stops a replay once the sink is closed', () => {
    const sent: string[] = [];
    const sink = { closed: false, next: (p: Picture) => sent.push(p.keyframe ? 'K' : 'p'), error: () => sent.push('error'), complete: () => sent.push('complete') };
    const delivery = new Delivery<Picture>(sink, { slowReason: () => undefined });
    delivery.next(g['c']!);
    delivery.next(g['D']!);
    expect(sent).toEqual(['K', 'p', 'p', 'K']);
    // A second viewer whose sink closes on its first picture: the rest of the joining GOP is not sent.
    const closing = { ...sink, next: () => ((closing.closed = true), sent.push('first')) };
    new Delivery<Picture>(closing, { slowReason: () => undefined }).next(g['c']!);
    expect(sent.slice(4)).toEqual(['first']);
    delivery.complete();
    expect(sent.at(-1)).toBe('complete');
  });
});
