import { EventEmitter } from 'node:events';
import { ReplaySubject, Subject, interval, map, share } from 'rxjs';
import type WebSocket from 'ws';
import { gopCache } from '../../src/operators/gop-cache';
import type { MuxedPicture } from '../../src/picture';
import { ViewerServer, watchedFor } from '../../src/server/viewer-server';
import { pic, testFormat, withWire } from '../helpers/pictures';
import { statsHub } from '../helpers/stats-hub';
import { testScheduler } from '../helpers/test-scheduler';

/** Enough of a ws socket for the viewer server: records pings, closes and terminations at virtual times. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  readyState = 1;
  bufferedAmount = 0;
  readonly pings: number[] = [];
  readonly closes: { at: number; code: number; reason?: string }[] = [];
  terminatedAt: number | undefined;
  constructor(
    private readonly now: () => number,
    /** Whether this peer answers pings (a live browser) or not (a dead peer). */
    private readonly answers: boolean,
  ) {
    super();
  }
  ping(): void {
    this.pings.push(this.now());
    if (this.answers) this.emit('pong');
  }
  send(): void {}
  close(code: number, reason?: string): void {
    // A peer that never completes the closing handshake: the socket stays open until terminated.
    this.closes.push({ at: this.now(), code, ...(reason === undefined ? {} : { reason }) });
  }
  terminate(): void {
    if (this.terminatedAt !== undefined) return;
    this.terminatedAt = this.now();
    this.readyState = 3;
    this.emit('close', 1006, Buffer.alloc(0));
  }
}

function setup(heartbeatMs: number) {
  const scheduler = testScheduler();
  scheduler.maxFrames = 10_000;
  const server = new ViewerServer({
    hub: statsHub(),
    highWaterMark: 1024,
    maxLagMs: 500,
    stuckMs: 10_000,
    maxViewers: 10,
    heartbeatMs,
    allowOrigins: [],
    scheduler,
  });
  const socket = (answers: boolean): FakeSocket => {
    const ws = new FakeSocket(() => scheduler.now(), answers);
    server.adopt(ws as unknown as WebSocket, testFormat, '127.0.0.1');
    return ws;
  };
  return { scheduler, server, socket };
}

describe('ViewerServer timers (virtual time)', () => {
  it('heartbeat: pings every heartbeatMs and terminates a viewer that missed the previous pong', () => {
    const { scheduler, server, socket } = setup(100);
    const live = socket(true);
    const dead = socket(false);
    scheduler.schedule(() => server.close(0), 450);
    scheduler.flush();
    expect(live.pings).toEqual([100, 200, 300, 400]);
    // Pinged at 100, no pong by the next ping at 200: cut off then, without a closing handshake.
    expect(dead.pings).toEqual([100]);
    expect(dead.terminatedAt).toBe(200);
    expect(live.terminatedAt).toBe(450);
    expect(server.viewerCount).toBe(0);
  });

  it('heartbeat 0: never pings', () => {
    const { scheduler, server, socket } = setup(0);
    const quiet = socket(false);
    scheduler.schedule(() => server.close(0), 5000);
    scheduler.flush();
    expect(quiet.pings).toEqual([]);
    expect(quiet.terminatedAt).toBe(5000);
  });

  it('shutdown: closes every viewer with 1001 at once, cuts off those that do not finish within the grace, stops the heartbeat', () => {
    const { scheduler, server, socket } = setup(100);
    const a = socket(true);
    const b = socket(true);
    scheduler.schedule(() => server.close(1000), 250);
    scheduler.flush();
    for (const ws of [a, b]) {
      expect(ws.closes).toMatchObject([{ at: 250, code: 1001 }]);
      expect(ws.terminatedAt).toBe(1250);
      // No ping after the close began.
      expect(ws.pings).toEqual([100, 200]);
    }
    expect(server.viewerCount).toBe(0);
  });

  it('shutdown: once every viewer has finished its closing handshake, no cut-off timer is left behind', () => {
    const { scheduler, server, socket } = setup(0);
    const a = socket(true);
    const b = socket(true);
    scheduler.schedule(() => server.close(1000), 100);
    scheduler.schedule(() => a.emit('close', 1001, Buffer.alloc(0)), 150);
    scheduler.schedule(() => b.emit('close', 1001, Buffer.alloc(0)), 200);
    scheduler.flush();
    expect(scheduler.now()).toBe(200);
    expect(scheduler.actions).toHaveLength(0);
    for (const ws of [a, b]) expect(ws.terminatedAt).toBeUndefined();
    expect(server.viewerCount).toBe(0);
  });

  it('refuses new sockets beyond maxViewers with 1013, and counts every viewer it adopted', () => {
    const { server, socket } = setup(0);
    const sockets = Array.from({ length: 11 }, () => socket(true));
    expect(server.viewerCount).toBe(10);
    expect(sockets[10]!.closes).toMatchObject([{ at: 0, code: 1013, reason: 'too many viewers: try again later' }]);
    server.close(0);
  });
});

/** What the viewer server logged: level, message, and the fields JSON logs get. */
type Logged = { level: 'info' | 'warn'; message: string; details: Record<string, unknown> };

/** A viewer server over a hub that sends a keyframe every 100 ms (virtual time), logging into `lines`. */
function loggingSetup(options: { heartbeatMs?: number; maxViewers?: number } = {}) {
  const scheduler = testScheduler();
  scheduler.maxFrames = 1_000_000;
  const lines: Logged[] = [];
  const gops$ = interval(100, scheduler).pipe(
    map((i) => withWire(pic('I', i))),
    gopCache(),
  );
  const server = new ViewerServer({
    hub: { ...statsHub(), gops: () => gops$ },
    highWaterMark: 1024,
    maxLagMs: 500,
    stuckMs: 2000,
    maxViewers: options.maxViewers ?? 10,
    heartbeatMs: options.heartbeatMs ?? 0,
    allowOrigins: [],
    scheduler,
    log: (level, message, details = {}) => lines.push({ level, message, details: details as Record<string, unknown> }),
  });
  const socket = (answers = true): FakeSocket => {
    const ws = new FakeSocket(() => scheduler.now(), answers);
    server.adopt(ws as unknown as WebSocket, testFormat, '192.0.2.7');
    return ws;
  };
  return { scheduler, server, socket, lines, messages: () => lines.map((l) => l.message) };
}

describe('ViewerServer log lines: one self-contained line per event', () => {
  it('joined: the path, the address and how many watch; the same facts as fields', () => {
    const { server, socket, lines } = loggingSetup();
    socket();
    socket();
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'viewer joined /test 192.0.2.7 (1 watching)',
        details: { format: 'test', path: '/test', address: '192.0.2.7', viewers: 1 },
      },
      { level: 'info', message: 'viewer joined /test 192.0.2.7 (2 watching)', details: expect.objectContaining({ viewers: 2 }) },
    ]);
    server.close(0);
  });

  it('left as too slow: how long it watched, the close code and reason, and who still watches', () => {
    const { scheduler, server, socket, lines } = loggingSetup();
    socket(); // a viewer that keeps watching
    const slow = socket();
    // Acks picture 1 once, then never again: slow from 600 ms on, closed as too slow 2 s later; it never answers
    // the close, so it is cut off 2 s after that.
    scheduler.schedule(() => slow.emit('message', Buffer.from('{"type":"ack","frames":1}'), false), 150);
    scheduler.schedule(() => server.close(0), 60_000);
    scheduler.flush();
    const left = lines.filter((l) => l.message.startsWith('viewer left'));
    expect(left[0]).toEqual({
      level: 'info',
      message: expect.stringMatching(/^viewer left \/test 192\.0\.2\.7 after \d\.\d s, 1008 too slow \(1 watching\)$/),
      details: expect.objectContaining({
        format: 'test',
        address: '192.0.2.7',
        closeCode: 1008,
        closed: '1008 too slow',
        viewers: 1,
        sent: expect.any(Number),
      }),
    });
    expect(left[1]!.message).toBe('viewer left /test 192.0.2.7 after 1 min, 1001 server shutting down (0 watching)');
    expect(left[1]!.details).toMatchObject({ durationMs: 60_000, closeCode: 1001 });
  });

  it('left on its own, dropped, or silent to pings: says which', () => {
    const { scheduler, server, socket, messages } = loggingSetup({ heartbeatMs: 1000 });
    const closing = socket();
    const dropped = socket();
    socket(false); // never answers a ping: cut off at the second one
    scheduler.schedule(() => closing.emit('close', 1001, Buffer.from('')), 42_000);
    scheduler.schedule(() => dropped.emit('close', 1006, Buffer.from('')), 125_000);
    scheduler.schedule(() => server.close(0), 200_000);
    scheduler.flush();
    expect(messages().filter((m) => m.startsWith('viewer left'))).toEqual([
      'viewer left /test 192.0.2.7 after 2 s, no answer to ping (2 watching)',
      'viewer left /test 192.0.2.7 after 42 s, closed by the viewer (1001) (1 watching)',
      'viewer left /test 192.0.2.7 after 2 min 5 s, connection lost (0 watching)',
    ]);
  });

  it('refused beyond maxViewers: a warning naming the code', () => {
    const { server, socket, lines } = loggingSetup({ maxViewers: 1 });
    socket();
    socket();
    expect(lines[1]).toEqual({
      level: 'warn',
      message: 'viewer refused /test 192.0.2.7, 1013 too many viewers (1 watching, the most allowed)',
      details: expect.objectContaining({ address: '192.0.2.7', closeCode: 1013, viewers: 1 }),
    });
    server.close(0);
  });
});

describe('watchedFor()', () => {
  it.each([
    [0, '0 s'],
    [400, '0.4 s'],
    [9_940, '9.9 s'],
    [42_000, '42 s'],
    [125_000, '2 min 5 s'],
    [60_000, '1 min'],
    [3_600_000, '1 h'],
    [7_800_000, '2 h 10 min'],
  ])('%d ms is %s', (ms, text) => {
    expect(watchedFor(ms)).toBe(text);
  });
});

describe('ViewerServer: viewers per address', () => {
  function capped(maxViewersPerAddress: number) {
    const scheduler = testScheduler();
    const server = new ViewerServer({
      hub: statsHub(),
      highWaterMark: 1024,
      maxLagMs: 500,
      stuckMs: 10_000,
      maxViewers: 100,
      maxViewersPerAddress,
      heartbeatMs: 0,
      allowOrigins: [],
      scheduler,
    });
    const open = (address: string, path = testFormat.path): FakeSocket => {
      const ws = new FakeSocket(() => scheduler.now(), true);
      server.adopt(ws as unknown as WebSocket, testFormat, address, path);
      return ws;
    };
    return { server, open };
  }

  it('closes one more viewer from an address already at the cap with 1013 and the reason, over every path', () => {
    const { server, open } = capped(2);
    open('10.0.0.1', '/stream');
    open('10.0.0.1', '/h264');
    const third = open('10.0.0.1', '/fmp4');
    expect(third.closes).toMatchObject([{ code: 1013, reason: 'too many viewers from your address (2 at most)' }]);
    expect(server.viewerCount).toBe(2);
    // Another address is not held back by it.
    expect(open('10.0.0.2').closes).toEqual([]);
    expect(server.viewerCount).toBe(3);
  });

  it('takes a viewer from that address again once one of its viewers has left (the count follows closes)', () => {
    const { server, open } = capped(1);
    const first = open('10.0.0.1');
    first.terminate();
    expect(server.viewerCount).toBe(0);
    expect(open('10.0.0.1').closes).toEqual([]);
  });

  it('0 turns the cap off', () => {
    const { server, open } = capped(0);
    for (let i = 0; i < 20; i++) open('10.0.0.1');
    expect(server.viewerCount).toBe(20);
  });
});

/** A socket that records the bytes each send was given (the objects, not copies). */
class RecordingSocket extends FakeSocket {
  readonly payloads: Buffer[] = [];
  override send(bytes?: Buffer): void {
    this.payloads.push(bytes!);
  }
}

describe('ViewerServer: what each viewer holds (a server holds thousands)', () => {
  /** A server on a hub whose GOP updates are shared as the real hub shares them; `gops` counts its callers. */
  function sharedSetup() {
    const scheduler = testScheduler();
    const pictures = new Subject<MuxedPicture>();
    const gops$ = pictures.pipe(gopCache(), share({ connector: () => new ReplaySubject(1) }));
    const hub = { ...statsHub(), gops: jest.fn(() => gops$) };
    const server = new ViewerServer({
      hub,
      highWaterMark: 1 << 20,
      maxLagMs: 500,
      stuckMs: 10_000,
      maxViewers: 10,
      heartbeatMs: 0,
      allowOrigins: [],
      scheduler,
    });
    const join = (): RecordingSocket => {
      const ws = new RecordingSocket(() => scheduler.now(), true);
      server.adopt(ws as unknown as WebSocket, testFormat, '127.0.0.1');
      return ws;
    };
    return { server, hub, pictures, join };
  }

  it('replays the one shared GOP to each joining viewer: the same buffers, never a copy per viewer', () => {
    const { server, pictures, join } = sharedSetup();
    const first = join();
    const gop = [withWire(pic('I', 0)), withWire(pic('P', 1)), withWire(pic('P', 2))];
    for (const picture of gop) pictures.next(picture);
    const late = join();
    const later = join();
    const next = withWire(pic('P', 3));
    pictures.next(next);
    const wires = [...gop, next].map((p) => p.wire);
    for (const ws of [first, late, later]) {
      expect(ws.payloads).toHaveLength(wires.length);
      ws.payloads.forEach((bytes, i) => expect(bytes).toBe(wires[i]));
    }
    server.close(0);
  });

  it("shares its format's stream and options and its socket listeners among viewers: no closures per viewer", () => {
    const { server, hub, join } = sharedSetup();
    const [a, b] = [join(), join()];
    expect(hub.gops).toHaveBeenCalledTimes(1);
    for (const event of ['message', 'close', 'pong', 'error']) {
      expect(a.listeners(event)).toHaveLength(1);
      expect(b.listeners(event)[0]).toBe(a.listeners(event)[0]);
    }
    const [va, vb] = [...server.viewers];
    expect(va!['options']).toBe(vb!['options']);
    server.close(0);
  });

  it('answers the heartbeat through the shared pong listener', () => {
    const { server, join } = sharedSetup();
    const ws = join();
    const [viewer] = [...server.viewers];
    viewer!.alive = false;
    ws.emit('pong');
    expect(viewer!.alive).toBe(true);
    server.close(0);
  });
});
