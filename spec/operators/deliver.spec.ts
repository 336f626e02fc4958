import { Observable, Subject, config, take } from 'rxjs';
import { deliver, Delivery, DeliverySubscriber } from '../../src/operators/deliver';
import type { Gop } from '../../src/operators/gop-cache';
import type { Picture } from '../../src/picture';
import { pictures } from '../helpers/pictures';
import { testScheduler } from '../helpers/test-scheduler';

// Marble letters for pictures: upper case = keyframe, lower case = P picture. The source is the hub's GOP cache:
// each value is the GOP after one more picture, named by that picture (`c` = [A, b, c]).
const v = pictures('AbcDefGh');
const { A, b, c, D, e, f, G, h } = v as Record<string, Picture>;
const g: Record<string, Gop<Picture>> = {
  A: [A!],
  b: [A!, b!],
  c: [A!, b!, c!],
  D: [D!],
  e: [D!, e!],
  f: [D!, e!, f!],
  G: [G!],
  h: [G!, h!],
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

describe('Delivery (the subscriber deliver() is built on, used directly)', () => {
  it('sends to its sink what the operator would emit, and stops a replay once the sink is closed', () => {
    const sent: string[] = [];
    const sink = {
      closed: false,
      next: (p: Picture) => sent.push(p.keyframe ? 'K' : 'p'),
      error: () => sent.push('error'),
      complete: () => sent.push('complete'),
    };
    const delivery = new Delivery<Picture>(sink, { slowReason: () => undefined });
    delivery.next(g['c']!);
    delivery.next(g['D']!);
    expect(sent).toEqual(['K', 'p', 'p', 'K']);
    // A second viewer whose sink closes on its first picture: the rest of the joining GOP is not sent.
    const closing = { ...sink, next: () => ((closing.closed = true), sent.push('first')) };
    const stopped = new Delivery<Picture>(closing, { slowReason: () => undefined });
    stopped.next(g['c']!);
    expect(sent.slice(4)).toEqual(['first']);
    expect(stopped.closed).toBe(true);
    delivery.complete();
    expect(sent.at(-1)).toBe('complete');
    // Ended: unsubscribed, and deaf to anything after.
    expect(delivery.closed).toBe(true);
    delivery.next(g['e']!);
    delivery.error(new Error('late'));
    expect(sent.at(-1)).toBe('complete');
  });
});

/** A DeliverySubscriber that records what it sends; `throwOn` makes its send throw at that picture's seq. */
class Recorder extends DeliverySubscriber<Picture> {
  readonly sent: number[] = [];
  readonly ends: string[] = [];
  constructor(
    private readonly throwOn = -1,
    private readonly failThrows = false,
  ) {
    super();
  }
  protected slowReason(): undefined {
    return undefined;
  }
  protected send(picture: Picture): void {
    if (picture.seq === this.throwOn) throw new Error(`send ${picture.seq} failed`);
    this.sent.push(picture.seq);
  }
  protected failed(err: unknown): void {
    this.ends.push(`failed: ${(err as Error).message}`);
    if (this.failThrows) throw new Error('failed() threw');
  }
  protected ended(): void {
    this.ends.push('ended');
  }
}

describe('DeliverySubscriber (one object per viewer, subscribed as it is)', () => {
  it('is subscribed without a wrapper: the Subject calls it directly and subscribe() returns it', () => {
    const gops = new Subject<Gop<Picture>>();
    const recorder = new Recorder();
    let subscribedWith: unknown;
    const source = new Observable<Gop<Picture>>((subscriber) => {
      subscribedWith = subscriber;
      return gops.subscribe(subscriber);
    });
    // Were it wrapped in a SafeSubscriber, each picture would pass two more objects for every viewer.
    expect(source.subscribe(recorder)).toBe(recorder);
    expect(subscribedWith).toBe(recorder);
    gops.next(g['c']!);
    gops.next(g['D']!);
    expect(recorder.sent).toEqual([A!.seq, b!.seq, c!.seq, D!.seq]);
    // Unsubscribing it releases the source.
    recorder.unsubscribe();
    expect(gops.observed).toBe(false);
  });

  it('a throwing hook ends that viewer only: the others on the same Subject go on', () => {
    const gops = new Subject<Gop<Picture>>();
    const failing = new Recorder(b!.seq);
    const others = [new Recorder(), new Recorder()];
    gops.subscribe(others[0]!);
    gops.subscribe(failing);
    gops.subscribe(others[1]!);
    for (const gop of [g['A']!, g['b']!, g['c']!]) gops.next(gop);
    expect(failing.sent).toEqual([A!.seq]);
    expect(failing.ends).toEqual([`failed: send ${b!.seq} failed`]);
    expect(failing.closed).toBe(true);
    for (const other of others) expect(other.sent).toEqual([A!.seq, b!.seq, c!.seq]);
    gops.complete();
    for (const other of others) expect(other.ends).toEqual(['ended']);
    expect(failing.ends).toHaveLength(1);
  });

  it('an error thrown by failed() itself is reported as unhandled, never into the Subject', () => {
    jest.useFakeTimers();
    const reported: unknown[] = [];
    const previous = config.onUnhandledError;
    config.onUnhandledError = (err) => reported.push(err);
    try {
      const gops = new Subject<Gop<Picture>>();
      const failing = new Recorder(A!.seq, true);
      const other = new Recorder();
      gops.subscribe(failing);
      gops.subscribe(other);
      gops.next(g['A']!);
      expect(other.sent).toEqual([A!.seq]);
      expect(failing.closed).toBe(true);
      jest.runAllTimers();
      expect(reported).toEqual([new Error('failed() threw')]);
    } finally {
      config.onUnhandledError = previous;
      jest.useRealTimers();
    }
  });
});
