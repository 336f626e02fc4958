import Hapi from '@hapi/hapi';
import WebSocket from 'ws';
import { pistreamPlugin } from '../../src/server/plugin';
import { ptsOf } from '../../src/formats/mpegts';
import type { Viewer } from '../../src/server/viewer';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';
import { demuxPes } from '../helpers/mpegts-demux';

const NORMAL = 20;
const PAUSED = 20;
/** Pictures every normal viewer must get in each phase (3 s at 24 fps). */
const WINDOW = 72;
const STUCK_MS = 1500;
/**
 * The normal viewers ack from this test's own process, which shares the CPU with the server: on a machine busy with
 * other work a stall of the whole process delays their acks (CI saw a normal viewer judged slow at 500 ms while the
 * machine's load was 20 on 2 cores). What is tested is that frozen viewers do not touch the others, so the bound is
 * wide enough for a stalled acker; the frozen ones pass it all the same, as they never ack again.
 */
const MAX_LAG_MS = 2000;
const MB = 1024 * 1024;
const PTS_WRAP = 2 ** 33;

/** Ms from a picture's capture (its PTS: capturedAt × 90 mod 2^33) to now. */
function deliveryDelay(message: Buffer): number {
  const pts = demuxPes(message)[0]!.pts!;
  let ticks = (ptsOf(Date.now()) - pts) % PTS_WRAP;
  if (ticks > PTS_WRAP / 2) ticks -= PTS_WRAP;
  if (ticks < -PTS_WRAP / 2) ticks += PTS_WRAP;
  return ticks / 90;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A raw ws client that counts pictures and keeps only their delivery delays (so the test holds no stream). */
interface Client {
  readonly ws: WebSocket;
  received: number;
  readonly delays: number[];
  /** Resolves once `received` reaches n. */
  until(n: number): Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The server-side viewer of this socket. */
  viewer: Viewer;
}

describe('latency-bounded delivery with real sockets: 20 frozen viewers beside 20 that keep up', () => {
  let server: Hapi.Server;
  let url: string;
  const clients: Client[] = [];
  const timers: NodeJS.Timeout[] = [];
  let baseline: Set<number>;

  beforeAll(async () => {
    baseline = new Set(ffmpegChildren());
    server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({
      plugin: pistreamPlugin,
      options: {
        source: { kind: 'test' },
        encoder: { width: 640, height: 480, fps: 24, gop: 12, bitrate: 800 },
        maxLagMs: MAX_LAG_MS,
        stuckMs: STUCK_MS,
        maxViewers: NORMAL + PAUSED,
        // All 40 come from 127.0.0.1 in two bursts a few seconds apart: the per-address upgrade limit (burst 20,
        // 5/s) would refuse some of the second burst whenever the first phase ends early. Not what this tests.
        upgradeRate: false,
        // ... and all from one address, past the per-address viewer cap.
        maxViewersPerAddress: 0,
        heartbeatMs: 0,
        formats: ['mpegts'],
        pages: false,
      },
    });
    await server.start();
    url = `ws://127.0.0.1:${server.info.port}/stream`;
  });

  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    for (const client of clients) client.ws.terminate();
    await server?.stop();
    await waitFor(() => ffmpegChildren().every((pid) => baseline.has(pid)), 'ffmpeg to exit');
  });

  async function open(): Promise<Client> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const waiters = new Set<() => void>();
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of waiters) wake();
      }),
    );
    const client: Client = {
      ws,
      received: 0,
      delays: [],
      closed,
      viewer: undefined as unknown as Viewer,
      until: (n) =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            if (client.received >= n) resolve();
            else if (ws.readyState === WebSocket.CLOSED) reject(new Error(`closed after ${client.received} of ${n}`));
            else return;
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        }),
    };
    ws.on('message', (data: Buffer) => {
      client.received++;
      client.delays.push(deliveryDelay(data));
      for (const wake of waiters) wake();
    });
    ws.on('error', () => undefined);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
    });
    // The server adds the viewer before the handshake's response reaches us: find it by our port.
    const port = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    const viewers = [...server.plugins.pistream.viewers.viewers];
    client.viewer = viewers.find((v) => (v.socket as unknown as { _socket: { remotePort: number } })._socket.remotePort === port)!;
    expect(client.viewer).toBeDefined();
    clients.push(client);
    return client;
  }

  /** Acks like the page: the pictures received so far, at most every 100 ms, only when there is news. */
  function ackLikeThePage(client: Client): void {
    let acked = 0;
    const timer = setInterval(() => {
      if (client.received === acked || client.ws.readyState !== WebSocket.OPEN) return;
      acked = client.received;
      client.ws.send(JSON.stringify({ type: 'ack', frames: acked }));
    }, 100);
    timers.push(timer);
  }

  it('keeps the normal viewers at full rate with no drops, drops and then closes (1008) the frozen ones, in bounded memory', async () => {
    const normal = await Promise.all(Array.from({ length: NORMAL }, () => open()));
    normal.forEach(ackLikeThePage);
    // Warm up: the GOP replay and the first acks.
    await Promise.all(normal.map((c) => c.until(24)));

    // Phase 1: normal viewers alone.
    const phase1From = normal.map((c) => c.received);
    await Promise.all(normal.map((c, i) => c.until(phase1From[i]! + WINDOW)));
    const delays1 = normal.flatMap((c, i) => c.delays.slice(phase1From[i]!));

    // Phase 2: 20 viewers that ack their first pictures and then freeze (stop reading, never ack again).
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const hubPictures = (): number => server.plugins.pistream.hub.stats.pictures;
    const phase2From = normal.map((c) => c.received);
    const sentFrom = normal.map((c) => c.viewer.stats.sent);
    const picturesFrom = hubPictures();
    const paused = await Promise.all(
      Array.from({ length: PAUSED }, async () => {
        const client = await open();
        await client.until(1);
        client.ws.send(JSON.stringify({ type: 'ack', frames: client.received }));
        (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        return { client, frozenAt: client.received };
      }),
    );
    // Sample the server's memory while the frozen viewers are connected (on normal viewers' pictures).
    normal[0]!.ws.on('message', () => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)));
    await Promise.all(normal.map((c, i) => c.until(phase2From[i]! + WINDOW)));
    // Same tick: the hub hands each picture to every viewer synchronously, so these counts are consistent.
    const sentTo = normal.map((c) => c.viewer.stats.sent);
    const picturesTo = hubPictures();
    const delays2 = normal.flatMap((c, i) => c.delays.slice(phase2From[i]!, phase2From[i]! + WINDOW));

    // The frozen viewers are closed stuckMs after they became slow; resume reading to see the close frame.
    await Promise.all(
      paused.map(async ({ client }) => {
        await waitFor(() => client.viewer.closeCode !== undefined, 'a frozen viewer to be closed', 15_000);
        (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      }),
    );
    const closes = await Promise.all(paused.map(({ client }) => client.closed));
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);

    // Normal viewers: every picture the encoder made, nothing dropped, nothing resynced.
    for (const [i, client] of normal.entries()) {
      expect(client.viewer.stats.dropped).toEqual({ lag: 0, backlog: 0, resync: 0 });
      expect(client.viewer.stats.resyncs).toBe(0);
      expect(sentTo[i]! - sentFrom[i]!).toBe(picturesTo - picturesFrom);
      expect(client.ws.readyState).toBe(WebSocket.OPEN);
    }
    // And they received all of it (what was sent is in flight at most).
    await waitFor(() => normal.every((c) => c.received === c.viewer.stats.sent), 'normal viewers to receive all sent');

    // Frozen viewers: pictures dropped for lag (they acked once, so their acks judge them), then closed 1008.
    for (const [i, { client, frozenAt }] of paused.entries()) {
      const { stats } = client.viewer;
      expect(client.viewer.closeCode).toBe(1008);
      expect(closes[i]).toEqual({ code: 1008, reason: 'too slow' });
      expect(stats.dropped.lag).toBeGreaterThan(0);
      expect(stats.dropped.backlog + stats.dropped.resync).toBe(0);
      // Nothing was sent once the lag bound passed: about maxLagMs of pictures after the freeze (at 24 fps), with
      // a second to spare, where the stream went on for 3 s and more.
      expect(stats.sent - frozenAt).toBeLessThanOrEqual((MAX_LAG_MS / 1000) * 24 + 24);
      expect(client.received).toBe(stats.sent);
    }
    const rssGrowthPerPaused = (rssPeak - rssBefore) / PAUSED;
    expect(rssGrowthPerPaused).toBeLessThan(1 * MB);

    // Metrics: drops by reason, and the lag histogram fed by the acks.
    const metrics = (await server.inject('/metrics')).payload;
    const value = (line: string): number => Number(new RegExp(`^${line} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('pistream_dropped_pictures_total\\{reason="lag"\\}')).toBe(
      paused.reduce((n, { client }) => n + client.viewer.stats.dropped.lag, 0),
    );
    expect(value('pistream_dropped_pictures_total\\{reason="backlog"\\}')).toBe(0);
    expect(value('pistream_viewer_lag_seconds_count')).toBeGreaterThan(NORMAL * 10);

    const report = {
      medianDelayMs: { alone: median(delays1), besideFrozen: median(delays2) },
      maxDelayMs: { alone: Math.max(...delays1), besideFrozen: Math.max(...delays2) },
      rssGrowthPerPausedKiB: Math.round(rssGrowthPerPaused / 1024),
      pausedSentAfterFreeze: paused.map(({ client, frozenAt }) => client.viewer.stats.sent - frozenAt),
      pausedDropped: paused.map(({ client }) => client.viewer.stats.dropped.lag),
    };
    // eslint-disable-next-line no-console -- asked for by PISTREAM_DELIVERY_REPORT
    if (process.env.PISTREAM_DELIVERY_REPORT) console.log(JSON.stringify(report));
  }, 60_000);
});
