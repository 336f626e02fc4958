// A viewer's whole send path on real sockets, in one process: the same N WebSocket viewers (the bench's clients,
// in a child process) are fed the same recorded MPEG-TS pictures by turns, through pistream's Viewer (as the server
// runs it: the hub's shared GOP updates, one subscriber per viewer, one write of a frame made once), through the
// relay's loop (`ws.send` to every open socket) and through a bare loop of frame-once writes (no decision, no
// subscriber: the floor). Periods of a few seconds alternate, so drift on the machine falls on all three alike, and
// the process's own user and system time per send is compared: no encoder, no second server, no fixed cost to
// subtract. Part 3 of `npm run bench` measures whole servers; this says what the per-viewer path itself costs.
// Run: npm run build && npm run bench:send-path [-- --viewers 100 --rate 96 --period 2 --rounds 20]
import { DEFAULTS } from '../src/defaults';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { ReplaySubject, Subject, firstValueFrom, share, take, toArray } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import { mpegts } from '../src/formats/mpegts';
import { createHub } from '../src/hub';
import { counted } from '../src/operators/counted';
import { gopCache } from '../src/operators/gop-cache';
import type { MuxedPicture } from '../src/picture';
import { Viewer } from '../src/server/viewer';
import { binarySender } from '../src/server/ws-frame';
import { testPattern } from '../src/sources/test-pattern';
import { compileScript, runMain, spawnTracked } from './children';
import { sleep } from './servers';
import { cell, median, printTable } from './stats';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '100' },
    /** Pictures per second fed (above the stream's 24, so each period has many sends to divide by). */
    rate: { type: 'string', default: '96' },
    /** Seconds per period. */
    period: { type: 'string', default: '2' },
    /** Periods per path. */
    rounds: { type: 'string', default: '20' },
  },
});
const N = Number(values.viewers),
  RATE = Number(values.rate),
  PERIOD_MS = Number(values.period) * 1000,
  ROUNDS = Number(values.rounds);
const HIGH_WATER_MARK = 512 * 1024;
const BINARY = { binary: true } as const;

interface Path {
  readonly name: string;
  /** Feeds one picture to every viewer this way. */
  feed(picture: MuxedPicture): void;
  /** Sends so far (pictures a viewer's path let through, times viewers). */
  sends(): number;
  /** Pictures this path did not send (a viewer too slow): 0 means the figures compare like with like. */
  drops(): number;
}

async function main(): Promise<void> {
  // Two GOPs of real pictures, muxed as /stream sends them, from the test pattern through the real encoder.
  const hub = createHub({
    source: testPattern({ width: 640, height: 480, fps: 24 }),
    encoder: { width: 640, height: 480, fps: 24, bitrate: 800, gop: 24 },
  });
  const recorded = await firstValueFrom(hub.stream(mpegts).pipe(take(72), toArray()));
  hub.close();
  const first = recorded.findIndex((p) => p.keyframe);
  const loop = recorded.slice(first, first + 48);

  // The hub's shape for the Viewer path: pictures → GOP cache → share with a ReplaySubject(1) → counted.
  const pictures = new Subject<MuxedPicture>();
  const gops$ = counted(pictures.pipe(gopCache(), share({ connector: () => new ReplaySubject(1) })), { subscribers: 0 });

  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const sockets: WebSocket[] = [];
  const viewers: Viewer[] = [];
  const senders: ((payload: Buffer) => void)[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    viewers.push(new Viewer(ws, { format: mpegts, gops$, highWaterMark: HIGH_WATER_MARK, maxLagMs: DEFAULTS.maxLagMs, stuckMs: 0 }));
    senders.push(binarySender(ws));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as { port: number };
  const clients = spawnTracked(process.execPath, [
    compileScript('clients.ts'),
    '--url',
    `ws://127.0.0.1:${port}/`,
    '--count',
    String(N),
    '--seconds',
    '1000000',
    '--settle',
    '1',
  ]);
  clients.stdout?.resume();
  for (let waited = 0; sockets.length < N; waited += 100) {
    if (waited > 30_000) throw new Error(`${sockets.length} of ${N} viewers connected`);
    await sleep(100);
  }

  let relaySends = 0,
    relaySkipped = 0,
    loopSends = 0;
  const paths: Path[] = [
    {
      name: 'pistream Viewer (hub GOP updates → the viewer → one write)',
      feed: (picture) => pictures.next(picture),
      sends: () => viewers.reduce((sum, v) => sum + v.stats.sent, 0),
      drops: () => viewers.reduce((sum, v) => sum + v.stats.dropped.lag + v.stats.dropped.backlog + v.stats.dropped.resync, 0),
    },
    {
      name: 'relay loop (ws.send to every open socket)',
      feed: (picture) => {
        for (const ws of sockets) {
          if (ws.readyState !== ws.OPEN) relaySkipped++;
          else {
            ws.send(picture.wire, BINARY);
            relaySends++;
          }
        }
      },
      sends: () => relaySends,
      drops: () => relaySkipped,
    },
    {
      name: 'bare loop of frame-once writes (no decision: the floor)',
      feed: (picture) => {
        for (const send of senders) send(picture.wire);
        loopSends += senders.length;
      },
      sends: () => loopSends,
      drops: () => 0,
    },
  ];

  let current = paths[0]!;
  let seq = 0;
  const timer = setInterval(() => current.feed(loop[seq++ % loop.length]!), 1000 / RATE);
  const results = paths.map(() => ({ total: [] as number[], user: [] as number[], sys: [] as number[], drops: 0 }));
  // Warm every path up (the JIT, the viewers' GOP replay) before measuring.
  for (const path of paths) {
    current = path;
    await sleep(1000);
  }
  for (let round = 0; round < ROUNDS; round++) {
    // ABC, CBA, …: each path as often early as late in a round.
    const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const i of order) {
      current = paths[i]!;
      await sleep(300);
      const sends0 = current.sends(),
        drops0 = current.drops(),
        cpu0 = process.cpuUsage();
      await sleep(PERIOD_MS);
      const cpu = process.cpuUsage(cpu0),
        sends = current.sends() - sends0;
      results[i]!.total.push((cpu.user + cpu.system) / sends);
      results[i]!.user.push(cpu.user / sends);
      results[i]!.sys.push(cpu.system / sends);
      results[i]!.drops += current.drops() - drops0;
    }
  }
  clearInterval(timer);
  const relay = median(results[1]!.total);
  printTable(
    `A viewer's send path on real sockets, one process: ${N} viewers, ${RATE} pictures/s, ${ROUNDS} alternating ` +
      `periods of ${PERIOD_MS / 1000} s per path, medians (µs of this process's CPU per send)`,
    ['path', 'µs/send', 'user', 'system', 'periods min–max', '× relay', 'not sent'],
    paths.map((path, i) => {
      const r = results[i]!;
      return [
        path.name,
        cell(median(r.total), 2),
        cell(median(r.user), 2),
        cell(median(r.sys), 2),
        `${cell(Math.min(...r.total), 1)}–${cell(Math.max(...r.total), 1)}`,
        cell(median(r.total) / relay, 3),
        String(r.drops),
      ];
    }),
  );
  for (const v of viewers) v.terminate();
  http.close();
}

runMain(main);
