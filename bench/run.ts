// pistream benchmark: glass-to-glass latency, time to first picture, fan-out CPU, slow viewers; each against a
// plain `ws` broadcast relay (bench/baseline-relay.ts) in the same run. See bench/README.md.
// Run: npm run bench [-- --quick] [-- --parts 1,2,3,4]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { parseConfig } from '../src/config';
import { startServer, type RunningServer } from '../src/server/start-server';
import { launchBrowser } from '../spec/helpers/browser';
import {
  ROOT, compileScript, cpuMeter, freePort, killAll, killAllNow, rssMiB, spawnTracked, stderrTail, stopChild, waitForLine,
} from './children';
import { cell, median, printTable, quantile, round } from './stats';

// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: {
  pistream?: { frames: number; latencies: number[] };
  frames?: number;
  latencies?: number[];
};
declare const performance: { now(): number };

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const partsArg = argv[argv.indexOf('--parts') + 1];
const parts = new Set((argv.includes('--parts') && partsArg ? partsArg : '1,2,3,4').split(',').map(Number));

const W = 640, H = 480, FPS = 24;
const LATENCY_WARMUP_S = 5;
const LATENCY_S = quick ? 10 : 30;
const JOINS = quick ? 5 : 20;
const FANOUT = quick ? [1, 100] : [1, 100, 500, 1000];
const FANOUT_S = quick ? 5 : 15;
const SLOW_S = quick ? 5 : 15;
const SETTLE_S = 2;

type Impl = 'pistream' | 'baseline';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  quick,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
  stream: { width: W, height: H, fps: FPS, gop: FPS, bitrateKbps: 800 },
};

let browser: BrowserContext | undefined;
let server: RunningServer | undefined;

/** The in-process pistream server (test pattern), logging nothing. */
function startPistream(): Promise<RunningServer> {
  const config = parseConfig(
    ['--source', 'test', '--host', '127.0.0.1', '--port', '0', '--width', String(W), '--height', String(H), '--fps', String(FPS)],
    {},
  );
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

/** The baseline relay as a child process; resolves with its page URL and pid. */
async function startBaseline(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [
    compileScript('baseline-relay.ts'), '--port', String(port), '--width', String(W), '--height', String(H), '--fps', String(FPS),
  ]);
  await waitForLine(child, /ready (\d+)/);
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid!, stop: () => stopChild(child) };
}

/** pistream's CLI (dist/cli.js) as a child process on a free port; resolves once it answers /healthz. */
async function startPistreamChild(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const cli = join(ROOT, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error('dist/cli.js missing: run npm run build first');
  const port = await freePort();
  const child = spawnTracked(process.execPath, [
    cli, '--source', 'test', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn',
    '--width', String(W), '--height', String(H), '--fps', String(FPS),
  ]);
  for (let waited = 0; !(await answers(port, '/healthz')); waited += 100) {
    if (child.exitCode !== null || waited > 15_000) throw new Error(`pistream CLI did not start: ${stderrTail(child)}`);
    await sleep(100);
  }
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid!, stop: () => stopChild(child) };
}

function answers(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

// ---- 1. glass-to-glass latency -------------------------------------------------------------------------------

interface LatencyResult {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  fps: number;
}

async function measureLatency(page: Page, url: string, impl: Impl): Promise<LatencyResult> {
  await page.goto(url);
  const read = impl === 'pistream'
    ? () => page.evaluate(() => ({ frames: window.pistream?.frames ?? 0, at: performance.now() }))
    : () => page.evaluate(() => ({ frames: window.frames ?? 0, at: performance.now() }));
  const hasFrames = impl === 'pistream' ? () => (window.pistream?.frames ?? 0) > 0 : () => (window.frames ?? 0) > 0;
  await page.waitForFunction(hasFrames, undefined, { timeout: 30_000 });
  await sleep(LATENCY_WARMUP_S * 1000);
  // Start from an empty list: the page keeps the last 1000, more than LATENCY_S seconds' worth.
  if (impl === 'pistream') await page.evaluate(() => void (window.pistream!.latencies.length = 0));
  else await page.evaluate(() => void (window.latencies!.length = 0));
  const start = await read();
  await sleep(LATENCY_S * 1000);
  const end = await read();
  const latencies = impl === 'pistream'
    ? await page.evaluate(() => window.pistream!.latencies.slice())
    : await page.evaluate(() => window.latencies!.slice());
  return {
    samples: latencies.length,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    max: quantile(latencies, 1),
    fps: ((end.frames - start.frames) * 1000) / (end.at - start.at),
  };
}

// ---- 2. time to first picture --------------------------------------------------------------------------------

async function timeToFirstPicture(url: string, impl: Impl): Promise<{ joins: number[]; p50: number; p95: number }> {
  const joins: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    // A random moment in the GOP (one GOP = one second here).
    await sleep(Math.random() * 1000);
    const page = await browser!.newPage();
    try {
      await page.goto(url);
      const hasFrames = impl === 'pistream' ? () => (window.pistream?.frames ?? 0) > 0 : () => (window.frames ?? 0) > 0;
      // Polled on every animation frame; performance.now() counts from the navigation's start.
      await page.waitForFunction(hasFrames, undefined, { timeout: 15_000, polling: 'raf' });
      joins.push(await page.evaluate(() => performance.now()));
    } finally {
      await page.close();
    }
  }
  return { joins: joins.map((j) => round(j)), p50: quantile(joins, 0.5), p95: quantile(joins, 0.95) };
}

/** A viewer socket that keeps the stream running between joins (pistream runs its camera only while watched). */
function keepWarm(url: string): WebSocket {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + 'stream', { perMessageDeflate: false });
  ws.on('error', () => undefined);
  ws.on('message', () => undefined);
  return ws;
}

// ---- 3 and 4. fan-out and slow viewers -------------------------------------------------------------------------

interface ClientsResult {
  count: number;
  paused: number;
  connected: number;
  pausedConnected: number;
  refused: number;
  closeCodes: number[];
  minKbps: number;
  medianKbps: number;
  cpuPct: number;
  rssMiB: number;
}

/** Forks clients.ts against `url`, measuring the server `pid`'s CPU over exactly the clients' counting window. */
async function runClients(url: string, pid: number, count: number, paused: number, seconds: number): Promise<ClientsResult> {
  const child = spawnTracked(process.execPath, [
    compileScript('clients.ts'), '--url', url.replace(/^http/, 'ws') + 'stream', '--count', String(count),
    '--paused', String(paused), '--seconds', String(seconds), '--settle', String(SETTLE_S),
  ], true);
  child.stdout?.resume();
  let meter: { stop(): number } | undefined;
  const result = await new Promise<ClientsResult>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`clients timed out: ${stderrTail(child)}`)), (seconds + 60) * 1000);
    child.on('message', (msg: { type: string; [k: string]: unknown }) => {
      if (msg.type === 'measuring') meter = cpuMeter(pid);
      if (msg.type === 'result') {
        clearTimeout(timer);
        const cpuPct = meter?.stop() ?? NaN;
        const rates = (msg.rates as number[]).map((r) => (r * 8) / 1000);
        resolve({
          count,
          paused,
          connected: msg.connected as number,
          pausedConnected: msg.pausedConnected as number,
          refused: msg.refused as number,
          closeCodes: [...new Set(msg.closeCodes as number[])],
          minKbps: rates.length ? Math.min(...rates) : NaN,
          medianKbps: median(rates),
          cpuPct,
          rssMiB: rssMiB(pid),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`clients exited (${code}) before reporting: ${stderrTail(child)}`));
    });
  });
  await stopChild(child);
  return result;
}

// ---- main --------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(`pistream bench ${quick ? '(quick)' : '(full)'}: ${W}x${H}@${FPS}, ${cpus().length} CPUs, node ${process.version}`);

  if (parts.has(1) || parts.has(2)) {
    server = await startPistream();
    const baseline = await startBaseline();
    browser = await launchBrowser({ viewport: { width: 800, height: 600 } });
    const pageErrors: string[] = [];
    browser.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(e.message)));
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));

    if (parts.has(1)) {
      const rows: LatencyResult[] = [];
      for (const [impl, url] of [['pistream', server.url], ['baseline', baseline.url]] as const) {
        rows.push(await measureLatency(page, url, impl));
        await page.goto('about:blank');
      }
      results.latency = { warmupS: LATENCY_WARMUP_S, seconds: LATENCY_S, pistream: rows[0], baseline: rows[1] };
      printTable(
        `1. Glass-to-glass latency, headless Chromium, ${LATENCY_S} s after ${LATENCY_WARMUP_S} s warm-up (ms)`,
        ['impl', 'samples', 'p50', 'p95', 'p99', 'max', 'fps'],
        rows.map((r, i) => [i === 0 ? 'pistream' : 'baseline', cell(r.samples, 0), cell(r.p50), cell(r.p95), cell(r.p99), cell(r.max), cell(r.fps)]),
      );
    }

    if (parts.has(2)) {
      const rows: [Impl, { joins: number[]; p50: number; p95: number }][] = [];
      for (const [impl, url] of [['pistream', server.url], ['baseline', baseline.url]] as const) {
        const warm = keepWarm(url);
        await sleep(1500);
        try {
          rows.push([impl, await timeToFirstPicture(url, impl)]);
        } finally {
          warm.terminate();
        }
      }
      results.firstPicture = Object.fromEntries(rows);
      printTable(
        `2. Time to first picture, fresh page joining at a random point of the GOP (${JOINS} joins, ms from navigation)`,
        ['impl', 'joins', 'p50', 'p95', 'max'],
        rows.map(([impl, r]) => [impl, cell(r.joins.length, 0), cell(r.p50, 0), cell(r.p95, 0), cell(Math.max(...r.joins), 0)]),
      );
    }
    if (pageErrors.length) results.pageErrors = pageErrors;

    await browser.close();
    browser = undefined;
    await server.stop();
    server = undefined;
    await baseline.stop();
  }

  if (parts.has(3) || parts.has(4)) {
    const fanout: Record<Impl, ClientsResult[]> = { pistream: [], baseline: [] };
    const slow: Record<Impl, ClientsResult[]> = { pistream: [], baseline: [] };
    for (const impl of ['pistream', 'baseline'] as const) {
      const child = impl === 'pistream' ? await startPistreamChild() : await startBaseline();
      try {
        const idleRss = rssMiB(child.pid);
        if (parts.has(3)) {
          for (const n of FANOUT) fanout[impl].push(await runClients(child.url, child.pid, n, 0, FANOUT_S));
          (fanout[impl] as unknown as { idleRssMiB?: number }).idleRssMiB = idleRss;
        }
        if (parts.has(4)) {
          slow[impl].push(await runClients(child.url, child.pid, 20, 0, SLOW_S));
          slow[impl].push(await runClients(child.url, child.pid, 20, 10, SLOW_S));
        }
      } finally {
        await child.stop();
      }
    }

    if (parts.has(3)) {
      const perViewer = (rs: ClientsResult[]): number => {
        const one = rs[0]!, top = rs[rs.length - 1]!;
        return top.connected > one.connected ? (top.cpuPct - one.cpuPct) / (top.connected - one.connected) : NaN;
      };
      const pv = { pistream: perViewer(fanout.pistream), baseline: perViewer(fanout.baseline) };
      results.fanout = {
        seconds: FANOUT_S,
        counts: FANOUT,
        pistream: fanout.pistream,
        baseline: fanout.baseline,
        cpuPctPerViewer: pv,
        ratioPistreamToBaseline: pv.pistream / pv.baseline,
      };
      const rows: string[][] = [];
      for (const impl of ['pistream', 'baseline'] as const) {
        const streamKbps = fanout[impl][0]?.medianKbps ?? NaN;
        for (const r of fanout[impl]) {
          rows.push([
            impl, cell(r.count, 0), cell(r.connected, 0), cell(r.minKbps, 0), cell(r.medianKbps, 0), cell(streamKbps, 0),
            cell(r.cpuPct), cell(r.rssMiB, 0), r.closeCodes.length ? r.closeCodes.join(',') : '',
          ]);
        }
      }
      printTable(
        `3. Fan-out, ws viewers on loopback, ${FANOUT_S} s each (kbit/s per viewer; server CPU % of one core; RSS MiB)`,
        ['impl', 'viewers', 'connected', 'min kb/s', 'median kb/s', 'stream kb/s', 'CPU %', 'RSS', 'closed with'],
        rows,
      );
      console.log(
        `   CPU per viewer (% of a core, (CPU@max − CPU@1)/(connected@max − 1)): pistream ${cell(pv.pistream, 3)}, ` +
          `baseline ${cell(pv.baseline, 3)}, pistream/baseline ${cell(pv.pistream / pv.baseline, 2)}`,
      );
    }

    if (parts.has(4)) {
      results.slowViewers = { seconds: SLOW_S, pistream: slow.pistream, baseline: slow.baseline };
      const rows: string[][] = [];
      for (const impl of ['pistream', 'baseline'] as const) {
        for (const r of slow[impl]) {
          rows.push([
            impl, `20 + ${r.paused} paused`, cell(r.connected, 0), cell(r.pausedConnected, 0), cell(r.minKbps, 0),
            cell(r.medianKbps, 0), cell(r.cpuPct), cell(r.rssMiB, 0),
          ]);
        }
      }
      printTable(
        `4. Slow viewers: 20 normal + 10 paused (stop reading), ${SLOW_S} s (normal viewers' kbit/s; server RSS MiB at the end)`,
        ['impl', 'viewers', 'normal open', 'paused open', 'min kb/s', 'median kb/s', 'CPU %', 'RSS'],
        rows,
      );
    }
  }
}

async function cleanup(): Promise<void> {
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await killAll();
}

function save(): void {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${(results.startedAt as string).replace(/[:.]/g, '-')}.json`);
  results.finishedAt = new Date().toISOString();
  writeFileSync(file, JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? round(v, 3) : v), 2) + '\n');
  console.log(`\nresults: ${file}`);
}

process.once('SIGINT', () => {
  void cleanup().finally(() => process.exit(130));
});
process.once('exit', killAllNow);

const t0 = Date.now();
main()
  .catch((err: unknown) => {
    results.error = err instanceof Error ? err.message : String(err);
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    save();
    console.log(`done in ${Math.round((Date.now() - t0) / 1000)} s`);
    // The in-process server's encoder teardown and pino may hold the loop a moment; don't wait on them.
    setTimeout(() => process.exit(), 500).unref();
  });
