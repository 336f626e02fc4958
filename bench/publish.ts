// Publishing through nginx-rtmp on loopback (issue 12's bench): (a) the server's CPU (node + every ffmpeg under it)
// and the bytes it sends with 0, 1 and 2 publish targets; (b) latency per hop, capture → pistream's /h264
// WebSocket → nginx `live` → nginx `edge`, from the barcode's capture time in pictures an ffmpeg reader decodes at
// each point. Needs dist/ (npm run build) and Debian's nginx with libnginx-mod-rtmp.
//
//   npm run bench:publish [-- --seconds 20 --latency-seconds 15]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { barcodeAge, readBarcode } from '../src/barcode';
import { resolveFfmpeg } from '../src/process/ffmpeg-path';
import { protocol } from '../src/protocol';
import { ROOT, freePort, killAll, killAllNow, spawnTracked, stderrTail, stopChild } from './children';
import { treeCpuMeter } from './codec-server';
import { sleep } from './servers';
import { hasNginx, NGINX_PATH, waitForPort, writeNginxRtmpConfig } from './nginx-rtmp';
import { cell, printTable, quantile, round } from './stats';
import { SD, h264Spec } from './streams';

const { width: W, height: H, fps: FPS, bitrateKbps: KBPS } = h264Spec(SD);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = arg('seconds', 20);
const LATENCY_SECONDS = arg('latency-seconds', 15);
/** Before metering: the publishers connected and the encoder steady. */
const SETTLE_SECONDS = 3;

// ---- nginx-rtmp ----

interface Nginx {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** nginx with `application live` (publish here) and `application edge` pulling `live/<name>` for each stream. */
async function startNginx(dir: string, streams: readonly string[]): Promise<Nginx> {
  const port = await freePort();
  const args = writeNginxRtmpConfig(dir, port, streams);
  const child = spawnTracked(NGINX_PATH, args);
  child.stdout?.resume();
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`nginx exited (${code}): ${stderrTail(child)}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port), exited]);
  return { port, pid: child.pid!, stop: () => stopChild(child) };
}

// ---- pistream with publish targets ----

interface PublishHealth {
  target: string;
  state: string;
  bytes: number;
  skipped: number;
  restarts: number;
}

function getJson<T>(port: number, path: string): Promise<T | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

interface Server {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  publish(): Promise<PublishHealth[]>;
  stop(): Promise<void>;
}

/** `node dist/cli.js --source test --always-on --codec h264` at 640x480@24 at the bench's H.264 bitrate, publishing to `targets`. */
async function startServer(targets: readonly string[]): Promise<Server> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [
    join(ROOT, 'dist', 'cli.js'),
    '--source',
    'test',
    '--always-on',
    '--log-level',
    'warn',
    '--codec',
    'h264',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--width',
    String(W),
    '--height',
    String(H),
    '--fps',
    String(FPS),
    '--bitrate',
    String(KBPS),
    '--upgrade-rate',
    '0',
    ...targets.flatMap((t) => ['--publish', t]),
  ]);
  child.stdout?.resume();
  const publish = async (): Promise<PublishHealth[]> => (await getJson<{ publish?: PublishHealth[] }>(port, '/healthz'))?.publish ?? [];
  for (let waited = 0; ; waited += 100) {
    const health = await getJson<{ status: string; publish?: PublishHealth[] }>(port, '/healthz');
    const up = health?.status === 'ok' && (health.publish ?? []).filter((p) => p.state === 'publishing').length === targets.length;
    if (up) break;
    if (child.exitCode !== null || waited > 30_000)
      throw new Error(`pistream did not start publishing: ${JSON.stringify(health)} ${stderrTail(child)}`);
    await sleep(100);
  }
  return { port, pid: child.pid!, child, publish, stop: () => stopChild(child) };
}

// ---- (a) CPU and bytes out per number of targets ----

interface CostRow {
  targets: number;
  serverPct: number;
  ffmpegPct: number;
  totalPct: number;
  /** Everything the publishers sent, kbit/s (ffmpeg's own byte count, from /healthz). */
  publishedKbps: number;
  perTargetKbps: number[];
  skipped: number;
  restarts: number;
}

async function measureCost(nginxPort: number, targets: number): Promise<CostRow> {
  const urls = Array.from({ length: targets }, (_, i) => `rtmp://127.0.0.1:${nginxPort}/live/cost${i}`);
  const server = await startServer(urls);
  try {
    await sleep(SETTLE_SECONDS * 1000);
    const before = await server.publish();
    const meter = treeCpuMeter(server.pid);
    const t0 = Date.now();
    await sleep(SECONDS * 1000);
    const { selfPct, childrenPct } = meter.stop();
    const after = await server.publish();
    const seconds = (Date.now() - t0) / 1000;
    const perTargetKbps = after.map((p, i) => ((p.bytes - (before[i]?.bytes ?? 0)) * 8) / 1000 / seconds);
    return {
      targets,
      serverPct: selfPct,
      ffmpegPct: childrenPct,
      totalPct: selfPct + childrenPct,
      publishedKbps: perTargetKbps.reduce((a, b) => a + b, 0),
      perTargetKbps,
      skipped: after.reduce((a, p) => a + p.skipped, 0),
      restarts: after.reduce((a, p) => a + p.restarts, 0),
    };
  } finally {
    await server.stop();
  }
}

// ---- (b) latency per hop ----

/** Arrival time (Date.now(), ms) of each decoded picture by barcode frame number, and its capture → arrival age. */
interface Arrivals {
  readonly name: string;
  readonly at: Map<number, number>;
  readonly ages: { frame: number; at: number; ms: number }[];
  unreadable: number;
}

const decoders = new Set<ChildProcess>();

/**
 * An ffmpeg decoding H.264 to luma as fast as it comes, the same way at every point: one decoder thread (frame
 * threads would hold pictures back), low_delay, no input buffering; `input` is what goes before `-i`.
 */
function decoder(name: string, input: readonly string[], arrivals: Arrivals[]): ChildProcess {
  const ffmpeg = resolveFfmpeg().path;
  // Not spawnTracked: this one needs a stdin (the WebSocket's reader). Ended in measureLatency and at exit.
  const child = spawn(
    ffmpeg,
    [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'error',
      '-threads',
      '1',
      '-flags',
      'low_delay',
      '-fflags',
      'nobuffer',
      ...input,
      '-map',
      '0:v:0',
      '-vsync',
      'passthrough',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      'pipe:1',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  decoders.add(child);
  child.once('exit', () => decoders.delete(child));
  child.stderr!.resume();
  const record: Arrivals = { name, at: new Map(), ages: [], unreadable: 0 };
  arrivals.push(record);
  const frameBytes = W * H;
  let pending: Buffer = Buffer.alloc(0);
  child.stdout!.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= frameBytes) {
      const now = Date.now();
      const frame = pending.subarray(0, frameBytes);
      pending = pending.subarray(frameBytes);
      const value = readBarcode((x, y) => frame[y * W + x]!);
      if (!value) {
        record.unreadable++;
        continue;
      }
      if (!record.at.has(value.frame)) record.at.set(value.frame, now);
      record.ages.push({ frame: value.frame, at: now, ms: barcodeAge(value.time, now) });
    }
  });
  return child;
}

/** ffmpeg's H.264 parser ends a unit only when the next starts; an AUD after each unit ends it at once (as the publisher does). */
const AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);

interface HopRow {
  point: string;
  pictures: number;
  p50: number;
  p95: number;
  /** Per picture, this point's arrival minus the previous point's (the hop), p50 and p95. */
  hopP50: number | undefined;
  hopP95: number | undefined;
  hopPictures: number | undefined;
}

async function measureLatency(nginxPort: number): Promise<HopRow[]> {
  const server = await startServer([`rtmp://127.0.0.1:${nginxPort}/live/cam`]);
  const arrivals: Arrivals[] = [];
  const children: ChildProcess[] = [];
  let ws: WebSocket | undefined;
  try {
    // 1. pistream's own /h264 WebSocket, the access units piped into a local decoder.
    const local = decoder(
      'ws /h264',
      ['-f', 'h264', '-probesize', '32', '-analyzeduration', '0', '-framerate', String(FPS), '-i', 'pipe:0'],
      arrivals,
    );
    children.push(local);
    local.stdin!.on('error', () => undefined);
    ws = new WebSocket(`ws://127.0.0.1:${server.port}/h264`, { perMessageDeflate: false });
    let received = 0;
    ws.on('message', (data: Buffer) => {
      const header = protocol.readUnitHeader(data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer);
      if (!header) return;
      local.stdin!.write(Buffer.concat([data.subarray(header.offset), AUD]));
      ws!.send(protocol.ackMessage(++received));
    });
    ws.on('error', () => undefined);
    // 2. and 3. the engine's read-back, origin and edge. RTMP's demuxer needs a little probing for the audio track.
    const rtmpIn = (app: string): string[] => [
      '-probesize',
      '100000',
      '-analyzeduration',
      '500000',
      '-i',
      `rtmp://127.0.0.1:${nginxPort}/${app}/cam`,
    ];
    children.push(decoder('nginx live', rtmpIn('live'), arrivals));
    children.push(decoder('nginx edge', rtmpIn('edge'), arrivals));
    // Warm-up: every reader connected, probed and caught up (a reader's probing backlog shows as high ages).
    await sleep(4000);
    const from = Date.now();
    await sleep(LATENCY_SECONDS * 1000);
    const to = Date.now();
    const rows: HopRow[] = [];
    let previous: Arrivals | undefined;
    for (const a of arrivals) {
      const inWindow = a.ages.filter((x) => x.at >= from && x.at < to);
      const ms = inWindow.map((x) => x.ms);
      let hop: number[] | undefined;
      if (previous) {
        hop = [];
        for (const x of inWindow) {
          const before = previous.at.get(x.frame);
          if (before !== undefined && a.at.get(x.frame) === x.at) hop.push(x.at - before);
        }
      }
      rows.push({
        point: a.name,
        pictures: inWindow.length,
        p50: quantile(ms, 0.5),
        p95: quantile(ms, 0.95),
        hopP50: hop ? quantile(hop, 0.5) : undefined,
        hopP95: hop ? quantile(hop, 0.95) : undefined,
        hopPictures: hop?.length,
      });
      previous = a;
    }
    if (arrivals.some((a) => a.unreadable > 0))
      console.log(`unreadable barcodes: ${arrivals.map((a) => `${a.name} ${a.unreadable}`).join(', ')}`);
    return rows;
  } finally {
    ws?.terminate();
    for (const child of children) {
      child.stdin?.end();
      await stopChild(child);
    }
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('no dist/cli.js: run npm run build first');
  if (!hasNginx()) throw new Error('needs nginx with the RTMP module: apt install nginx libnginx-mod-rtmp');
  const loadAvgStart = loadavg().map((l) => round(l, 2));
  const started = new Date();
  console.log(
    `bench:publish — ${W}x${H}@${FPS} --codec h264 ${KBPS} kbit/s, ${SECONDS} s per target count, ${LATENCY_SECONDS} s of latency; ` +
      `${cpus().length} CPUs, load average ${loadAvgStart.join(' ')}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pistream-bench-nginx-'));
  const nginx = await startNginx(dir, ['cam', 'cost0', 'cost1']);
  try {
    // (a) nginx runs throughout (its own CPU is not the server's); the edge pulls only what it is configured to.
    const cost: CostRow[] = [];
    for (const targets of [0, 1, 2]) cost.push(await measureCost(nginx.port, targets));
    const base = cost[0]!.totalPct;
    printTable(
      `(a) server CPU (% of one core; node + every ffmpeg under it) and bytes out, ${SECONDS} s each`,
      ['targets', 'node %', 'ffmpeg %', 'total %', '+ per target', 'published kbit/s', 'per target kbit/s', 'skipped', 'restarts'],
      cost.map((r) => [
        String(r.targets),
        cell(r.serverPct),
        cell(r.ffmpegPct),
        cell(r.totalPct),
        r.targets ? cell((r.totalPct - base) / r.targets) : '–',
        cell(r.publishedKbps, 0),
        r.perTargetKbps.length ? r.perTargetKbps.map((k) => cell(k, 0)).join(' / ') : '–',
        String(r.skipped),
        String(r.restarts),
      ]),
    );
    // (b)
    const hops = await measureLatency(nginx.port);
    printTable(
      `(b) capture → reader latency per point (ms; barcode capture time vs Date.now() at decode, ${LATENCY_SECONDS} s), and each hop per picture`,
      ['point', 'pictures', 'p50', 'p95', 'hop p50', 'hop p95', 'hop pictures'],
      hops.map((r) => [
        r.point,
        String(r.pictures),
        cell(r.p50, 0),
        cell(r.p95, 0),
        cell(r.hopP50, 0),
        cell(r.hopP95, 0),
        r.hopPictures === undefined ? '–' : String(r.hopPictures),
      ]),
    );
    const loadAvgEnd = loadavg().map((l) => round(l, 2));
    const perTarget = cost.slice(1).map((r) => (r.totalPct - base) / r.targets);
    const edgeHop = hops[2]?.hopP50;
    console.log(
      `\ngoal: publishing adds ≤ 5 % CPU per target: ${perTarget.map((p) => cell(p)).join(' / ')} % → ${perTarget.every((p) => p <= 5) ? 'met' : 'missed'}`,
    );
    console.log(
      `goal: origin → edge hop ≤ 5 ms on loopback: p50 ${cell(edgeHop, 0)} ms, p95 ${cell(hops[2]?.hopP95, 0)} ms → ${edgeHop !== undefined && edgeHop <= 5 ? 'met' : 'missed'}`,
    );
    console.log(`load average at the end: ${loadAvgEnd.join(' ')}`);
    const out = join(ROOT, 'bench', 'results', `publish-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          bench: 'publish',
          started: started.toISOString(),
          stream: { width: W, height: H, fps: FPS, kbps: KBPS, codec: 'h264' },
          seconds: SECONDS,
          latencySeconds: LATENCY_SECONDS,
          machine: { cpus: cpus().length, loadAvgStart, loadAvgEnd },
          cost,
          hops,
        },
        null,
        2,
      ),
    );
    console.log(`wrote ${out}`);
  } finally {
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.once('exit', () => {
  for (const child of decoders) child.kill('SIGKILL');
  killAllNow();
});
process.once('SIGINT', () => void killAll().then(() => process.exit(130)));
main().then(
  async () => {
    await killAll();
  },
  async (err: unknown) => {
    console.error(err);
    await killAll();
    process.exitCode = 1;
  },
);
