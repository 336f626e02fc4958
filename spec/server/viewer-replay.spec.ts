import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { NEVER, concat, of } from 'rxjs';
import type WebSocket from 'ws';
import type { Gop } from '../../src/operators/gop-cache';
import type { MuxedPicture } from '../../src/picture';
import { Viewer } from '../../src/server/viewer';
import { pic, testFormat, withWire } from '../helpers/pictures';
import { wsPair } from '../helpers/ws-pair';

/** Counts the raw socket's single and vectored writes (what reaches the kernel as one call each). */
function countWrites(ws: WebSocket): { writes: number; writevs: number[] } {
  type Write = (chunk: unknown, encoding: BufferEncoding, cb: (error?: Error | null) => void) => void;
  type Writev = (chunks: { chunk: unknown; encoding: BufferEncoding }[], cb: (error?: Error | null) => void) => void;
  const socket = (ws as unknown as { _socket: Duplex & { _write: Write; _writev: Writev } })._socket;
  const counts = { writes: 0, writevs: [] as number[] };
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (chunk, encoding, cb) => {
    counts.writes++;
    write(chunk, encoding, cb);
  };
  socket._writev = (chunks, cb) => {
    counts.writevs.push(chunks.length);
    writev(chunks, cb);
  };
  return counts;
}

const options = { highWaterMark: 1 << 20, maxLagMs: 500, stuckMs: 10_000 };

describe('Viewer on a real socket: the GOP replayed to a joining viewer', () => {
  it('goes to the kernel in one vectored write of the shared frames, then each live picture on its own', async () => {
    const { server, client, close } = await wsPair();
    try {
      const gop: Gop<MuxedPicture> = Array.from({ length: 12 }, (_, i) => withWire(pic(i === 0 ? 'I' : 'P', i)));
      const counts = countWrites(server);
      const received: number[] = [];
      client.on('message', (data: Buffer) => received.push(data.length));
      const all = once(client, 'message').then(async () => {
        while (received.length < 12) await once(client, 'message');
      });
      const viewer = new Viewer(server, { ...options, format: testFormat, gops$: concat(of(gop), NEVER) });
      expect(counts).toEqual({ writes: 0, writevs: [12] });
      expect(viewer.stats.sent).toBe(12);
      await all;
      expect(received).toEqual(Array(12).fill(188));
      viewer.close(1000, 'done');
    } finally {
      await close();
    }
  });

  it('goes in parts when it is larger than half the high-water mark, so the backlog check still sees the socket', async () => {
    const { server, close } = await wsPair();
    try {
      const big = (i: number): MuxedPicture => ({ ...withWire(pic(i === 0 ? 'I' : 'P', i)), wire: Buffer.alloc(10_000) });
      const gop: Gop<MuxedPicture> = Array.from({ length: 10 }, (_, i) => big(i));
      const counts = countWrites(server);
      const viewer = new Viewer(server, { ...options, highWaterMark: 50_000, format: testFormat, gops$: concat(of(gop), NEVER) });
      // Half the mark (25 000 bytes) is passed at the third picture: those three leave at once, in one write.
      expect(counts.writevs[0]).toBe(3);
      expect(counts.writes + counts.writevs.length).toBeGreaterThan(1);
      expect(counts.writevs.reduce((a, b) => a + b, 0) + counts.writes).toBe(10);
      viewer.close(1000, 'done');
    } finally {
      await close();
    }
  });
});
