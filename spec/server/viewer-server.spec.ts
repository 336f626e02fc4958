import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { ViewerServer } from '../../src/server/viewer-server';
import { testFormat } from '../helpers/pictures';
import { statsHub } from '../helpers/stats-hub';
import { testScheduler } from '../helpers/test-scheduler';

/** Enough of a ws socket for the viewer server: records pings, closes and terminations at virtual times. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  readyState = 1;
  bufferedAmount = 0;
  readonly pings: number[] = [];
  readonly closes: { at: number; code: number }[] = [];
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
  close(code: number): void {
    // A peer that never completes the closing handshake: the socket stays open until terminated.
    this.closes.push({ at: this.now(), code });
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
      expect(ws.closes).toEqual([{ at: 250, code: 1001 }]);
      expect(ws.terminatedAt).toBe(1250);
      // No ping after the close began.
      expect(ws.pings).toEqual([100, 200]);
    }
    expect(server.viewerCount).toBe(0);
  });

  it('refuses new sockets beyond maxViewers with 1013, and counts every viewer it adopted', () => {
    const { server, socket } = setup(0);
    const sockets = Array.from({ length: 11 }, () => socket(true));
    expect(server.viewerCount).toBe(10);
    expect(sockets[10]!.closes).toEqual([{ at: 0, code: 1013 }]);
    server.close(0);
  });
});
