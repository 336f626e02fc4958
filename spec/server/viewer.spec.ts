import { EventEmitter } from 'node:events';
import { concat, interval, map, NEVER, Observable, Subject, take, timer, type SchedulerLike } from 'rxjs';
import type WebSocket from 'ws';
import type { MuxedSound } from '../../src/formats/wire-format';
import type { MuxedPicture } from '../../src/picture';
import { DEFAULTS, LIMITS } from '../../src/defaults';
import { gopCache, type Gop } from '../../src/operators/gop-cache';
import { soundMessage } from '../../src/server/control-message';
import { Viewer, type ViewerOptions } from '../../src/server/viewer';
import { pic, testFormat, withWire } from '../helpers/pictures';
import { testScheduler } from '../helpers/test-scheduler';

/** Pictures every 100 ms of virtual time, a keyframe every `gop`; picture i is seq i. */
const FRAME_MS = 100;

/** Just enough of a ws socket for a Viewer: records sends and closes, with a settable bufferedAmount. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: { at: number; seq: number }[] = [];
  readonly closes: { at: number; code: number; reason: string }[] = [];
  terminatedAt: number | undefined;
  constructor(
    private readonly now: () => number,
    private readonly seqOf: Map<Buffer, number>,
  ) {
    super();
  }
  send(bytes: Buffer): void {
    this.sent.push({ at: this.now(), seq: this.seqOf.get(bytes)! });
  }
  close(code: number, reason: string): void {
    this.readyState = 2;
    this.closes.push({ at: this.now(), code, reason });
  }
  terminate(): void {
    this.terminatedAt = this.now();
    this.readyState = 3;
    this.emit('close', 1006, Buffer.alloc(0));
  }
  /** The page's ack, as the viewer page sends it. */
  ack(frames: number): void {
    this.emit('message', Buffer.from(JSON.stringify({ type: 'ack', frames })), false);
  }
}

/**
 * A Viewer on a fake socket in virtual time: `count` pictures, one every 100 ms, keyframes every `gop`.
 * `at(ms, fn)` runs a step (an ack, a change of backlog) at a virtual time; `run()` flushes everything.
 */
function setup(count: number, gop: number, options: Partial<ViewerOptions> = {}, ends = true, sound?: SoundTimes) {
  const scheduler = testScheduler();
  // Outside run(), a TestScheduler stops at 750 virtual ms; these runs last seconds.
  scheduler.maxFrames = 60_000;
  const seqOf = new Map<Buffer, number>();
  const pictures = Array.from({ length: count }, (_, i) => {
    const p = withWire(pic(i % gop === 0 ? 'I' : 'P', i));
    seqOf.set(p.wire, i);
    return p;
  });
  const pictures$: Observable<MuxedPicture> = interval(FRAME_MS, scheduler).pipe(
    take(count),
    map((i) => pictures[i]!),
    (pictures$) => (ends ? pictures$ : concat(pictures$, NEVER)),
  );
  const socket = new FakeSocket(() => scheduler.now(), seqOf);
  const sound$ = sound && soundMessages(sound, scheduler, seqOf);
  const acks: number[] = [];
  let viewer!: Viewer;
  scheduler.schedule(() => {
    viewer = new Viewer(socket as unknown as WebSocket, {
      format: testFormat,
      gops$: pictures$.pipe(gopCache()),
      highWaterMark: 1024,
      maxLagMs: 500,
      stuckMs: 2000,
      scheduler,
      onAck: (ms) => acks.push(ms),
      ...(sound$ ? { sound$ } : {}),
      ...options,
    });
  });
  const at = (ms: number, step: () => void): void => void scheduler.schedule(step, ms);
  /** Acks every picture sent so far, as a page that keeps up does. */
  const ackAll = (): void => socket.ack(socket.sent.length);
  return { scheduler, socket, acks, at, ackAll, viewer: () => viewer, run: () => scheduler.flush() };
}

/** Sound messages sent apart from pictures: `count` of them, the first at `firstMs`, then every `everyMs`. */
interface SoundTimes {
  readonly firstMs: number;
  readonly everyMs: number;
  readonly count: number;
}

/** The sound messages of `times`, message i recorded by the fake socket as seq `SOUND_SEQ + i`. */
const SOUND_SEQ = 1000;
function soundMessages(times: SoundTimes, scheduler: SchedulerLike, seqOf: Map<Buffer, number>): Observable<MuxedSound> {
  return timer(times.firstMs, times.everyMs, scheduler).pipe(
    take(times.count),
    map((i) => {
      const wire = Buffer.alloc(188, i);
      seqOf.set(wire, SOUND_SEQ + i);
      return { wire, capturedAt: scheduler.now(), format: testFormat.id };
    }),
  );
}

describe('Viewer: latency-bounded delivery (virtual time, fake socket)', () => {
  it("sends every picture to a viewer that keeps up, and reports each ack's lag", () => {
    const t = setup(30, 10);
    // A page that acks 50 ms after each picture arrives.
    for (let i = 1; i <= 30; i++) t.at(i * FRAME_MS + 50, t.ackAll);
    t.run();
    expect(t.socket.sent.map((s) => s.seq)).toEqual([...Array(30).keys()]);
    expect(t.viewer().stats).toMatchObject({ sent: 30, dropped: { lag: 0, backlog: 0, resync: 0 }, resyncs: 0, acked: 30 });
    expect(t.acks).toHaveLength(30);
    expect(new Set(t.acks)).toEqual(new Set([50]));
    // The stream ended: closed as such, not as too slow.
    expect(t.socket.closes).toEqual([{ at: 3000, code: 1001, reason: 'stream ended' }]);
  });

  it("sends the format's preamble once, before the first picture, built from that keyframe, and does not count it as a picture", () => {
    const preamble = Buffer.from('jsmp\x02\x80\x01\xe0', 'latin1');
    const firstPictures: number[] = [];
    const format = { ...testFormat, preamble: (first: { seq: number }) => (firstPictures.push(first.seq), preamble) };
    const t = setup(12, 10, { format });
    t.run();
    // undefined: the preamble is no picture's bytes.
    expect(t.socket.sent.map((s) => s.seq)).toEqual([undefined, ...Array(12).keys()]);
    expect(firstPictures).toEqual([0]);
    expect(t.viewer().stats.sent).toBe(12);
    expect(t.viewer().stats.bytes).toBe(preamble.length + 12 * 188);
  });

  it('never judges a viewer that never acks by lag (legacy clients cannot)', () => {
    const t = setup(150, 10);
    t.run();
    expect(t.viewer().stats.sent).toBe(150);
    expect(t.viewer().stats.dropped).toEqual({ lag: 0, backlog: 0, resync: 0 });
    expect(t.viewer().stats.acked).toBe(-1);
  });

  it('drops whole pictures once the ack lag passes maxLagMs, and resumes at the next keyframe after catching up', () => {
    const t = setup(40, 10);
    // Picture i is sent at (i + 1) * 100 ms. The page keeps up for 5 pictures, freezes, then from 1550 ms acks
    // everything it got every 100 ms again.
    for (let i = 1; i <= 5; i++) t.at(i * FRAME_MS + 10, t.ackAll);
    for (let ms = 1550; ms < 4200; ms += FRAME_MS) t.at(ms, t.ackAll);
    t.run();
    const seqs = t.socket.sent.map((s) => s.seq);
    // Picture 5 (sent at 600) is unacknowledged from then on: at 1200 it has waited 600 ms > 500, so pictures
    // 11…14 are dropped as lag; after the ack at 1550, 15…19 wait for the keyframe 20 (resync).
    expect(seqs).toEqual([...Array.from({ length: 11 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 20 + i)]);
    const { stats } = t.viewer();
    expect(stats.dropped).toEqual({ lag: 4, backlog: 0, resync: 5 });
    expect(stats.resyncs).toBe(1);
    expect(t.socket.closes.map((c) => c.code)).toEqual([1001]);
  });

  it('drops on a socket backlog above the high-water mark, counted as backlog', () => {
    const t = setup(30, 10);
    t.at(450, () => (t.socket.bufferedAmount = 4096));
    t.at(750, () => (t.socket.bufferedAmount = 0));
    t.run();
    expect(t.socket.sent.map((s) => s.seq)).toEqual([0, 1, 2, 3, ...Array.from({ length: 20 }, (_, i) => 10 + i)]);
    expect(t.viewer().stats.dropped).toEqual({ lag: 0, backlog: 3, resync: 3 });
  });

  it('sends each sound message the moment it comes, between the pictures, once the first picture has gone', () => {
    // Pictures at 100, 200, … 1000 ms; sound every 50 ms from 10 ms: none of it at a picture's time.
    const t = setup(10, 10, {}, true, { firstMs: 10, everyMs: 50, count: 20 });
    t.run();
    const sound = t.socket.sent.filter((s) => s.seq >= SOUND_SEQ);
    // 10 and 60 come before the first picture (its keyframe brings the tables that declare the sound): not sent.
    expect(sound.map((s) => s.seq - SOUND_SEQ)).toEqual(Array.from({ length: 18 }, (_, i) => i + 2));
    // Each went out at its own time, not with the next picture.
    expect(sound.map((s) => s.at)).toEqual(Array.from({ length: 18 }, (_, i) => 10 + (i + 2) * 50));
    expect(t.socket.sent.filter((s) => s.seq < SOUND_SEQ).map((s) => s.seq)).toEqual([...Array(10).keys()]);
    expect(t.viewer().stats).toMatchObject({ sent: 10, soundSent: 18, soundDropped: 0 });
    expect(t.viewer().stats.bytes).toBe(28 * 188);
  });

  it("drops a slow viewer's sound (counted), and sends it again once it keeps up, while its pictures wait for a keyframe", () => {
    const t = setup(15, 10, {}, true, { firstMs: 10, everyMs: 50, count: 30 });
    t.at(450, () => (t.socket.bufferedAmount = 4096));
    t.at(750, () => (t.socket.bufferedAmount = 0));
    t.run();
    // Pictures as without sound: 4, 5, 6 dropped as backlog, 7, 8, 9 waiting for the keyframe 10 (at 1100 ms).
    expect(t.socket.sent.filter((s) => s.seq < SOUND_SEQ).map((s) => s.seq)).toEqual([
      0,
      1,
      2,
      3,
      ...Array.from({ length: 5 }, (_, i) => 10 + i),
    ]);
    expect(t.viewer().stats.dropped).toEqual({ lag: 0, backlog: 3, resync: 3 });
    const soundAt = t.socket.sent.filter((s) => s.seq >= SOUND_SEQ).map((s) => s.at);
    // Sent from the first picture to the backlog (110 … 410), dropped while the socket is backed up (460 … 710), and
    // sent again from the moment it drained (760 …), before the keyframe that resumes the pictures: no sound gap
    // longer than the backlog itself.
    const every50 = (from: number, to: number) => Array.from({ length: (to - from) / 50 + 1 }, (_, i) => from + i * 50);
    expect(soundAt).toEqual([...every50(110, 410), ...every50(760, 1460)]);
    expect(t.viewer().stats).toMatchObject({ soundSent: 22, soundDropped: 6 });
  });

  it('releases the sound with the pictures when the viewer closes', () => {
    const sound$ = new Subject<MuxedSound>();
    const t = setup(5, 10, { sound$ }, false);
    t.at(250, () => t.viewer().close(1000, 'bye'));
    t.run();
    expect(sound$.observed).toBe(false);
  });

  it('closes a viewer that stays slow for stuckMs with 1008 "too slow", and cuts it off if it never answers', () => {
    const t = setup(100, 10);
    t.at(110, t.ackAll); // acks once, then never again
    t.run();
    // Slow from picture 7 (at 800, picture 1, sent at 200, has waited 600 ms); closed stuckMs later, before the
    // picture due then: pictures 7…26 were dropped.
    expect(t.socket.closes).toEqual([{ at: 2800, code: 1008, reason: 'too slow' }]);
    expect(t.viewer().closeCode).toBe(1008);
    expect(t.socket.terminatedAt).toBe(2800 + DEFAULTS.slowCloseGraceMs);
    expect(t.viewer().stats).toMatchObject({ sent: 7, dropped: { lag: 20, backlog: 0, resync: 0 } });
    // Nothing was sent or judged after the close.
    expect(Math.max(...t.socket.sent.map((s) => s.at))).toBeLessThan(2800);
  });

  it('does not cut off a socket that finished its closing handshake, and leaves no timer behind', () => {
    const t = setup(100, 10);
    t.at(110, t.ackAll);
    t.at(2900, () => t.socket.emit('close', 1008, Buffer.from('too slow')));
    t.run();
    expect(t.socket.closes.map((c) => c.code)).toEqual([1008]);
    expect(t.socket.terminatedAt).toBeUndefined();
    expect(t.scheduler.actions).toHaveLength(0);
  });

  it('keeps a viewer whose slowness ends before stuckMs, and one whose pictures stopped while it caught up', () => {
    const t = setup(30, 10, { stuckMs: 1000 });
    t.at(110, t.ackAll);
    // Slow from 800; the page catches up at 1500 (before 1800): the timer is cleared by the next picture.
    t.at(1500, t.ackAll);
    t.run();
    expect(t.socket.closes.map((c) => c.code)).toEqual([1001]);
    expect(t.viewer().stats.dropped.lag).toBeGreaterThan(0);

    // Pictures stop at 1000 (the camera stalls) while the viewer is slow; it acks everything at 1200; the stuck
    // timer (due 1800) asks again rather than trusting the last verdict, and keeps it.
    const u = setup(10, 10, { stuckMs: 1000 }, false);
    u.at(110, u.ackAll);
    u.at(1200, u.ackAll);
    u.run();
    expect(u.viewer().stats.dropped.lag).toBe(3);
    expect(u.socket.closes).toEqual([]);
    expect(u.scheduler.actions).toHaveLength(0);
  });

  it('closes nobody for slowness with stuckMs 0, and judges by backlog only with maxLagMs 0', () => {
    const t = setup(200, 10, { stuckMs: 0 });
    t.at(110, t.ackAll);
    t.run();
    expect(t.socket.closes.map((c) => c.code)).toEqual([1001]);
    expect(t.viewer().stats.dropped.lag).toBeGreaterThan(150);

    const u = setup(50, 10, { maxLagMs: 0 });
    u.at(110, u.ackAll);
    u.run();
    expect(u.viewer().stats.sent).toBe(50);
  });

  it("is itself the subscriber of the hub's GOP updates (no wrapper per picture), and closing it releases them", () => {
    const gops = new Subject<Gop<MuxedPicture>>();
    let subscribedWith: unknown;
    const gops$ = new Observable<Gop<MuxedPicture>>((subscriber) => {
      subscribedWith = subscriber;
      return gops.subscribe(subscriber);
    });
    const socket = new FakeSocket(() => 0, new Map());
    const viewer = new Viewer(socket as unknown as WebSocket, {
      format: testFormat,
      gops$,
      highWaterMark: 1024,
      maxLagMs: DEFAULTS.maxLagMs,
      stuckMs: DEFAULTS.stuckMs,
    });
    expect(subscribedWith).toBe(viewer);
    expect(gops.observed).toBe(true);
    viewer.close(1001, 'going away');
    expect(gops.observed).toBe(false);
    expect(socket.closes).toEqual([{ at: 0, code: 1001, reason: 'going away' }]);
    // The socket's own close after ours changes nothing more.
    socket.emit('close', 1001, Buffer.alloc(0));
    expect(viewer.ending).toBe('1001 going away');
  });
});

describe('Viewer: sound on request beside the pictures (virtual time, fake socket)', () => {
  const SOUND_MS = 20;
  /** A format that sends its sound only to a viewer that asks (as `/h264` does). */
  const onRequest = { ...testFormat, soundOnRequest: true };
  /**
   * A viewer of 20 pictures (every 100 ms) with a sound stream of a frame every 20 ms, each captured `ageMs` before
   * it comes; sound messages are told from pictures by their seq (−1 − frame number). Counts subscriptions to it.
   */
  function withSound(ageMs = 40) {
    const seqOf = new Map<Buffer, number>();
    const subscribed: number[] = [];
    const unsubscribed: number[] = [];
    // The viewer's scheduler, known once `setup` made it (sound$ is only subscribed after that).
    const clock: { scheduler?: ReturnType<typeof setup>['scheduler'] } = {};
    const sound$ = new Observable<MuxedSound>((subscriber) => {
      const scheduler = clock.scheduler!;
      subscribed.push(scheduler.now());
      const frames = interval(SOUND_MS, scheduler).subscribe((i) => {
        const wire = Buffer.from([2, i & 0xff]);
        seqOf.set(wire, -1 - i);
        subscriber.next({ capturedAt: scheduler.now() - ageMs, wire, format: testFormat.id });
      });
      return () => {
        unsubscribed.push(scheduler.now());
        frames.unsubscribe();
      };
    });
    const t = setup(20, 10, { sound$, format: onRequest }, false);
    const scheduler = (clock.scheduler = t.scheduler);
    // The fake socket reads seqs from its own map: sound messages go into it as they are made.
    const send = t.socket.send.bind(t.socket);
    t.socket.send = (bytes: Buffer) => (
      seqOf.has(bytes) ? t.socket.sent.push({ at: scheduler.now(), seq: seqOf.get(bytes)! }) : send(bytes),
      undefined
    );
    const sound = (on: boolean): void => void t.socket.emit('message', Buffer.from(soundMessage(on)), false);
    const soundSent = () => t.socket.sent.filter((s) => s.seq < 0);
    return { ...t, sound, soundSent, subscribed, unsubscribed };
  }

  it('sends no sound and subscribes to none until the page asks', () => {
    const t = withSound();
    t.at(3000, () => t.viewer().close(1000, 'done'));
    t.run();
    expect(t.subscribed).toEqual([]);
    expect(t.soundSent()).toEqual([]);
    expect(t.socket.sent.filter((s) => s.seq >= 0)).toHaveLength(20);
  });

  it('once asked, sends each frame the moment it comes (not with the pictures), and stops when told', () => {
    const t = withSound();
    t.at(250, () => t.sound(true));
    t.at(650, () => t.sound(false));
    t.at(3000, () => t.viewer().close(1000, 'done'));
    t.run();
    expect(t.subscribed).toEqual([250]);
    expect(t.unsubscribed).toEqual([650]);
    // Frames every 20 ms from 270 to 650 (the one at 650 comes after the stop), each at its own time.
    expect(t.soundSent().map((s) => s.at)).toEqual(Array.from({ length: 19 }, (_, i) => 270 + i * SOUND_MS));
    // The pictures as without sound, and the sound counted apart from them.
    expect(t.socket.sent.filter((s) => s.seq >= 0).map((s) => s.seq)).toEqual([...Array(20).keys()]);
    expect(t.viewer().stats.sent).toBe(20);
    expect(t.viewer().stats).toMatchObject({ soundSent: 19, soundDropped: 0 });
  });

  it('drops sound (never queues it) while the socket is over its high-water mark, and sends on once it drains', () => {
    const t = withSound();
    t.at(250, () => t.sound(true));
    t.at(405, () => (t.socket.bufferedAmount = 4096));
    t.at(505, () => (t.socket.bufferedAmount = 0));
    t.at(600, () => t.viewer().close(1000, 'done'));
    t.run();
    const at = t.soundSent().map((s) => s.at);
    expect(at).toEqual([270, 290, 310, 330, 350, 370, 390, 510, 530, 550, 570, 590]);
    expect(t.viewer().stats).toMatchObject({ soundSent: 12, soundDropped: 5 });
    // Closing the viewer ends its sound.
    expect(t.unsubscribed).toEqual([600]);
  });

  it('drops frames older than LIMITS.maxSoundAgeMs (a starting encoder’s queued burst)', () => {
    const t = withSound(LIMITS.maxSoundAgeMs + 1);
    t.at(250, () => t.sound(true));
    t.at(400, () => t.viewer().close(1000, 'done'));
    t.run();
    expect(t.soundSent()).toEqual([]);
    expect(t.viewer().stats.soundDropped).toBe(7);
  });

  it('a second request while listening does not subscribe twice; a format without sound ignores requests', () => {
    const t = withSound();
    t.at(250, () => t.sound(true));
    t.at(300, () => t.sound(true));
    t.at(400, () => t.viewer().close(1000, 'done'));
    t.run();
    expect(t.subscribed).toEqual([250]);

    const silent = setup(5, 5, { format: onRequest }, false);
    silent.at(150, () => silent.socket.emit('message', Buffer.from(soundMessage(true)), false));
    silent.at(600, () => silent.viewer().close(1000, 'done'));
    silent.run();
    expect(silent.socket.closes).toEqual([{ at: 600, code: 1000, reason: 'done' }]);
    expect(silent.viewer().stats.soundSent).toBe(0);
  });
});
