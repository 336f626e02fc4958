// pistream benchmark: glass-to-glass latency (+ recovery from a CPU stall, + drift), connect-to-first-paint, fan-out
// CPU (+ cost per picture), slow viewers; each against a plain `ws` broadcast relay (bench/baseline-relay.ts) in the
// same run. Part 1 also plays H.264 through WebCodecs, with the server's CPU per stream; part 6 is quality per bit
// (bench/quality.ts), part 7 the encoders' own latency (bench/encoder-latency.ts). See bench/README.md.
// Run: npm run bench [-- --quick] [-- --parts 1,2,3,4,6,7] [-- --codec mpeg1|h264|all] [-- --drift-minutes 10]
//      [-- --rounds 3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import WebSocket from 'ws';
import { browserCpuSeconds, launchBrowser } from './browser';
import { ROOT, killAll, killAllNow, rssMiB } from './children';
import { startCodecServer, streamCost, treeCpuMeter, type BenchCodec, type StreamCost } from './codec-server';
import { ENCODER_LATENCY_CASES, codecName, measureEncoderLatency, type EncoderLatency } from './encoder-latency';
import { QUALITY_SIZES, printQuality, runQuality } from './quality';
import {
  BENCH_MAX_VIEWERS, cliSupportsMaxViewers, runClients, scrapeMetrics, sleep, startServer, type ClientsResult, type Impl,
  type RunningChild, type StreamSpec,
} from './servers';
import { cell, median, printTable, quantile, round } from './stats';

// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: {
  pistream?: {
    frames: number; painted: number; latencies: number[]; timings: Timings; join: { decodedAtFirstPaint: number } | null;
    player?: string | null;
  };
  frames?: number;
  latencies?: number[];
  timings?: Timings;
  __lat?: [number, number][];
};
declare const performance: { now(): number };

interface Timings {
  navigationToOpen: number | null;
  openToFirstPicture: number | null;
  openToFirstPaint: number | null;
}

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const parts = new Set((flag('--parts') ?? '1,2,3,4,6,7').split(',').map(Number));
/** Part 1's pages: MPEG-1's (pistream's two paint modes and the baseline), H.264's (WebCodecs), or all. */
const CODEC = flag('--codec') ?? 'all';
if (!['mpeg1', 'h264', 'all'].includes(CODEC)) throw new Error('--codec takes mpeg1, h264 or all');
const DRIFT_MIN = Number(flag('--drift-minutes') ?? 0);
if (DRIFT_MIN > 0) parts.add(5);

const SD: StreamSpec = { width: 640, height: 480, fps: 24, bitrateKbps: 800 };
const HD: StreamSpec = { width: 1280, height: 720, fps: 30, bitrateKbps: 2000 };
/**
 * H.264 (libx264 via `--codec h264`) at about 60–75% of MPEG-1's bitrate per pixel rate: 500 kbit/s at 640x480@24
 * (the codec's default), 1500 at 1280x720@30, 3000 at 1920x1080@30. 1920x1080 is played by H.264 only.
 */
const H264_KBPS: Record<string, number> = { '640x480@24': 500, '1280x720@30': 1500, '1920x1080@30': 3000 };
const FHD: StreamSpec = { width: 1920, height: 1080, fps: 30, bitrateKbps: 0 };
// Both sizes even with --quick: the page-CPU comparison of the two paint modes is at 1280x720@30.
const LATENCY_SPECS = CODEC === 'mpeg1' ? [SD, HD] : [SD, HD, FHD];
/** Server CPU per stream (one viewer, each server alone): seconds metered, after a settle. */
const COST_S = quick ? 5 : 10;
/** Part 6: seconds of video per case. */
const QUALITY_S = quick ? 4 : 10;
/** Part 7: seconds per encoder run. */
const ENCODER_S = quick ? 6 : 20;
/** Part 6's second, busier source: an ffmpeg lavfi generator (testsrc2, or mandelbrot: ~11 fps at 720p to generate). */
const QUALITY_BUSY = flag('--busy') ?? 'testsrc2';
const LATENCY_WARMUP_S = quick ? 3 : 5;
const LATENCY_S = quick ? 8 : 30;
const THROTTLE_RATE = 6;
const THROTTLE_S = 3;
/** How long after the stall the page is watched for recovery. */
const RECOVER_WATCH_S = quick ? 8 : 12;
/** Back under p95 means: this long in a row with every picture at or under the steady p95. */
const RECOVERED_HOLD_MS = 1000;
const JOINS = quick ? 5 : 20;
const FANOUT = quick ? [1, 100] : [1, 100, 500, 1000];
const FANOUT_S = quick ? 5 : 30;
// pistream runs with maxViewers = BENCH_MAX_VIEWERS: the largest fan-out must fit under it, or viewers are refused.
if (Math.max(...FANOUT) >= BENCH_MAX_VIEWERS) throw new Error(`fan-out of ${Math.max(...FANOUT)} viewers needs a cap above BENCH_MAX_VIEWERS`);
const ROUNDS = Number(flag('--rounds') ?? (quick ? 1 : 2));
/**
 * 20 paused: 10 whose TCP reading stops (a dead peer or network) and 10 stalled pages (the socket is read, nothing is
 * decoded or acked: what a frozen tab does, as the browser's network stack keeps reading).
 */
const SLOW = { normal: 100, paused: 10, stalled: 10, throttled: 5, throttleKbps: SD.bitrateKbps / 2 };
/** TCP-paused viewers need over a minute here before the kernel's socket buffers (~4 MiB) are full. */
const SLOW_S = quick ? 10 : 90;
const SLOW_REFERENCE_S = quick ? 8 : 30;
const SETTLE_S = 2;
const IMPLS: readonly Impl[] = ['pistream', 'baseline'];

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  quick,
  // Load averages at the start and (finishedAt) the end: other work on the machine shows in every figure.
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadAvgStart: loadavg() },
  streams: { sd: SD, hd: HD, gopSeconds: 1, h264Kbps: H264_KBPS },
  codec: CODEC,
};

let browser: BrowserContext | undefined;
const extraBrowsers = new Set<BrowserContext>();
const servers = new Set<RunningChild>();

async function up(impl: Impl, spec: StreamSpec): Promise<RunningChild> {
  const child = await startServer(impl, spec);
  servers.add(child);
  return child;
}

/** pistream from dist/cli.js with `--codec` (codec-server.ts). */
async function upCodec(spec: StreamSpec, codec: BenchCodec): Promise<RunningChild> {
  const child = await startCodecServer(spec, codec);
  servers.add(child);
  return child;
}

async function down(child: RunningChild): Promise<void> {
  servers.delete(child);
  await child.stop();
}

const label = (s: StreamSpec): string => `${s.width}x${s.height}@${s.fps}`;

// ---- 1. glass-to-glass latency and recovery after a CPU stall ---------------------------------------------------

/**
 * The pages part 1 (and 2) compare: pistream's page as shipped (each picture decoded and painted in its message's
 * handler), the same page with `?paint=frame` (the previous behaviour: everything buffered decoded on the next
 * animation frame), and the baseline relay's stock player.
 */
interface PageVariant {
  name: string;
  impl: Impl;
  /** pistream's codec (`--codec`); the baseline is MPEG-1. */
  codec: BenchCodec;
  /** Appended to the server's URL. */
  query: string;
}
const PAGE_VARIANTS: readonly PageVariant[] = [
  { name: 'pistream', impl: 'pistream', codec: 'mpeg1', query: '' },
  { name: 'pistream (paint=frame)', impl: 'pistream', codec: 'mpeg1', query: '?paint=frame' },
  { name: 'baseline', impl: 'baseline', codec: 'mpeg1', query: '' },
];
/** The page of a server run with `--codec h264`, at `http://127.0.0.1:PORT/` (a secure context): WebCodecs. */
const H264_VARIANT: PageVariant = { name: 'H.264 · WebCodecs', impl: 'pistream', codec: 'h264', query: '' };

/**
 * Part 1's pages at a stream size: MPEG-1's three (`--codec mpeg1`; only pistream's as shipped, as the reference,
 * with `--codec h264`) and H.264's; 1920x1080 is H.264's alone.
 */
function variantsFor(spec: StreamSpec): PageVariant[] {
  if (spec === FHD) return CODEC === 'mpeg1' ? [] : [H264_VARIANT];
  if (CODEC === 'mpeg1') return [...PAGE_VARIANTS];
  if (CODEC === 'h264') return [PAGE_VARIANTS[0]!, H264_VARIANT];
  return [...PAGE_VARIANTS, H264_VARIANT];
}

/** A stream size with the variant's bitrate (H.264's from H264_KBPS). */
function specFor(spec: StreamSpec, codec: BenchCodec): StreamSpec {
  return codec === 'h264' ? { ...spec, bitrateKbps: H264_KBPS[label(spec)]! } : spec;
}

interface LatencyResult {
  spec: string;
  impl: Impl;
  codec: BenchCodec;
  bitrateKbps: number;
  /** The page's player (`window.pistream.player`: 'jsmpeg' | 'webcodecs'; 'stock' for the baseline's). */
  player: string;
  /** The server (node) and its encoder (ffmpeg) over the steady window, % of one core. */
  serverPct: number;
  encoderPct: number;
  /** The page variant (PAGE_VARIANTS). */
  name: string;
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  decodedFps: number;
  paintedFps: number;
  /** ms from the end of the 6× CPU throttle until pictures stay ≤ the steady p95 for 1 s (NaN: not within the watch). */
  recoveryMs: number;
  /** Worst latency from the start of the throttle to the end of the watch. */
  stallMaxMs: number;
  /**
   * The page's main-thread time over the steady window, in % of the window (Chromium's Performance.getMetrics:
   * TaskDuration = every task, ScriptDuration = the JavaScript in them).
   */
  taskPct: number;
  scriptPct: number;
  /** The whole browser's CPU (every process, the GPU process included) over the steady window, % of one core. */
  browserPct: number;
}

/** Chromium's cumulative main-thread metrics of a page (seconds), and the moment they were read (ms). */
async function pageMetrics(cdp: CDPSession): Promise<{ task: number; script: number; at: number }> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name: string): number => metrics.find((m) => m.name === name)?.value ?? NaN;
  return { task: get('TaskDuration'), script: get('ScriptDuration'), at: Date.now() };
}

const counters = (impl: Impl) => (impl === 'pistream'
  ? () => ({ decoded: window.pistream?.frames ?? 0, painted: window.pistream?.painted ?? 0, at: performance.now() })
  : () => ({ decoded: window.frames ?? 0, painted: window.frames ?? 0, at: performance.now() }));

/** Makes the page record [performance.now(), latency] for every latency it pushes, in window.__lat. */
function recordLatencies(page: Page, impl: Impl): Promise<void> {
  return page.evaluate((isPistream) => {
    const list = isPistream ? window.pistream!.latencies : window.latencies!;
    const log: [number, number][] = (window.__lat = []);
    const push = list.push;
    list.push = function (...values: number[]) {
      for (const v of values) log.push([performance.now(), v]);
      return push.apply(this, values);
    };
  }, impl === 'pistream');
}

async function measureLatency(page: Page, spec: StreamSpec, server: RunningChild, variant: PageVariant): Promise<LatencyResult> {
  const { impl } = variant;
  await page.goto(server.url + variant.query);
  const hasFrames = impl === 'pistream' ? () => (window.pistream?.frames ?? 0) > 0 : () => (window.frames ?? 0) > 0;
  await page.waitForFunction(hasFrames, undefined, { timeout: 30_000 });
  const player = impl === 'pistream' ? String(await page.evaluate(() => window.pistream?.player ?? 'unknown')) : 'stock';
  await sleep(LATENCY_WARMUP_S * 1000);
  await recordLatencies(page, impl);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const read = counters(impl);
  const start = await page.evaluate(read);
  const cpuStart = await pageMetrics(cdp);
  const browserStart = browserCpuSeconds(page.context());
  const serverMeter = treeCpuMeter(server.pid);
  await sleep(LATENCY_S * 1000);
  const serverCpu = serverMeter.stop();
  const cpuEnd = await pageMetrics(cdp);
  const browserEnd = browserCpuSeconds(page.context());
  const end = await page.evaluate(read);
  const steady = (await page.evaluate(() => window.__lat!.splice(0))).map(([, l]) => l);
  const p95 = quantile(steady, 0.95);
  const cpuPct = (key: 'task' | 'script'): number => ((cpuEnd[key] - cpuStart[key]) * 1000 * 100) / (cpuEnd.at - cpuStart.at);

  // The stall: Chromium's CPU throttling slows the page's main thread (JS decode and paint) 6×.
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE_RATE });
  await sleep(THROTTLE_S * 1000);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  const throttleEnd = await page.evaluate(() => performance.now());
  await sleep(RECOVER_WATCH_S * 1000);
  const after = await page.evaluate(() => window.__lat!.splice(0));
  await cdp.detach();
  return {
    spec: label(spec),
    impl,
    codec: variant.codec,
    bitrateKbps: spec.bitrateKbps,
    player,
    serverPct: serverCpu.selfPct,
    encoderPct: serverCpu.childrenPct,
    name: variant.name,
    samples: steady.length,
    p50: quantile(steady, 0.5),
    p95,
    p99: quantile(steady, 0.99),
    max: quantile(steady, 1),
    decodedFps: ((end.decoded - start.decoded) * 1000) / (end.at - start.at),
    paintedFps: ((end.painted - start.painted) * 1000) / (end.at - start.at),
    recoveryMs: recoveryTime(after, throttleEnd, p95),
    stallMaxMs: after.length ? Math.max(...after.map(([, l]) => l)) : NaN,
    taskPct: cpuPct('task'),
    scriptPct: cpuPct('script'),
    browserPct: ((browserEnd - browserStart) * 1000 * 100) / (cpuEnd.at - cpuStart.at),
  };
}

/**
 * The first moment at or after `from` that starts a run of pictures, all ≤ `limit`, lasting RECOVERED_HOLD_MS
 * (and not cut off by the end of the samples), minus `from`; NaN if there is none.
 */
function recoveryTime(samples: readonly [number, number][], from: number, limit: number): number {
  const after = samples.filter(([t]) => t >= from);
  let runStart: number | undefined;
  for (const [t, latency] of after) {
    if (latency > limit) {
      runStart = undefined;
      continue;
    }
    runStart ??= t;
    if (t - runStart >= RECOVERED_HOLD_MS) return Math.max(0, runStart - from);
  }
  return NaN;
}

// ---- 2. connect-to-first-paint ---------------------------------------------------------------------------------

interface FirstPaint {
  navigationToOpen: number[];
  openToFirstPicture: number[];
  openToFirstPaint: number[];
  navigationToFirstPaint: number[];
  /** pistream's page: pictures decoded on the connection when it painted its first (the replayed GOP's share). */
  decodedAtFirstPaint: number[];
}

async function firstPaints(url: string, impl: Impl): Promise<FirstPaint> {
  const out: FirstPaint = { navigationToOpen: [], openToFirstPicture: [], openToFirstPaint: [], navigationToFirstPaint: [], decodedAtFirstPaint: [] };
  for (let i = 0; i < JOINS; i++) {
    // A random moment in the GOP (one GOP = one second here).
    await sleep(Math.random() * 1000);
    const page = await browser!.newPage();
    try {
      await page.goto(url);
      const timings = impl === 'pistream' ? () => window.pistream?.timings : () => window.timings;
      await page.waitForFunction(() => {
        const t = (window.pistream?.timings ?? window.timings);
        return t !== undefined && t.openToFirstPaint !== null;
      }, undefined, { timeout: 15_000 });
      const t = (await page.evaluate(timings))!;
      out.navigationToOpen.push(round(t.navigationToOpen!));
      out.openToFirstPicture.push(round(t.openToFirstPicture!));
      out.openToFirstPaint.push(round(t.openToFirstPaint!));
      out.navigationToFirstPaint.push(round(t.navigationToOpen! + t.openToFirstPaint!));
      if (impl === 'pistream') out.decodedAtFirstPaint.push((await page.evaluate(() => window.pistream!.join?.decodedAtFirstPaint)) ?? NaN);
    } finally {
      await page.close();
    }
  }
  return out;
}

/** A viewer socket that keeps the stream warm between joins (harmless for the always-on servers). */
function keepWarm(url: string): WebSocket {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + 'stream', { perMessageDeflate: false });
  ws.on('error', () => undefined);
  ws.on('message', () => undefined);
  return ws;
}

// ---- 5. drift ----------------------------------------------------------------------------------------------------

async function drift(page: Page, url: string, impl: Impl, minutes: number): Promise<Record<string, number>> {
  await page.goto(url);
  const hasFrames = impl === 'pistream' ? () => (window.pistream?.frames ?? 0) > 0 : () => (window.frames ?? 0) > 0;
  await page.waitForFunction(hasFrames, undefined, { timeout: 30_000 });
  await sleep(LATENCY_WARMUP_S * 1000);
  await recordLatencies(page, impl);
  const t0 = await page.evaluate(() => performance.now());
  const all: [number, number][] = [];
  // Collected every 10 s, so the page's own list never holds more than a few hundred.
  for (let waited = 0; waited < minutes * 60_000; waited += 10_000) {
    await sleep(10_000);
    all.push(...(await page.evaluate(() => window.__lat!.splice(0))));
  }
  const first = all.filter(([t]) => t - t0 < 60_000).map(([, l]) => l);
  const tEnd = all.length ? all[all.length - 1]![0] : t0;
  const last = all.filter(([t]) => tEnd - t < 60_000).map(([, l]) => l);
  return {
    firstP50: quantile(first, 0.5), firstP95: quantile(first, 0.95),
    lastP50: quantile(last, 0.5), lastP95: quantile(last, 0.95),
    samples: all.length,
  };
}

// ---- main --------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(
    `pistream bench ${quick ? '(quick)' : '(full)'}: ${cpus().length} CPUs, node ${process.version}; pistream via ` +
      `${cliSupportsMaxViewers() ? 'dist/cli.js --max-viewers' : 'bench/server.ts (CLI has no --max-viewers yet)'}; ` +
      `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  const pageErrors: string[] = [];
  const openBrowser = async (): Promise<Page> => {
    browser = await launchBrowser({ viewport: { width: 1300, height: 760 } });
    browser.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(e.message)));
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return page;
  };
  const closeBrowser = async (): Promise<void> => {
    await browser?.close();
    browser = undefined;
  };

  if (parts.has(1)) {
    const rows: LatencyResult[] = [];
    for (const spec of LATENCY_SPECS) {
      const variants = variantsFor(spec);
      // Every server this size's pages need up at once, so each page's run shares the machine with the same
      // background encoder work: pistream (MPEG-1), the baseline, pistream --codec h264.
      const key = (v: PageVariant): string => (v.impl === 'baseline' ? 'baseline' : v.codec);
      const byKey = new Map<string, RunningChild>();
      for (const v of variants) {
        if (byKey.has(key(v))) continue;
        byKey.set(key(v), v.impl === 'baseline' ? await up('baseline', spec) : v.codec === 'h264' ? await upCodec(specFor(spec, 'h264'), 'h264') : await up('pistream', spec));
      }
      const page = await openBrowser();
      for (const variant of variants) {
        rows.push(await measureLatency(page, specFor(spec, variant.codec), byKey.get(key(variant))!, variant));
        await page.goto('about:blank');
      }
      await closeBrowser();
      for (const child of byKey.values()) await down(child);
    }
    results.latency = { warmupS: LATENCY_WARMUP_S, seconds: LATENCY_S, throttle: { rate: THROTTLE_RATE, seconds: THROTTLE_S }, rows };
    printTable(
      `1. Glass-to-glass latency, headless Chromium, ${LATENCY_S} s after ${LATENCY_WARMUP_S} s warm-up (ms); then the page's ` +
        `CPU throttled ${THROTTLE_RATE}× for ${THROTTLE_S} s: time until every picture is ≤ the steady p95 for 1 s; page CPU = ` +
        'main-thread task / script time over the steady window, % of one core (CDP Performance.getMetrics, thread time); ' +
        'browser % = CPU of all the browser\'s processes (GPU process included) over the same window',
      ['stream', 'impl', 'kb/s', 'player', 'samples', 'p50', 'p95', 'p99', 'max', 'decoded fps', 'painted fps', 'recover ms', 'stall max', 'task %', 'script %', 'browser %', 'server %', 'encoder %'],
      rows.map((r) => [
        r.spec, r.name, cell(r.bitrateKbps, 0), r.player, cell(r.samples, 0), cell(r.p50), cell(r.p95), cell(r.p99), cell(r.max), cell(r.decodedFps),
        cell(r.paintedFps), Number.isFinite(r.recoveryMs) ? cell(r.recoveryMs, 0) : `> ${RECOVER_WATCH_S * 1000}`, cell(r.stallMaxMs, 0),
        cell(r.taskPct), cell(r.scriptPct), cell(r.browserPct, 0), cell(r.serverPct, 0), cell(r.encoderPct, 0),
      ]),
    );
    console.log('   server % / encoder % = the page\'s server (node) / its ffmpeg child over the steady window, % of one core');
    const row = (spec: StreamSpec, name: string): LatencyResult | undefined => rows.find((r) => r.spec === label(spec) && r.name === name);
    const [sd, sdFrame, sdBase] = PAGE_VARIANTS.map((v) => row(SD, v.name));
    const [hd, hdFrame] = PAGE_VARIANTS.map((v) => row(HD, v.name));
    if (sdFrame && sdBase) console.log('   targets: p50 ≤ 21, p95 ≤ 30 ms and both ≥ 6 ms below the baseline (640x480@24); page CPU ≤ paint=frame\'s (1280x720@30)');
    if (sd && sdFrame && sdBase) {
      console.log(
        `   640x480@24: pistream p50 ${cell(sd.p50)} / p95 ${cell(sd.p95)}; paint=frame ${cell(sdFrame.p50)} / ${cell(sdFrame.p95)}; ` +
          `below the baseline by ${cell(sdBase.p50 - sd.p50)} (p50) / ${cell(sdBase.p95 - sd.p95)} (p95)`,
      );
    }
    if (hd && hdFrame) {
      console.log(
        `   1280x720@30: page task % ${cell(hd.taskPct)} vs paint=frame ${cell(hdFrame.taskPct)}; script % ${cell(hd.scriptPct)} vs ` +
          `${cell(hdFrame.scriptPct)}; browser % ${cell(hd.browserPct, 0)} vs ${cell(hdFrame.browserPct, 0)}`,
      );
    }
  }

  if (parts.has(1) && CODEC !== 'mpeg1') {
    const goals = h264Goals(results.latency as { rows: LatencyResult[] });
    (results.latency as Record<string, unknown>).h264Goals = goals;
  }

  if (parts.has(1)) {
    // Server CPU per stream: each server alone (no browser), one ws viewer in this process.
    const costs: StreamCost[] = [];
    // Both codecs whatever --codec says (under a minute): the comparison is the point.
    const codecs: BenchCodec[] = ['mpeg1', 'h264'];
    // MPEG-1 at 1920x1080@30: 4500 kbit/s, the bits per pixel of its 2000 at 1280x720@30.
    for (const size of [SD, HD, { ...FHD, bitrateKbps: 4500 }]) {
      for (const codec of codecs) {
        const spec = specFor(size, codec);
        const child = await upCodec(spec, codec);
        try {
          costs.push(await streamCost(child, spec, codec, COST_S, SETTLE_S + 1));
        } finally {
          await down(child);
        }
      }
    }
    results.serverCost = { seconds: COST_S, rows: costs };
    printTable(
      `1b. Server CPU per stream: pistream alone (dist/cli.js --codec …), one ws viewer, ${COST_S} s; % of one core ` +
        '(server = the node process, encoder = its ffmpeg child, /proc)',
      ['stream', 'codec', 'kb/s', 'received kb/s', 'msgs/s', 'server %', 'encoder %', 'total %'],
      costs.map((c) => [
        c.stream, c.codec === 'h264' ? 'H.264' : 'MPEG-1', cell(c.bitrateKbps, 0), cell(c.receivedKbps, 0), cell(c.messagesPerSecond),
        cell(c.serverPct), cell(c.encoderPct), cell(c.totalPct),
      ]),
    );
  }

  if (parts.has(2)) {
    const pistream = await up('pistream', SD);
    const baseline = await up('baseline', SD);
    await openBrowser();
    const rows: [string, FirstPaint][] = [];
    for (const variant of PAGE_VARIANTS) {
      const child = variant.impl === 'pistream' ? pistream : baseline;
      const warm = keepWarm(child.url);
      await sleep(1500);
      try {
        rows.push([variant.name, await firstPaints(child.url + variant.query, child.impl)]);
      } finally {
        warm.terminate();
      }
    }
    await closeBrowser();
    await down(pistream);
    await down(baseline);
    results.firstPaint = Object.fromEntries(rows);
    printTable(
      `2. Connect-to-first-paint: ${JOINS} fresh pages joining at a random point of the 1 s GOP (ms; socket open → first picture painted)`,
      ['impl', 'joins', 'p50', 'p95', 'max', 'first decode p50', 'decodes at paint p50/max', 'nav→open p50', 'nav→paint p50', 'nav→paint p95'],
      rows.map(([name, r]) => [
        name, cell(r.openToFirstPaint.length, 0), cell(quantile(r.openToFirstPaint, 0.5), 0), cell(quantile(r.openToFirstPaint, 0.95), 0),
        cell(quantile(r.openToFirstPaint, 1), 0), cell(quantile(r.openToFirstPicture, 0.5), 0),
        r.decodedAtFirstPaint.length ? `${cell(quantile(r.decodedAtFirstPaint, 0.5), 0)}/${cell(quantile(r.decodedAtFirstPaint, 1), 0)}` : '',
        cell(quantile(r.navigationToOpen, 0.5), 0), cell(quantile(r.navigationToFirstPaint, 0.5), 0), cell(quantile(r.navigationToFirstPaint, 0.95), 0),
      ]),
    );
    console.log('   target: connect-to-first-paint ≤ 100 ms at the max of the joins');
  }

  if (parts.has(3) || parts.has(4)) {
    // Both servers up for the whole of parts 3 and 4, each encoding all the time, so neither run is quieter.
    const pistream = await up('pistream', SD);
    const baseline = await up('baseline', SD);
    const byImpl = { pistream, baseline };
    await sleep(2000);

    if (parts.has(3)) {
      const runs: Record<Impl, ClientsResult[][]> = { pistream: [], baseline: [] };
      for (const n of FANOUT) {
        const per: Record<Impl, ClientsResult[]> = { pistream: [], baseline: [] };
        for (let round = 0; round < ROUNDS; round++) {
          const order = round % 2 === 0 ? IMPLS : [...IMPLS].reverse();
          for (const impl of order) {
            const r = await runClients(byImpl[impl], { count: n, seconds: FANOUT_S, settle: SETTLE_S, delays: false });
            per[impl].push({ ...r, delays: [], throttledDelays: [] });
          }
        }
        for (const impl of IMPLS) runs[impl].push(per[impl]);
      }
      // Medians over rounds, per viewer count.
      const med = (impl: Impl, i: number, key: 'cpuPct' | 'rssMiB' | 'connected' | 'minKbps' | 'medianKbps'): number =>
        median(runs[impl][i]!.map((r) => r[key]));
      const perViewer = (impl: Impl, i: number): number =>
        (med(impl, i, 'cpuPct') - med(impl, 0, 'cpuPct')) / (med(impl, i, 'connected') - med(impl, 0, 'connected'));
      // µs of server CPU per picture per viewer: (extra CPU s/s) / (pictures/s × extra viewers).
      const usPerPicture = (impl: Impl, i: number): number => (perViewer(impl, i) / 100) * 1e6 / SD.fps;
      // The same for one round alone (against that round's 1-viewer run), to show the spread the medians hide.
      const usInRound = (impl: Impl, i: number, k: number): number => {
        const many = runs[impl][i]![k]!;
        const one = runs[impl][0]![k]!;
        return (((many.cpuPct - one.cpuPct) / (many.connected - one.connected)) / 100) * 1e6 / SD.fps;
      };
      // Memory a viewer costs: RSS growth over the 1-viewer run, per extra viewer, in KiB.
      const kibPerViewer = (impl: Impl, i: number): number =>
        ((med(impl, i, 'rssMiB') - med(impl, 0, 'rssMiB')) * 1024) / (med(impl, i, 'connected') - med(impl, 0, 'connected'));
      const rows: string[][] = [];
      const summary: Record<string, unknown>[] = [];
      for (const [i, n] of FANOUT.entries()) {
        for (const impl of IMPLS) {
          const rs = runs[impl][i]!;
          const closed = [...new Set(rs.flatMap((r) => r.closeCodes))];
          const pv = i === 0 ? NaN : perViewer(impl, i);
          summary.push({
            impl, viewers: n, cpuPct: med(impl, i, 'cpuPct'), cpuPctPerViewer: pv, usPerPicturePerViewer: i === 0 ? NaN : usPerPicture(impl, i),
            usPerPicturePerViewerByRound: i === 0 ? [] : rs.map((_, k) => round(usInRound(impl, i, k), 2)),
            kibPerViewer: i === 0 ? NaN : kibPerViewer(impl, i), rounds: rs.map((r) => round(r.cpuPct, 2)),
          });
          rows.push([
            impl, cell(n, 0), cell(med(impl, i, 'connected'), 0), cell(med(impl, i, 'minKbps'), 0), cell(med(impl, i, 'medianKbps'), 0),
            cell(med(impl, i, 'cpuPct')), rs.map((r) => cell(r.cpuPct)).join('/'), cell(med(impl, i, 'rssMiB'), 0),
            cell(pv, 4), cell(i === 0 ? NaN : usPerPicture(impl, i), 1),
            i === 0 ? '' : rs.map((_, k) => cell(usInRound(impl, i, k), 1)).join('/'),
            i === 0 ? '' : cell(kibPerViewer(impl, i), 0), closed.join(','),
          ]);
        }
        if (i > 0) {
          const roundRatios = runs.pistream[i]!.map((_, k) => cell(usInRound('pistream', i, k) / usInRound('baseline', i, k), 2)).join('/');
          rows.push(['', '', '', '', '', '', '', '', `ratio ${cell(perViewer('pistream', i) / perViewer('baseline', i), 2)}`, `ratio ${cell(usPerPicture('pistream', i) / usPerPicture('baseline', i), 2)}`, roundRatios, '', '']);
        }
      }
      results.fanout = { seconds: FANOUT_S, rounds: ROUNDS, counts: FANOUT, runs, summary };
      printTable(
        `3. Fan-out, ws viewers on loopback, ${FANOUT_S} s each, ${ROUNDS} alternating round(s), medians (kbit/s per viewer; ` +
          'server CPU % of one core; RSS MiB; per viewer = (CPU@n − CPU@1)/(n − 1); µs = server CPU per picture per viewer)',
        ['impl', 'viewers', 'connected', 'min kb/s', 'median kb/s', 'CPU %', 'rounds', 'RSS', '%/viewer', 'µs/pic/viewer', 'µs per round', 'KiB/viewer', 'closed with'],
        rows,
      );
      console.log('   target: pistream CPU per viewer ≤ 1.0× the baseline\'s; memory ≤ 50 KiB per viewer');
    }

    if (parts.has(4)) {
      const slowRows: Record<string, unknown>[] = [];
      const delayOffset: Partial<Record<Impl, number>> = {};
      const table: string[][] = [];
      for (const impl of IMPLS) {
        const child = byImpl[impl];
        const m0 = await scrapeMetrics(child);
        const reference = await runClients(child, { count: SLOW.normal, seconds: SLOW_REFERENCE_S, settle: SETTLE_S, delays: true, ack: true });
        const m1 = await scrapeMetrics(child);
        const rssBefore = rssMiB(child.pid);
        // The server's own count of viewers a few seconds before the window ends (a paused client never reads the
        // close frame, so it cannot tell that the server has closed it).
        const late = sleep((SETTLE_S + SLOW_S - 3) * 1000).then(() => scrapeMetrics(child));
        const slow = await runClients(child, {
          count: SLOW.normal, paused: SLOW.paused, stalled: SLOW.stalled, throttled: SLOW.throttled, throttleKbps: SLOW.throttleKbps,
          seconds: SLOW_S, settle: SETTLE_S, delays: true, ack: true,
        });
        const m2 = await scrapeMetrics(child);
        const viewersLate = (await late)['pistream_viewers'] ?? NaN;
        // pistream's PTS is the capture time, so its delays are exact; ffmpeg's (the baseline's) PTS has an unknown
        // origin: measured from the smallest delay any normal viewer saw in the reference run.
        const offset = impl === 'pistream' ? 0 : Math.min(...reference.delays) - 1;
        delayOffset[impl] = offset;
        const d = (xs: number[], p: number): number => quantile(xs, p) - offset;
        const delta = (a: Record<string, number>, b: Record<string, number>, key: string): number => (b[key] ?? NaN) - (a[key] ?? NaN);
        // Every reason (backlog, lag, resync, …): all are pictures a slow viewer did not get.
        const dropped = (m: Record<string, number>): Record<string, number> => Object.fromEntries(
          Object.entries(m).filter(([k]) => k.startsWith('pistream_dropped_pictures_total')).map(([k, v]) => [/reason="([^"]*)"/.exec(k)?.[1] ?? k, v]),
        );
        const d1 = dropped(m1), d2 = dropped(m2);
        const dropsByReason = Object.fromEntries(Object.keys(d2).map((k) => [k, d2[k]! - (d1[k] ?? 0)]));
        const drops = impl === 'pistream' ? Object.values(dropsByReason).reduce((a, b) => a + b, 0) : NaN;
        const row = {
          impl,
          reference: { p50: d(reference.delays, 0.5), p95: d(reference.delays, 0.95), p99: d(reference.delays, 0.99), kbps: reference.medianKbps, rssMiB: reference.rssMiB, cpuPct: reference.cpuPct, droppedInReference: impl === 'pistream' ? Object.entries(dropped(m1)).reduce((n, [k, v]) => n + v - (dropped(m0)[k] ?? 0), 0) : NaN },
          withSlow: {
            p50: d(slow.delays, 0.5), p95: d(slow.delays, 0.95), p99: d(slow.delays, 0.99), kbps: slow.medianKbps, minKbps: slow.minKbps,
            rssMiBBefore: rssBefore, rssMiB: slow.rssMiB, cpuPct: slow.cpuPct, normalOpen: slow.connected, pausedOpen: slow.pausedConnected,
            throttledOpen: slow.throttledConnected, dropsPerSlowViewer: drops / (SLOW.paused + SLOW.stalled + SLOW.throttled), dropsByReason,
            closeCodes: slow.closeCodes, serverViewersAtEnd: viewersLate,
            resyncs: delta(m1, m2, 'pistream_resyncs_total'), throttledKbps: slow.throttledKbps,
            throttledP50: d(slow.throttledDelays, 0.5), throttledP95: d(slow.throttledDelays, 0.95), throttledMax: d(slow.throttledDelays, 1),
          },
        };
        slowRows.push(row);
        const w = row.withSlow;
        table.push([impl, `${SLOW.normal}`, cell(row.reference.p50), cell(row.reference.p95), cell(row.reference.kbps, 0), cell(row.reference.rssMiB, 0), '', '', '', '', '']);
        table.push([
          impl, `${SLOW.normal}+${SLOW.paused}p+${SLOW.stalled}s+${SLOW.throttled}t`, cell(w.p50), cell(w.p95), cell(w.kbps, 0), cell(w.rssMiB, 0),
          impl === 'pistream' ? cell(w.serverViewersAtEnd, 0) : `${SLOW.normal + SLOW.stalled + w.pausedOpen + w.throttledOpen}`, cell(w.dropsPerSlowViewer, 0), cell(w.resyncs, 0), cell(w.throttledKbps, 0),
          `${cell(w.throttledP50, 0)}/${cell(w.throttledP95, 0)}/${cell(w.throttledMax, 0)}`,
        ]);
      }
      results.slowViewers = { seconds: SLOW_S, referenceSeconds: SLOW_REFERENCE_S, ...SLOW, delayOffset, rows: slowRows };
      printTable(
        `4. Slow viewers: ${SLOW.normal} normal, then + ${SLOW.paused} paused (stop reading TCP) + ${SLOW.stalled} stalled (read, stop acking) + ${SLOW.throttled} throttled ` +
          `(read ≤ ${SLOW.throttleKbps} kbit/s), ${SLOW_S} s (reference ${SLOW_REFERENCE_S} s). Delay = capture → socket read (ms), ` +
          'normal viewers; RSS MiB at the end; drops per slow viewer from /metrics',
        ['impl', 'viewers', 'delay p50', 'delay p95', 'kb/s', 'RSS', 'open at end', 'drops/slow', 'resyncs', 'thr kb/s', 'thr delay p50/p95/max'],
        table,
      );
      for (const r of slowRows as { impl: Impl; withSlow: { dropsByReason: Record<string, number>; closeCodes: number[] } }[]) {
        if (r.impl !== 'pistream') continue;
        console.log(`   pistream drops by reason over the run: ${Object.entries(r.withSlow.dropsByReason).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
    }
    await down(pistream);
    await down(baseline);
  }

  if (parts.has(5)) {
    const pistream = await up('pistream', SD);
    const baseline = await up('baseline', SD);
    // Both pages at once, so a 10-minute drift run costs 10 minutes; each in its own browser, as a second tab in
    // one window would be a background tab, its animation frames throttled.
    const first = await openBrowser();
    const other = await launchBrowser({ viewport: { width: 1300, height: 760 } });
    extraBrowsers.add(other);
    const second = other.pages()[0] ?? (await other.newPage());
    second.on('pageerror', (e) => pageErrors.push(e.message));
    const [p, b] = await Promise.all([drift(first, pistream.url, 'pistream', DRIFT_MIN), drift(second, baseline.url, 'baseline', DRIFT_MIN)]);
    await closeBrowser();
    await other.close();
    extraBrowsers.delete(other);
    await down(pistream);
    await down(baseline);
    results.drift = { minutes: DRIFT_MIN, pistream: p, baseline: b };
    printTable(
      `5. Drift: latency in the first and the last minute of a ${DRIFT_MIN}-minute run (ms, both pages at once)`,
      ['impl', 'samples', 'first p50', 'first p95', 'last p50', 'last p95'],
      ([['pistream', p], ['baseline', b]] as const).map(([impl, r]) => [impl, cell(r.samples!, 0), cell(r.firstP50), cell(r.firstP95), cell(r.lastP50), cell(r.lastP95)]),
    );
  }
  if (parts.has(6)) {
    const quality = await runQuality({
      seconds: QUALITY_S, sources: ['pattern', QUALITY_BUSY], sizes: QUALITY_SIZES, mpeg1Kbps: 800, h264Kbps: [800, 400, 200], refine: true,
    });
    results.quality = quality;
    printQuality(quality, '6. Quality per bit');
  }

  if (parts.has(7)) {
    const rows: EncoderLatency[] = [];
    for (const c of ENCODER_LATENCY_CASES) rows.push(await measureEncoderLatency({ ...c, seconds: ENCODER_S, warmup: 24 }));
    results.encoderLatency = { seconds: ENCODER_S, warmup: 24, rows };
    printTable(
      `7. Encoder latency: test-pattern frame offered to the server's encoder operator → its picture / access unit out of ffmpeg ` +
        `(ms), ${ENCODER_S} s each after 24 warm-up pictures, nothing else of the bench running`,
      ['stream', 'codec', 'kb/s', 'samples', 'p50', 'p95', 'p99', 'max', 'dropped'],
      rows.map((r) => [r.stream, codecName(r.codec), cell(r.bitrateKbps, 0), cell(r.samples, 0), cell(r.p50, 2), cell(r.p95, 2), cell(r.p99, 2), cell(r.max, 1), cell(r.framesDropped, 0)]),
    );
    const sdH264 = rows.find((r) => r.codec === 'h264' && r.stream === label(SD));
    if (sdH264) console.log(`   goal: libx264 p50 ≤ 5 ms at 640x480: ${cell(sdH264.p50, 2)} ms, ${sdH264.p50 <= 5 ? 'met' : 'missed'}`);
  }
  if (pageErrors.length) results.pageErrors = pageErrors;
}

/** The issue's goals for the H.264 · WebCodecs page, from part 1's rows; printed and returned. */
function h264Goals(latency: { rows: LatencyResult[] }): Record<string, unknown> {
  const find = (spec: StreamSpec, name: string): LatencyResult | undefined => latency.rows.find((r) => r.spec === label(spec) && r.name === name);
  const sdH = find(SD, H264_VARIANT.name), sdM = find(SD, PAGE_VARIANTS[0]!.name);
  const hdH = find(HD, H264_VARIANT.name), fhdH = find(FHD, H264_VARIANT.name);
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : 'missed');
  const players = [sdH, hdH, fhdH].filter((r): r is LatencyResult => r !== undefined).map((r) => r.player);
  const webcodecs = players.length > 0 && players.every((p) => p === 'webcodecs');
  const sdOk = sdH && sdM ? webcodecs && sdH.p50 <= sdM.p50 : undefined;
  const hdOk = hdH ? webcodecs && hdH.paintedFps >= 29 && hdH.p50 <= 35 : undefined;
  console.log(`   H.264 goals${webcodecs ? '' : ` (player: ${players.join('/')}, not WebCodecs: every goal missed)`}:`);
  console.log(`   640x480@24: H.264 · WebCodecs p50 ${cell(sdH?.p50)} ≤ MPEG-1 page's ${cell(sdM?.p50)}: ${verdict(sdOk)}`);
  console.log(`   1280x720@30: painted fps ${cell(hdH?.paintedFps)} ≥ 29 and p50 ${cell(hdH?.p50)} ≤ 35 ms: ${verdict(hdOk)}`);
  if (fhdH) console.log(`   1920x1080@30 (no goal; the scratch page's p50 was 28 ms): p50 ${cell(fhdH.p50)}, painted fps ${cell(fhdH.paintedFps)}`);
  return { webcodecs, sd: { h264P50: sdH?.p50, mpeg1P50: sdM?.p50, met: sdOk }, hd: { paintedFps: hdH?.paintedFps, p50: hdH?.p50, met: hdOk } };
}

async function cleanup(): Promise<void> {
  await browser?.close().catch(() => undefined);
  await Promise.all([...extraBrowsers].map((b) => b.close().catch(() => undefined)));
  await Promise.all([...servers].map((s) => s.stop().catch(() => undefined)));
  await killAll();
}

function save(): void {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${(results.startedAt as string).replace(/[:.]/g, '-')}.json`);
  results.finishedAt = new Date().toISOString();
  results.loadAvgEnd = loadavg();
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
    console.log(`done in ${Math.round((Date.now() - t0) / 1000)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    setTimeout(() => process.exit(), 500).unref();
  });
