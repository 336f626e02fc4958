// pistream from dist/cli.js with a chosen codec (`--codec mpeg1|h264`), for the H.264 rows of part 1 and the server
// CPU per stream; and the CPU of a process with its descendants (the server and its ffmpeg encoder), from /proc.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ROOT, freePort, spawnTracked, stderrTail, stopChild } from './children';
import { BENCH_MAX_VIEWERS, sleep, type RunningChild, type StreamSpec } from './servers';

export type BenchCodec = 'mpeg1' | 'h264';

/** The WebSocket path a page of this codec plays (the MPEG-1 page: MPEG-TS on /stream; WebCodecs: /h264). */
export const streamPath = (codec: BenchCodec): string => (codec === 'h264' ? 'h264' : 'stream');

let cliHasCodec: boolean | undefined;

/** Whether the built CLI takes `--codec` with h264. */
export function cliSupportsH264(): boolean {
  if (cliHasCodec !== undefined) return cliHasCodec;
  const cli = join(ROOT, 'dist', 'cli.js');
  try {
    cliHasCodec = existsSync(cli) && /--codec[\s\S]*h264/.test(execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }));
  } catch {
    cliHasCodec = false;
  }
  return cliHasCodec;
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/**
 * `node dist/cli.js --source test --always-on --codec <codec> --bitrate <spec's>` on a free port, as the bench's
 * other pistream (max viewers high, no upgrade limit: every bench viewer comes from 127.0.0.1).
 */
export async function startCodecServer(spec: StreamSpec, codec: BenchCodec): Promise<RunningChild> {
  if (!cliSupportsH264()) throw new Error('dist/cli.js has no --codec h264: run npm run build first');
  const port = await freePort();
  const child = spawnTracked(process.execPath, [
    join(ROOT, 'dist', 'cli.js'),
    '--source',
    'test',
    '--always-on',
    '--log-level',
    'warn',
    '--codec',
    codec,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--width',
    String(spec.width),
    '--height',
    String(spec.height),
    '--fps',
    String(spec.fps),
    '--bitrate',
    String(spec.bitrateKbps),
    '--max-viewers',
    String(BENCH_MAX_VIEWERS),
    '--upgrade-rate',
    '0',
    // Every bench viewer comes from 127.0.0.1.
    '--max-viewers-per-address',
    '0',
    // WebRTC's one UDP port: a free one, not the default, which another server on this machine may hold.
    '--webrtc-port',
    String(await freePort()),
    // The MSE page is opened at pistream.test (run.ts's INSECURE_HOST, no secure context), which Chromium maps here.
    '--allowed-hosts',
    '*.test',
  ]);
  child.stdout?.resume();
  for (let waited = 0; !(await healthy(port)); waited += 100) {
    if (child.exitCode !== null || waited > 20_000) throw new Error(`pistream --codec ${codec} did not start: ${stderrTail(child)}`);
    await sleep(100);
  }
  return {
    impl: 'pistream',
    url: `http://127.0.0.1:${port}/`,
    port,
    pid: child.pid!,
    via: `cli --codec ${codec}`,
    stop: () => stopChild(child),
  };
}

/**
 * CPU seconds (user + system) used so far by `pid` alone and by its descendants (ffmpeg, for a pistream server),
 * from /proc. A descendant that has ended is no longer counted (its time moves to the parent's cutime, which is
 * not read): meter over windows in which the encoder keeps running.
 */
export function treeCpuSeconds(pid: number): { self: number; children: number } {
  const stats = new Map<number, { ppid: number; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / 100 });
    } catch {
      // Ended while we looked.
    }
  }
  const kids = new Map<number, number[]>();
  for (const [p, { ppid }] of stats) kids.set(ppid, [...(kids.get(ppid) ?? []), p]);
  let children = 0;
  const todo = [...(kids.get(pid) ?? [])];
  while (todo.length) {
    const p = todo.pop()!;
    children += stats.get(p)?.seconds ?? 0;
    todo.push(...(kids.get(p) ?? []));
  }
  return { self: stats.get(pid)?.seconds ?? NaN, children };
}

/** How many ffmpeg processes run under `pid` (its encoder; an H.264 server's MPEG-1 transcoder too), from /proc. */
export function ffmpegCount(pid: number): number {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Ended while we looked.
    }
  }
  let n = 0;
  for (const [p, name] of names) {
    if (!name.startsWith('ffmpeg')) continue;
    for (let up = parents.get(p); up !== undefined && up > 1; up = parents.get(up)) {
      if (up === pid) {
        n++;
        break;
      }
    }
  }
  return n;
}

/** A meter over a server and its encoder: `stop()` gives each one's CPU in % of one core since the start. */
export function treeCpuMeter(pid: number): { stop(): { selfPct: number; childrenPct: number } } {
  const t0 = process.hrtime.bigint();
  const c0 = treeCpuSeconds(pid);
  return {
    stop() {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const c1 = treeCpuSeconds(pid);
      return { selfPct: ((c1.self - c0.self) / seconds) * 100, childrenPct: ((c1.children - c0.children) / seconds) * 100 };
    },
  };
}

export interface StreamCost {
  stream: string;
  codec: BenchCodec;
  bitrateKbps: number;
  /** What the one viewer received, kbit/s. */
  receivedKbps: number;
  messagesPerSecond: number;
  /** The server (node) and its encoder (ffmpeg) in % of one core, and both. */
  serverPct: number;
  encoderPct: number;
  totalPct: number;
  /** What `count` (streamCost's last argument) said at the end of the window, e.g. the ffmpegs running. */
  children?: number;
}

/**
 * One ws viewer (in this process) on `child`'s stream for `seconds` after `settle`, metering the server's CPU. The
 * viewer plays `codec`'s path (`/stream` for mpeg1, also on an H.264 server: its transcode); `count`, if given, is
 * read at the end of the window (e.g. {@link ffmpegCount}).
 */
export async function streamCost(
  child: RunningChild,
  spec: StreamSpec,
  codec: BenchCodec,
  seconds: number,
  settle: number,
  count?: () => number,
): Promise<StreamCost> {
  const ws = new WebSocket(child.url.replace(/^http/, 'ws') + streamPath(codec), { perMessageDeflate: false });
  let bytes = 0;
  let messages = 0;
  ws.on('message', (data: Buffer) => {
    bytes += data.length;
    messages++;
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  try {
    await sleep(settle * 1000);
    const b0 = bytes,
      m0 = messages;
    const meter = treeCpuMeter(child.pid);
    await sleep(seconds * 1000);
    const children = count?.();
    const { selfPct, childrenPct } = meter.stop();
    if (messages === m0) throw new Error(`no ${codec} pictures on ${streamPath(codec)} in ${seconds} s`);
    return {
      stream: `${spec.width}x${spec.height}@${spec.fps}`,
      codec,
      bitrateKbps: spec.bitrateKbps,
      receivedKbps: ((bytes - b0) * 8) / 1000 / seconds,
      messagesPerSecond: (messages - m0) / seconds,
      serverPct: selfPct,
      encoderPct: childrenPct,
      totalPct: selfPct + childrenPct,
      ...(children === undefined ? {} : { children }),
    };
  } finally {
    ws.terminate();
  }
}
