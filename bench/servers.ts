// The two servers under test as child processes (pistream and the baseline relay), their /metrics, and the viewer
// client process (clients.ts) that runs against them while the server's CPU is metered. Shared by run.ts and
// profile.ts.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ROOT, compileScript, cpuSplitMeter, freePort, rssMiB, spawnTracked, stderrTail, stopChild, waitForLine } from './children';
import type { CpuSplit } from './children';
import { median } from './stats';

export type Impl = 'pistream' | 'baseline';

export interface StreamSpec {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bitrateKbps: number;
}

export interface RunningChild {
  readonly impl: Impl;
  /** The page, e.g. `http://127.0.0.1:40123/`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** How pistream was started: `cli` (dist/cli.js --max-viewers) or `plugin` (bench/server.ts). */
  readonly via: string;
  stop(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The viewer cap pistream runs with here: above the most viewers any part of the benchmark opens at once (1000 in the
 * fan-out, + one socket keeping the stream warm), as the plugin's default `maxViewers` (100) would close the rest with
 * 1013. Together with no per-address upgrade limit (`--upgrade-rate 0`, `upgradeRate: false` in bench/server.ts).
 */
export const BENCH_MAX_VIEWERS = 2000;

let cliHasMaxViewers: boolean | undefined;

let helpText: string | undefined;

/** The built CLI's `--help` (empty when there is none or it fails), asked once. */
function cliHelp(): string {
  if (helpText !== undefined) return helpText;
  const cli = join(ROOT, 'dist', 'cli.js');
  try {
    helpText = existsSync(cli) ? execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }) : '';
  } catch {
    helpText = '';
  }
  return helpText;
}

/** Whether the built CLI takes `--max-viewers` and `--upgrade-rate` (until it does, bench/server.ts stands in). */
export function cliSupportsMaxViewers(): boolean {
  cliHasMaxViewers ??= cliHelp().includes('--max-viewers') && cliHelp().includes('--upgrade-rate');
  return cliHasMaxViewers;
}

/**
 * pistream on the test pattern, camera always on, `maxViewers` high enough for the fan-out: `node dist/cli.js` when
 * it has --max-viewers, else bench/server.ts (the same plugin). `nodeArgs` go before the script (e.g. --cpu-prof).
 * `dist`: another build's CLI to run instead of this tree's `dist/` (e.g. a copy of an earlier build, to compare).
 */
export async function startPistream(
  spec: StreamSpec,
  nodeArgs: readonly string[] = [],
  variant = 'plugin',
  maxViewers = BENCH_MAX_VIEWERS,
  dist = join(ROOT, 'dist'),
): Promise<RunningChild> {
  const port = await freePort();
  const common = [
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
    String(maxViewers),
  ];
  // Every bench viewer comes from 127.0.0.1: the per-address upgrade limit (default 5/s) and viewer cap (10) would
  // refuse the fan-out (a CLI from before the cap has no such flag).
  const cliOnly = ['--upgrade-rate', '0', ...(cliHelp().includes('--max-viewers-per-address') ? ['--max-viewers-per-address', '0'] : [])];
  const viaCli = variant === 'plugin' && cliSupportsMaxViewers();
  const args = viaCli
    ? [...nodeArgs, join(dist, 'cli.js'), '--source', 'test', '--always-on', '--log-level', 'warn', ...common, ...cliOnly]
    : [...nodeArgs, compileScript('server.ts'), ...common, '--variant', variant];
  if (!existsSync(join(ROOT, 'dist', 'server', 'plugin.js'))) throw new Error('dist/ missing: run npm run build first');
  const child = spawnTracked(process.execPath, args);
  child.stdout?.resume();
  for (let waited = 0; !(await answers(port, '/healthz')); waited += 100) {
    if (child.exitCode !== null || waited > 20_000) throw new Error(`pistream did not start: ${stderrTail(child)}`);
    await sleep(100);
  }
  return {
    impl: 'pistream',
    url: `http://127.0.0.1:${port}/`,
    port,
    pid: child.pid!,
    via: viaCli ? 'cli' : variant,
    stop: () => stopChild(child),
  };
}

/** The baseline relay (bench/baseline-relay.ts) as a child process. */
export async function startBaseline(spec: StreamSpec, nodeArgs: readonly string[] = []): Promise<RunningChild> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [
    ...nodeArgs,
    compileScript('baseline-relay.ts'),
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
  ]);
  await waitForLine(child, /ready (\d+)/);
  return { impl: 'baseline', url: `http://127.0.0.1:${port}/`, port, pid: child.pid!, via: 'relay', stop: () => stopChild(child) };
}

export function startServer(
  impl: Impl,
  spec: StreamSpec,
  nodeArgs: readonly string[] = [],
  maxViewers = BENCH_MAX_VIEWERS,
): Promise<RunningChild> {
  return impl === 'pistream' ? startPistream(spec, nodeArgs, 'plugin', maxViewers) : startBaseline(spec, nodeArgs);
}

function get(port: number, path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

async function answers(port: number, path: string): Promise<boolean> {
  return (await get(port, path)) !== undefined;
}

/** pistream's /metrics as `name{labels}` → value (empty for the baseline, which has none). */
export async function scrapeMetrics(child: RunningChild): Promise<Record<string, number>> {
  if (child.impl !== 'pistream') return {};
  const text = (await get(child.port, '/metrics')) ?? '';
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?)\s+([-\d.e+]+)$/i.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export interface ClientsOptions {
  readonly count: number;
  readonly paused?: number;
  readonly throttled?: number;
  readonly throttleKbps?: number;
  readonly stalled?: number;
  readonly seconds: number;
  readonly settle: number;
  /** Parse PTS for delivery delays (costs client CPU: off for the fan-out). */
  readonly delays: boolean;
  /** Normal and throttled viewers ack received pictures as the page does (pistream's lag check uses acks). */
  readonly ack?: boolean;
}

export interface ClientsResult {
  count: number;
  paused: number;
  throttled: number;
  connected: number;
  pausedConnected: number;
  throttledConnected: number;
  refused: number;
  closeCodes: number[];
  minKbps: number;
  medianKbps: number;
  throttledKbps: number;
  /** Server CPU, % of one core, over the counting window. */
  cpuPct: number;
  /** The same, split: user / system time, main thread / other threads (GC helpers, libuv's pool). */
  cpu: CpuSplit;
  rssMiB: number;
  /** The server's RSS when the client process started, and the most it reached until the result (sampled every 100 ms). */
  rssStartMiB: number;
  peakRssMiB: number;
  /** Raw PTS delays (ms) of normal / throttled viewers (see clients.ts); not kept in the JSON. */
  delays: number[];
  throttledDelays: number[];
}

/** Forks clients.ts against `child`, measuring the server's CPU over exactly the clients' counting window. */
export async function runClients(child: RunningChild, options: ClientsOptions): Promise<ClientsResult> {
  const { count, paused = 0, throttled = 0, throttleKbps = 400, stalled = 0, seconds, settle, delays } = options;
  const rssStartMiB = rssMiB(child.pid);
  let peakRssMiB = rssStartMiB;
  const rssSampler = setInterval(() => (peakRssMiB = Math.max(peakRssMiB, rssMiB(child.pid))), 100);
  const clients = spawnTracked(
    process.execPath,
    [
      compileScript('clients.ts'),
      '--url',
      child.url.replace(/^http/, 'ws') + 'stream',
      '--count',
      String(count),
      '--paused',
      String(paused),
      '--throttled',
      String(throttled),
      '--throttle-kbps',
      String(throttleKbps),
      '--stalled',
      String(stalled),
      '--seconds',
      String(seconds),
      '--settle',
      String(settle),
      '--delays',
      delays ? '1' : '0',
      '--ack',
      options.ack ? '1' : '0',
    ],
    true,
  );
  clients.stdout?.resume();
  let meter: { stop(): CpuSplit } | undefined;
  const result = await new Promise<ClientsResult>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`clients timed out: ${stderrTail(clients)}`)), (seconds + settle + 90) * 1000);
    clients.on('message', (msg: { type: string; [k: string]: unknown }) => {
      if (msg.type === 'measuring') meter = cpuSplitMeter(child.pid);
      if (msg.type === 'result') {
        clearTimeout(timer);
        const none = { total: NaN, user: NaN, sys: NaN, main: NaN, helpers: NaN };
        const cpu = meter?.stop() ?? none;
        const kbps = (rs: number[]): number[] => rs.map((r) => (r * 8) / 1000);
        const rates = kbps(msg.rates as number[]);
        resolve({
          count,
          paused,
          throttled,
          connected: msg.connected as number,
          pausedConnected: msg.pausedConnected as number,
          throttledConnected: msg.throttledConnected as number,
          refused: msg.refused as number,
          closeCodes: [...new Set(msg.closeCodes as number[])],
          minKbps: rates.length ? Math.min(...rates) : NaN,
          medianKbps: median(rates),
          throttledKbps: median(kbps(msg.throttledRates as number[])),
          cpuPct: cpu.total,
          cpu,
          rssMiB: rssMiB(child.pid),
          rssStartMiB,
          peakRssMiB: Math.max(peakRssMiB, rssMiB(child.pid)),
          delays: msg.delays as number[],
          throttledDelays: msg.throttledDelays as number[],
        });
      }
    });
    clients.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`clients exited (${code}) before reporting: ${stderrTail(clients)}`));
    });
  }).finally(() => clearInterval(rssSampler));
  await stopChild(clients);
  return result;
}
