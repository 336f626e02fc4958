// pistream benchmark: glass-to-glass latency (+ recovery from a CPU stall, + drift), connect-to-first-paint, fan-out
// CPU (+ cost per picture), slow viewers; each against a plain `ws` broadcast relay (bench/baseline-relay.ts) in the
// same run. Part 1 also plays H.264 through WebCodecs and MSE, with the server's CPU per stream (1b) and the cost of
// the MPEG-1 transcode an H.264 server runs for JSMpeg viewers (1c); part 6 is quality per bit (bench/quality.ts),
// part 7 the encoders' own latency (bench/encoder-latency.ts). See bench/README.md.
// Part 8 is a viewer on a real link (bench/net/net-bench.ts).
// Run: npm run bench [-- --quick] [-- --parts 1,2,3,4,6,7,8] [-- --codec all|mpeg1|h264|webcodecs|mse|transcode[,…]]
//      [-- --drift-minutes 10] [-- --rounds 3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import WebSocket from 'ws';
import { browserCpuSeconds, launchBrowser } from './browser';
import { ROOT, killAll, killAllNow, rssMiB } from './children';
import { ffmpegCount, startCodecServer, streamCost, treeCpuMeter, type BenchCodec, type StreamCost } from './codec-server';
import { ENCODER_LATENCY_CASES, codecName, measureEncoderLatency, type EncoderLatency } from './encoder-latency';
import { runFanout, type Contender } from './fanout';
import { runNetBench } from './net/net-bench';
import { QUALITY_SIZES, printQuality, runQuality } from './quality';
import { JOIN_PLAYERS, printScreenJoins, screenJoins, type ScreenJoinOptions } from './screen-join';
import { FHD, H264_KBPS, HD, SD, h264Spec, label } from './streams';
import { webrtcGlassGoals } from './webrtc-glass';
import {
  BENCH_MAX_VIEWERS,
  cliSupportsMaxViewers,
  runClients,
  scrapeMetrics,
  sleep,
  startPistream,
  startServer,
  type Impl,
  type RunningChild,
  type StreamSpec,
} from './servers';
import { cell, printTable, quantile, round } from './stats';

// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: {
  pistream?: {
    frames: number;
    painted: number;
    latencies: number[];
    timings: Timings;
    join: { decodedAtFirstPaint: number } | null;
    player?: string | null;
    /** The MSE player's own counters (public/mse-player.js). */
    mse?: { gapMs: number | null; seeks: number; reopens: number; dropped: number; quotaErrors: number; trims: number; errors: string[] };
  };
  isSecureContext?: boolean;
  frames?: number;
  latencies?: number[];
  timings?: Timings;
  __lat?: [number, number][];
  /** [performance.now(), window.pistream.mse.gapMs] every GAP_SAMPLE_MS (drift, MSE page). */
  __gap?: [number, number][];
};
declare function setInterval(fn: () => void, ms: number): unknown;
declare const performance: { now(): number };

interface Timings {
  navigationToOpen: number | null;
  openToFirstPicture: number | null;
  openToFirstPaint: number | null;
}

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const parts = new Set((flag('--parts') ?? '1,2,3,4,6,7,8,9').split(',').map(Number));
/**
 * What part 1 (and 5) measure, a comma list: `mpeg1` (MPEG-1's three pages), `webcodecs` (H.264 · WebCodecs, with
 * MPEG-1's page as shipped as its reference), `mse` (H.264 · MSE at a non-secure name, with WebCodecs as its
 * reference), `transcode` (1c: JSMpeg through the MPEG-1 transcode of an H.264 server against an MPEG-1 server),
 * `webrtc` (H.264 · WebRTC, `?player=webrtc`, with WebCodecs as its reference); `h264` = webcodecs,mse,transcode,webrtc;
 * `all` (default) = everything.
 */
const CODEC = flag('--codec') ?? 'all';
const CODEC_WORDS: Record<string, readonly string[]> = {
  mpeg1: ['mpeg1'],
  webcodecs: ['webcodecs'],
  mse: ['mse'],
  transcode: ['transcode'],
  webrtc: ['webrtc'],
  h264: ['webcodecs', 'mse', 'transcode', 'webrtc'],
  all: ['mpeg1', 'webcodecs', 'mse', 'transcode', 'webrtc'],
};
const SELECTED = new Set(
  CODEC.split(',').flatMap((word) => {
    const words = CODEC_WORDS[word];
    if (!words) throw new Error(`--codec takes a comma list of ${Object.keys(CODEC_WORDS).join(', ')}; not ${word}`);
    return words;
  }),
);
const WITH_MPEG1 = SELECTED.has('mpeg1');
const WITH_WEBCODECS = SELECTED.has('webcodecs');
const WITH_MSE = SELECTED.has('mse');
const WITH_TRANSCODE = SELECTED.has('transcode');
const WITH_WEBRTC = SELECTED.has('webrtc');
const DRIFT_MIN = Number(flag('--drift-minutes') ?? 0);
if (DRIFT_MIN > 0) parts.add(5);

// --quick: every part and codec once, in under 3 minutes on 2 cores (bench/README.md): 640x480@24 only, each
// codec's page once (no paint=frame or baseline page), short windows. The full bench measures both sizes.
const LATENCY_SPECS = quick ? [SD] : WITH_WEBCODECS ? [SD, HD, FHD] : [SD, HD];
/** The MSE page is opened at this name (Chromium maps it to 127.0.0.1): not a secure context, so no WebCodecs. */
const INSECURE_HOST = 'pistream.test';
const RESOLVE_INSECURE_HOST = `--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`;
/** 1c: rounds of the two JSMpeg pages (MPEG-1 server, H.264 server's transcode), alternating; seconds each. */
const TRANSCODE_ROUNDS = quick ? 1 : 2;
const TRANSCODE_S = quick ? 2 : 20;
/**
 * `--bypass-csp`: every page's Content-Security-Policy ignored (Playwright's bypassCSP), e.g. to measure the MSE
 * player while the server's policy still refuses its blob: media. Marked in the header and the JSON.
 */
const BYPASS_CSP = argv.includes('--bypass-csp');
/** Drift: the MSE page's gap (buffered end − playhead) is sampled this often. */
const GAP_SAMPLE_MS = 500;
/** Server CPU per stream (one viewer, each server alone): seconds metered, after a settle. */
const COST_S = quick ? 2 : 10;
/** 1b and 1c's stream sizes (quick: 640x480@24 only; 1920x1080@30 for MPEG-1 at 4500 kbit/s, the bits per pixel of its 2000 at 1280x720@30). */
const COST_SIZES = quick ? [SD] : [SD, HD, { ...FHD, bitrateKbps: 4500 }];
/** Part 6: seconds of video per case. */
const QUALITY_S = quick ? 2 : 10;
/** Part 7: seconds per encoder run. */
const ENCODER_S = quick ? 2 : 20;
/** Part 6's second, busier source: an ffmpeg lavfi generator (testsrc2, or mandelbrot: ~11 fps at 720p to generate). */
const QUALITY_BUSY = flag('--busy') ?? 'testsrc2';
const LATENCY_WARMUP_S = quick ? 1 : 5;
const LATENCY_S = quick ? 2 : 30;
const THROTTLE_RATE = 6;
const THROTTLE_S = quick ? 1 : 3;
/** How long after the stall the page is watched for recovery. */
const RECOVER_WATCH_S = quick ? 2 : 12;
/** Back under p95 means: this long in a row with every picture at or under the steady p95. */
const RECOVERED_HOLD_MS = 1000;
const JOINS = quick ? 3 : 20;
/** Part 8 (join on screen): fresh pages per player; seconds of steady glass on screen per player. */
const SCREEN_JOINS = quick ? 1 : 10;
const SCREEN_STEADY_S = quick ? 1 : 10;
/** Part 8: how long a join's screen is watched after the page's first paint (the screen shows it within ~100 ms here). */
const SCREEN_SHOW_WAIT_MS = quick ? 500 : 1000;
/** `--join-players webrtc,mse`: part 8 for these players alone (a player with a page option is named with it, e.g. `jsmpeg&prime=off`). */
const JOIN_ONLY = flag('--join-players')?.split(',');
/**
 * Part 9 in `--quick`: once, WebRTC (the transport no other quick part puts through a link) through the one profile
 * with a recovery (the 15 s outage). The full bench (and `npm run bench:net -- --quick`) runs every player; four
 * players through three profiles took over four minutes of the quick run alone.
 */
const QUICK_NET = { players: ['webrtc'], profiles: ['outage'] } as const;
/** Fan-out viewer counts (each with its own 1-viewer reference); `--fanout 500,1000` picks others. */
const FANOUT = (flag('--fanout') ?? (quick ? '100' : '100,500,1000')).split(',').map(Number);
const FANOUT_S = quick ? 2 : 30;
/** Each many-viewer run's own 1-viewer reference, just before it; before that, each fresh server settles with 1 viewer. */
const REFERENCE_S = quick ? 2 : 15;
const FANOUT_WARM_S = quick ? 1 : 20;
/**
 * The fan-out's servers: pistream, the relay, and with `--compare-dist DIR` also pistream run from another build's
 * `dist/` (e.g. a copy of main's, to set a change against what it changes in one run).
 */
const COMPARE_DIST = flag('--compare-dist');
const FANOUT_CONTENDERS: readonly Contender[] = [
  { name: 'pistream', relay: false, start: () => up('pistream', SD) },
  { name: 'baseline', relay: true, start: () => up('baseline', SD) },
  ...(COMPARE_DIST
    ? [
        {
          name: `pistream (${COMPARE_DIST})`,
          relay: false,
          start: () => track(startPistream(SD, [], 'plugin', BENCH_MAX_VIEWERS, resolve(COMPARE_DIST))),
        },
      ]
    : []),
];
// pistream runs with maxViewers = BENCH_MAX_VIEWERS: the largest fan-out must fit under it, or viewers are refused.
if (Math.max(...FANOUT) >= BENCH_MAX_VIEWERS)
  throw new Error(`fan-out of ${Math.max(...FANOUT)} viewers needs a cap above BENCH_MAX_VIEWERS`);
/** Fan-out rounds per viewer count: 3 by default, so each median is of at least three alternating rounds. */
const ROUNDS = Number(flag('--rounds') ?? (quick ? 1 : 3));
/**
 * 20 paused: 10 whose TCP reading stops (a dead peer or network) and 10 stalled pages (the socket is read, nothing is
 * decoded or acked: what a frozen tab does, as the browser's network stack keeps reading).
 */
const SLOW = { normal: 100, paused: 10, stalled: 10, throttled: 5, throttleKbps: SD.bitrateKbps / 2 };
/** TCP-paused viewers need over a minute here before the kernel's socket buffers (~4 MiB) are full. */
const SLOW_S = quick ? 4 : 90;
const SLOW_REFERENCE_S = quick ? 2 : 30;
const SETTLE_S = quick ? 1 : 2;
const IMPLS: readonly Impl[] = ['pistream', 'baseline'];

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  quick,
  // Load averages at the start and (finishedAt) the end: other work on the machine shows in every figure.
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadAvgStart: loadavg() },
  streams: { sd: SD, hd: HD, gopSeconds: 1, h264Kbps: H264_KBPS },
  codec: CODEC,
  selected: [...SELECTED],
  bypassCSP: BYPASS_CSP,
};

/** When each part (or sub-part) began, in order; `end` after the last: how long each took, at the end of the run. */
const partStarts: [string, number][] = [];
function partStarted(part: string): void {
  partStarts.push([part, Date.now()]);
}
/** Seconds per part that ran something (a part skipped by its flags takes no time and is left out). */
function partSeconds(): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < partStarts.length; i++) {
    const s = (partStarts[i + 1]![1] - partStarts[i]![1]) / 1000;
    if (s >= 0.5) out[partStarts[i]![0]] = Math.round(s);
  }
  return out;
}

let browser: BrowserContext | undefined;
const extraBrowsers = new Set<BrowserContext>();
const servers = new Set<RunningChild>();

async function up(impl: Impl, spec: StreamSpec): Promise<RunningChild> {
  return track(startServer(impl, spec));
}

/** A started server, kept in `servers` until `down`. */
async function track(starting: Promise<RunningChild>): Promise<RunningChild> {
  const child = await starting;
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
  /** The page's host instead of 127.0.0.1 (INSECURE_HOST: the browser must map it, RESOLVE_INSECURE_HOST). */
  host?: string;
}
const PAGE_VARIANTS: readonly PageVariant[] = [
  { name: 'pistream', impl: 'pistream', codec: 'mpeg1', query: '' },
  { name: 'pistream (paint=frame)', impl: 'pistream', codec: 'mpeg1', query: '?paint=frame' },
  { name: 'baseline', impl: 'baseline', codec: 'mpeg1', query: '' },
];
/** The page of a server run with `--codec h264`, at `http://127.0.0.1:PORT/` (a secure context): WebCodecs. */
const H264_VARIANT: PageVariant = { name: 'H.264 · WebCodecs', impl: 'pistream', codec: 'h264', query: '' };
/**
 * The same page at `http://pistream.test:PORT/`, a name that is not a secure context (no VideoDecoder there), as on
 * a Pi opened at its LAN address; forced with ?player=mse, as at such a name the ladder tries WebRTC before MSE.
 */
const MSE_VARIANT: PageVariant = { name: 'H.264 · MSE', impl: 'pistream', codec: 'h264', query: '?player=mse', host: INSECURE_HOST };
/** The H.264 server's page with the WebRTC player (WHEP), at 127.0.0.1 (where the ladder would take WebCodecs). */
const WEBRTC_VARIANT: PageVariant = { name: 'H.264 · WebRTC', impl: 'pistream', codec: 'h264', query: '?player=webrtc' };
/** 1c: JSMpeg on an H.264 server's `/stream` (the MPEG-1 transcode), and on an MPEG-1 server's (direct). */
const TRANSCODED_VARIANT: PageVariant = { name: 'JSMpeg · transcode', impl: 'pistream', codec: 'h264', query: '?player=jsmpeg' };
const DIRECT_VARIANT: PageVariant = { name: 'JSMpeg · direct', impl: 'pistream', codec: 'mpeg1', query: '?player=jsmpeg' };

/** A variant's page on a server. */
const pageUrl = (server: RunningChild, variant: PageVariant): string =>
  (variant.host ? server.url.replace('//127.0.0.1:', `//${variant.host}:`) : server.url) + variant.query;

/**
 * Part 1's pages at a stream size: MPEG-1's three (`mpeg1`; only pistream's as shipped, as the reference, with
 * `webcodecs` alone), H.264 · WebCodecs (with `webcodecs`, and as the reference of `mse`) and H.264 · MSE (640x480
 * and 1280x720); 1920x1080 is WebCodecs' alone.
 */
function variantsFor(spec: StreamSpec): PageVariant[] {
  if (spec === FHD) return WITH_WEBCODECS ? [H264_VARIANT] : [];
  const list: PageVariant[] = WITH_MPEG1 && !quick ? [...PAGE_VARIANTS] : WITH_MPEG1 || WITH_WEBCODECS ? [PAGE_VARIANTS[0]!] : [];
  if (WITH_WEBCODECS || WITH_MSE || WITH_WEBRTC) list.push(H264_VARIANT);
  if (WITH_MSE) list.push(MSE_VARIANT);
  if (WITH_WEBRTC) list.push(WEBRTC_VARIANT);
  return list;
}

/** A stream size with the variant's bitrate (H.264's from H264_KBPS, bench/streams.ts). */
function specFor(spec: StreamSpec, codec: BenchCodec): StreamSpec {
  return codec === 'h264' ? h264Spec(spec) : spec;
}

interface LatencyResult {
  spec: string;
  impl: Impl;
  codec: BenchCodec;
  bitrateKbps: number;
  /** The page's player (`window.pistream.player`: 'jsmpeg' | 'webcodecs' | 'mse'; 'stock' for the baseline's). */
  player: string;
  /** The page's `isSecureContext` (false at INSECURE_HOST). */
  secureContext: boolean;
  /** The MSE player's counters at the end (seeks to the live edge, reopens, dropped messages, …). */
  mse?: NonNullable<NonNullable<typeof window.pistream>['mse']>;
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
  /** The steady window's latencies themselves (1c pools its rounds). */
  steadySamples?: number[];
}

/** Chromium's cumulative main-thread metrics of a page (seconds), and the moment they were read (ms). */
async function pageMetrics(cdp: CDPSession): Promise<{ task: number; script: number; at: number }> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name: string): number => metrics.find((m) => m.name === name)?.value ?? NaN;
  return { task: get('TaskDuration'), script: get('ScriptDuration'), at: Date.now() };
}

const counters = (impl: Impl) =>
  impl === 'pistream'
    ? () => ({ decoded: window.pistream?.frames ?? 0, painted: window.pistream?.painted ?? 0, at: performance.now() })
    : () => ({ decoded: window.frames ?? 0, painted: window.frames ?? 0, at: performance.now() });

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

/**
 * A page's steady latencies, frame rates and CPU over `seconds` after the warm-up; then (unless `recovery` is false)
 * the 6× CPU throttle for THROTTLE_S and the time back under the steady p95.
 */
async function measureLatency(
  page: Page,
  spec: StreamSpec,
  server: RunningChild,
  variant: PageVariant,
  { recovery = true, seconds = LATENCY_S, keepSamples = false } = {},
): Promise<LatencyResult> {
  const { impl } = variant;
  await page.goto(pageUrl(server, variant));
  const hasFrames = impl === 'pistream' ? () => (window.pistream?.frames ?? 0) > 0 : () => (window.frames ?? 0) > 0;
  await page.waitForFunction(hasFrames, undefined, { timeout: 30_000 });
  const player = impl === 'pistream' ? String(await page.evaluate(() => window.pistream?.player ?? 'unknown')) : 'stock';
  const secureContext = await page.evaluate(() => window.isSecureContext === true);
  await sleep(LATENCY_WARMUP_S * 1000);
  await recordLatencies(page, impl);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const read = counters(impl);
  const start = await page.evaluate(read);
  const cpuStart = await pageMetrics(cdp);
  const browserStart = browserCpuSeconds(page.context());
  const serverMeter = treeCpuMeter(server.pid);
  await sleep(seconds * 1000);
  const serverCpu = serverMeter.stop();
  const cpuEnd = await pageMetrics(cdp);
  const browserEnd = browserCpuSeconds(page.context());
  const end = await page.evaluate(read);
  const steady = (await page.evaluate(() => window.__lat!.splice(0))).map(([, l]) => l);
  const p95 = quantile(steady, 0.95);
  const cpuPct = (key: 'task' | 'script'): number => ((cpuEnd[key] - cpuStart[key]) * 1000 * 100) / (cpuEnd.at - cpuStart.at);

  // The stall: Chromium's CPU throttling slows the page's main thread (JS decode and paint) 6×.
  let after: [number, number][] = [];
  let throttleEnd = NaN;
  if (recovery) {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE_RATE });
    await sleep(THROTTLE_S * 1000);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    throttleEnd = await page.evaluate(() => performance.now());
    await sleep(RECOVER_WATCH_S * 1000);
    after = await page.evaluate(() => window.__lat!.splice(0));
  }
  await cdp.detach();
  const mse = player === 'mse' ? await page.evaluate(() => window.pistream?.mse) : undefined;
  return {
    spec: label(spec),
    impl,
    codec: variant.codec,
    bitrateKbps: spec.bitrateKbps,
    player,
    secureContext,
    ...(mse ? { mse } : {}),
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
    ...(keepSamples ? { steadySamples: steady } : {}),
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
  const out: FirstPaint = {
    navigationToOpen: [],
    openToFirstPicture: [],
    openToFirstPaint: [],
    navigationToFirstPaint: [],
    decodedAtFirstPaint: [],
  };
  for (let i = 0; i < JOINS; i++) {
    // A random moment in the GOP (one GOP = one second here).
    await sleep(Math.random() * 1000);
    const page = await browser!.newPage();
    try {
      await page.goto(url);
      const timings = impl === 'pistream' ? () => window.pistream?.timings : () => window.timings;
      await page.waitForFunction(
        () => {
          const t = window.pistream?.timings ?? window.timings;
          return t !== undefined && t.openToFirstPaint !== null;
        },
        undefined,
        { timeout: 15_000 },
      );
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

interface DriftResult {
  name: string;
  player: string;
  samples: number;
  firstP50: number;
  firstP95: number;
  lastP50: number;
  lastP95: number;
  /** p50 of each whole minute, in order. */
  minuteP50: number[];
  /** MSE page: `window.pistream.mse.gapMs` (buffered end − playhead) sampled every GAP_SAMPLE_MS, first/last minute. */
  gapFirstP50?: number;
  gapFirstP95?: number;
  gapLastP50?: number;
  gapLastP95?: number;
  /** MSE page: its counters at the end (seeks to the live edge, reopens, …). */
  mse?: unknown;
}

async function drift(page: Page, url: string, variant: PageVariant, minutes: number): Promise<DriftResult> {
  const { impl } = variant;
  await page.goto(url);
  const hasFrames = impl === 'pistream' ? () => (window.pistream?.frames ?? 0) > 0 : () => (window.frames ?? 0) > 0;
  await page.waitForFunction(hasFrames, undefined, { timeout: 30_000 });
  const player = impl === 'pistream' ? String(await page.evaluate(() => window.pistream?.player ?? 'unknown')) : 'stock';
  await sleep(LATENCY_WARMUP_S * 1000);
  await recordLatencies(page, impl);
  const isMse = player === 'mse';
  if (isMse) {
    await page.evaluate((every) => {
      const log: [number, number][] = (window.__gap = []);
      setInterval(() => {
        const gap = window.pistream?.mse?.gapMs;
        if (typeof gap === 'number') log.push([performance.now(), gap]);
      }, every);
    }, GAP_SAMPLE_MS);
  }
  const t0 = await page.evaluate(() => performance.now());
  const all: [number, number][] = [];
  const gaps: [number, number][] = [];
  // Collected every 10 s, so the page's own list never holds more than a few hundred.
  for (let waited = 0; waited < minutes * 60_000; waited += 10_000) {
    await sleep(10_000);
    all.push(...(await page.evaluate(() => window.__lat!.splice(0))));
    if (isMse) gaps.push(...(await page.evaluate(() => window.__gap!.splice(0))));
  }
  const tEnd = all.length ? all[all.length - 1]![0] : t0;
  const firstMinute = (xs: [number, number][]): number[] => xs.filter(([t]) => t - t0 < 60_000).map(([, v]) => v);
  const lastMinute = (xs: [number, number][]): number[] => xs.filter(([t]) => tEnd - t < 60_000).map(([, v]) => v);
  const first = firstMinute(all),
    last = lastMinute(all);
  const minuteP50: number[] = [];
  for (let m = 0; m < Math.floor((tEnd - t0) / 60_000); m++) {
    minuteP50.push(
      quantile(
        all.filter(([t]) => t - t0 >= m * 60_000 && t - t0 < (m + 1) * 60_000).map(([, l]) => l),
        0.5,
      ),
    );
  }
  return {
    name: variant.name,
    player,
    samples: all.length,
    firstP50: quantile(first, 0.5),
    firstP95: quantile(first, 0.95),
    lastP50: quantile(last, 0.5),
    lastP95: quantile(last, 0.95),
    minuteP50,
    ...(isMse
      ? {
          gapFirstP50: quantile(firstMinute(gaps), 0.5),
          gapFirstP95: quantile(firstMinute(gaps), 0.95),
          gapLastP50: quantile(lastMinute(gaps), 0.5),
          gapLastP95: quantile(lastMinute(gaps), 0.95),
          mse: await page.evaluate(() => window.pistream?.mse),
        }
      : {}),
  };
}

// ---- main --------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(
    `pistream bench ${quick ? '(quick)' : '(full)'}: ${cpus().length} CPUs, node ${process.version}; pistream via ` +
      `${cliSupportsMaxViewers() ? 'dist/cli.js --max-viewers' : 'bench/server.ts (CLI has no --max-viewers yet)'}; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; --codec ${CODEC} (${[...SELECTED].join(', ')})` +
      (BYPASS_CSP ? "; PAGES' CONTENT-SECURITY-POLICY BYPASSED (--bypass-csp)" : ''),
  );
  const pageErrors: string[] = [];
  // Every browser maps INSECURE_HOST to 127.0.0.1 (the MSE page's name); nothing else resolves differently.
  const openBrowser = async (): Promise<Page> => {
    browser = await launchBrowser({ viewport: { width: 1300, height: 760 }, extraArgs: [RESOLVE_INSECURE_HOST], bypassCSP: BYPASS_CSP });
    browser.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(e.message)));
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return page;
  };
  const closeBrowser = async (): Promise<void> => {
    await browser?.close();
    browser = undefined;
  };

  partStarted('1');
  const latencyPages = parts.has(1) && LATENCY_SPECS.some((spec) => variantsFor(spec).length > 0);
  if (latencyPages) {
    const rows: LatencyResult[] = [];
    for (const spec of LATENCY_SPECS) {
      const variants = variantsFor(spec);
      if (variants.length === 0) continue;
      // Every server this size's pages need up at once, so each page's run shares the machine with the same
      // background encoder work: pistream (MPEG-1), the baseline, pistream --codec h264.
      const key = (v: PageVariant): string => (v.impl === 'baseline' ? 'baseline' : v.codec);
      const byKey = new Map<string, RunningChild>();
      for (const v of variants) {
        if (byKey.has(key(v))) continue;
        byKey.set(
          key(v),
          v.impl === 'baseline'
            ? await up('baseline', spec)
            : v.codec === 'h264'
              ? await upCodec(specFor(spec, 'h264'), 'h264')
              : await up('pistream', spec),
        );
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
        "browser % = CPU of all the browser's processes (GPU process included) over the same window",
      [
        'stream',
        'page',
        'kb/s',
        'player',
        'samples',
        'p50',
        'p95',
        'p99',
        'max',
        'decoded fps',
        'painted fps',
        'recover ms',
        'stall max',
        'task %',
        'script %',
        'browser %',
        'server %',
        'encoder %',
      ],
      rows.map((r) => [
        r.spec,
        r.name,
        cell(r.bitrateKbps, 0),
        r.player,
        cell(r.samples, 0),
        cell(r.p50),
        cell(r.p95),
        cell(r.p99),
        cell(r.max),
        cell(r.decodedFps),
        cell(r.paintedFps),
        Number.isFinite(r.recoveryMs) ? cell(r.recoveryMs, 0) : `> ${RECOVER_WATCH_S * 1000}`,
        cell(r.stallMaxMs, 0),
        cell(r.taskPct),
        cell(r.scriptPct),
        cell(r.browserPct, 0),
        cell(r.serverPct, 0),
        cell(r.encoderPct, 0),
      ]),
    );
    console.log("   server % / encoder % = the page's server (node) / its ffmpeg child over the steady window, % of one core");
    for (const r of rows.filter((x) => x.name === MSE_VARIANT.name)) {
      console.log(
        `   ${r.spec} H.264 · MSE: isSecureContext ${r.secureContext}; mse counters at the end: ` +
          (r.mse
            ? `seeks ${r.mse.seeks}, reopens ${r.mse.reopens}, dropped ${r.mse.dropped}, quota errors ${r.mse.quotaErrors}, trims ${r.mse.trims}, gap ${r.mse.gapMs} ms`
            : 'none (not the MSE player)'),
      );
    }
    const row = (spec: StreamSpec, name: string): LatencyResult | undefined => rows.find((r) => r.spec === label(spec) && r.name === name);
    const [sd, sdFrame, sdBase] = PAGE_VARIANTS.map((v) => row(SD, v.name));
    const [hd, hdFrame] = PAGE_VARIANTS.map((v) => row(HD, v.name));
    if (sdFrame && sdBase)
      console.log(
        "   targets: p50 ≤ 21, p95 ≤ 30 ms and both ≥ 6 ms below the baseline (640x480@24); page CPU ≤ paint=frame's (1280x720@30)",
      );
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

  if (latencyPages && WITH_WEBCODECS) {
    const goals = h264Goals(results.latency as { rows: LatencyResult[] });
    (results.latency as Record<string, unknown>).h264Goals = goals;
  }
  if (latencyPages && WITH_MSE) {
    const goals = mseGoals(results.latency as { rows: LatencyResult[] });
    (results.latency as Record<string, unknown>).mseGoals = goals;
  }
  if (latencyPages && WITH_WEBRTC) {
    const { rows } = results.latency as { rows: LatencyResult[] };
    (results.latency as Record<string, unknown>).webrtcGoals = webrtcGlassGoals(rows, WEBRTC_VARIANT.name, H264_VARIANT.name);
  }

  partStarted('1b');
  if (parts.has(1) && (WITH_MPEG1 || WITH_WEBCODECS)) {
    // Server CPU per stream: each server alone (no browser), one ws viewer in this process.
    const costs: StreamCost[] = [];
    // Both codecs whatever --codec says (under a minute): the comparison is the point.
    const codecs: BenchCodec[] = ['mpeg1', 'h264'];
    for (const size of COST_SIZES) {
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
        c.stream,
        c.codec === 'h264' ? 'H.264' : 'MPEG-1',
        cell(c.bitrateKbps, 0),
        cell(c.receivedKbps, 0),
        cell(c.messagesPerSecond),
        cell(c.serverPct),
        cell(c.encoderPct),
        cell(c.totalPct),
      ]),
    );
  }

  partStarted('1c');
  if (parts.has(1) && WITH_TRANSCODE) {
    results.transcode = await transcodeCost(openBrowser, closeBrowser);
  }

  partStarted('2');
  if (parts.has(2)) {
    const pistream = await up('pistream', SD);
    const baseline = await up('baseline', SD);
    await openBrowser();
    const rows: [string, FirstPaint][] = [];
    for (const variant of quick ? [PAGE_VARIANTS[0]!] : PAGE_VARIANTS) {
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
      [
        'impl',
        'joins',
        'p50',
        'p95',
        'max',
        'first decode p50',
        'decodes at paint p50/max',
        'nav→open p50',
        'nav→paint p50',
        'nav→paint p95',
      ],
      rows.map(([name, r]) => [
        name,
        cell(r.openToFirstPaint.length, 0),
        cell(quantile(r.openToFirstPaint, 0.5), 0),
        cell(quantile(r.openToFirstPaint, 0.95), 0),
        cell(quantile(r.openToFirstPaint, 1), 0),
        cell(quantile(r.openToFirstPicture, 0.5), 0),
        r.decodedAtFirstPaint.length
          ? `${cell(quantile(r.decodedAtFirstPaint, 0.5), 0)}/${cell(quantile(r.decodedAtFirstPaint, 1), 0)}`
          : '',
        cell(quantile(r.navigationToOpen, 0.5), 0),
        cell(quantile(r.navigationToFirstPaint, 0.5), 0),
        cell(quantile(r.navigationToFirstPaint, 0.95), 0),
      ]),
    );
    console.log('   target: connect-to-first-paint ≤ 100 ms at the max of the joins');
  }

  partStarted('3');
  if (parts.has(3)) {
    results.fanout = await runFanout({
      spec: SD,
      contenders: FANOUT_CONTENDERS,
      counts: FANOUT,
      rounds: ROUNDS,
      seconds: FANOUT_S,
      referenceSeconds: REFERENCE_S,
      warmSeconds: FANOUT_WARM_S,
      settle: SETTLE_S,
      stop: down,
    });
  }

  partStarted('4');
  if (parts.has(4)) {
    // Both servers up for the whole of part 4, each encoding all the time, so neither run is quieter.
    const pistream = await up('pistream', SD);
    const baseline = await up('baseline', SD);
    const byImpl = { pistream, baseline };
    await sleep(2000);

    const slowRows: Record<string, unknown>[] = [];
    const delayOffset: Partial<Record<Impl, number>> = {};
    const table: string[][] = [];
    for (const impl of IMPLS) {
      const child = byImpl[impl];
      const m0 = await scrapeMetrics(child);
      const reference = await runClients(child, {
        count: SLOW.normal,
        seconds: SLOW_REFERENCE_S,
        settle: SETTLE_S,
        delays: true,
        ack: true,
      });
      const m1 = await scrapeMetrics(child);
      const rssBefore = rssMiB(child.pid);
      // The server's own count of viewers a few seconds before the window ends (a paused client never reads the
      // close frame, so it cannot tell that the server has closed it).
      const late = sleep((SETTLE_S + SLOW_S - 3) * 1000).then(() => scrapeMetrics(child));
      const slow = await runClients(child, {
        count: SLOW.normal,
        paused: SLOW.paused,
        stalled: SLOW.stalled,
        throttled: SLOW.throttled,
        throttleKbps: SLOW.throttleKbps,
        seconds: SLOW_S,
        settle: SETTLE_S,
        delays: true,
        ack: true,
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
      const dropped = (m: Record<string, number>): Record<string, number> =>
        Object.fromEntries(
          Object.entries(m)
            .filter(([k]) => k.startsWith('pistream_dropped_pictures_total'))
            .map(([k, v]) => [/reason="([^"]*)"/.exec(k)?.[1] ?? k, v]),
        );
      const d1 = dropped(m1),
        d2 = dropped(m2);
      const dropsByReason = Object.fromEntries(Object.keys(d2).map((k) => [k, d2[k]! - (d1[k] ?? 0)]));
      const drops = impl === 'pistream' ? Object.values(dropsByReason).reduce((a, b) => a + b, 0) : NaN;
      const row = {
        impl,
        reference: {
          p50: d(reference.delays, 0.5),
          p95: d(reference.delays, 0.95),
          p99: d(reference.delays, 0.99),
          kbps: reference.medianKbps,
          rssMiB: reference.rssMiB,
          cpuPct: reference.cpuPct,
          droppedInReference:
            impl === 'pistream' ? Object.entries(dropped(m1)).reduce((n, [k, v]) => n + v - (dropped(m0)[k] ?? 0), 0) : NaN,
        },
        withSlow: {
          p50: d(slow.delays, 0.5),
          p95: d(slow.delays, 0.95),
          p99: d(slow.delays, 0.99),
          kbps: slow.medianKbps,
          minKbps: slow.minKbps,
          rssMiBBefore: rssBefore,
          rssMiB: slow.rssMiB,
          cpuPct: slow.cpuPct,
          normalOpen: slow.connected,
          pausedOpen: slow.pausedConnected,
          throttledOpen: slow.throttledConnected,
          dropsPerSlowViewer: drops / (SLOW.paused + SLOW.stalled + SLOW.throttled),
          dropsByReason,
          closeCodes: slow.closeCodes,
          serverViewersAtEnd: viewersLate,
          resyncs: delta(m1, m2, 'pistream_resyncs_total'),
          throttledKbps: slow.throttledKbps,
          throttledP50: d(slow.throttledDelays, 0.5),
          throttledP95: d(slow.throttledDelays, 0.95),
          throttledMax: d(slow.throttledDelays, 1),
        },
      };
      slowRows.push(row);
      const w = row.withSlow;
      table.push([
        impl,
        `${SLOW.normal}`,
        cell(row.reference.p50),
        cell(row.reference.p95),
        cell(row.reference.kbps, 0),
        cell(row.reference.rssMiB, 0),
        '',
        '',
        '',
        '',
        '',
      ]);
      table.push([
        impl,
        `${SLOW.normal}+${SLOW.paused}p+${SLOW.stalled}s+${SLOW.throttled}t`,
        cell(w.p50),
        cell(w.p95),
        cell(w.kbps, 0),
        cell(w.rssMiB, 0),
        impl === 'pistream' ? cell(w.serverViewersAtEnd, 0) : `${SLOW.normal + SLOW.stalled + w.pausedOpen + w.throttledOpen}`,
        cell(w.dropsPerSlowViewer, 0),
        cell(w.resyncs, 0),
        cell(w.throttledKbps, 0),
        `${cell(w.throttledP50, 0)}/${cell(w.throttledP95, 0)}/${cell(w.throttledMax, 0)}`,
      ]);
    }
    results.slowViewers = { seconds: SLOW_S, referenceSeconds: SLOW_REFERENCE_S, ...SLOW, delayOffset, rows: slowRows };
    printTable(
      `4. Slow viewers: ${SLOW.normal} normal, then + ${SLOW.paused} paused (stop reading TCP) + ${SLOW.stalled} stalled (read, stop acking) + ${SLOW.throttled} throttled ` +
        `(read ≤ ${SLOW.throttleKbps} kbit/s), ${SLOW_S} s (reference ${SLOW_REFERENCE_S} s). Delay = capture → socket read (ms), ` +
        'normal viewers; RSS MiB at the end; drops per slow viewer from /metrics',
      [
        'impl',
        'viewers',
        'delay p50',
        'delay p95',
        'kb/s',
        'RSS',
        'open at end',
        'drops/slow',
        'resyncs',
        'thr kb/s',
        'thr delay p50/p95/max',
      ],
      table,
    );
    for (const r of slowRows as { impl: Impl; withSlow: { dropsByReason: Record<string, number>; closeCodes: number[] } }[]) {
      if (r.impl !== 'pistream') continue;
      console.log(
        `   pistream drops by reason over the run: ${Object.entries(r.withSlow.dropsByReason)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    }
    await down(pistream);
    await down(baseline);
  }

  partStarted('5');
  if (parts.has(5)) {
    // The pages --codec picks: MPEG-1's (pistream's page and the baseline's) and H.264 · MSE (at the insecure name).
    const pages: [PageVariant, RunningChild][] = [];
    if (WITH_MPEG1 || !WITH_MSE) {
      pages.push([PAGE_VARIANTS[0]!, await up('pistream', SD)], [PAGE_VARIANTS[2]!, await up('baseline', SD)]);
    }
    if (WITH_MSE) pages.push([MSE_VARIANT, await upCodec(specFor(SD, 'h264'), 'h264')]);
    // Every page at once, so a 10-minute drift run costs 10 minutes; each in its own browser, as a second tab in
    // one window would be a background tab, its animation frames throttled.
    const tabs: Page[] = [await openBrowser()];
    for (let i = 1; i < pages.length; i++) {
      const other = await launchBrowser({
        viewport: { width: 1300, height: 760 },
        extraArgs: [RESOLVE_INSECURE_HOST],
        bypassCSP: BYPASS_CSP,
      });
      extraBrowsers.add(other);
      const tab = other.pages()[0] ?? (await other.newPage());
      tab.on('pageerror', (e) => pageErrors.push(e.message));
      tabs.push(tab);
    }
    const drifts = await Promise.all(pages.map(([variant, server], i) => drift(tabs[i]!, pageUrl(server, variant), variant, DRIFT_MIN)));
    await closeBrowser();
    for (const other of [...extraBrowsers]) {
      await other.close();
      extraBrowsers.delete(other);
    }
    for (const [, server] of pages) await down(server);
    const intervalMs = 1000 / SD.fps;
    results.drift = {
      minutes: DRIFT_MIN,
      stream: label(SD),
      pages: drifts,
      // The older JSON's keys, for the MPEG-1 pages.
      ...Object.fromEntries(
        drifts.filter((d) => d.name !== MSE_VARIANT.name).map((d) => [d.name === 'baseline' ? 'baseline' : 'pistream', d]),
      ),
    };
    printTable(
      `5. Drift at ${label(SD)}: latency in the first and the last minute of a ${DRIFT_MIN}-minute run (ms, ${drifts.length > 1 ? 'all pages at once' : 'one page'}); ` +
        'MSE: gap = buffered end − playhead (window.pistream.mse.gapMs, sampled every 0.5 s)',
      ['page', 'player', 'samples', 'first p50', 'first p95', 'last p50', 'last p95', 'Δ p50', 'gap first p50/p95', 'gap last p50/p95'],
      drifts.map((r) => [
        r.name,
        r.player,
        cell(r.samples, 0),
        cell(r.firstP50),
        cell(r.firstP95),
        cell(r.lastP50),
        cell(r.lastP95),
        cell(r.lastP50 - r.firstP50),
        r.gapFirstP50 === undefined ? '' : `${cell(r.gapFirstP50, 0)}/${cell(r.gapFirstP95, 0)}`,
        r.gapLastP50 === undefined ? '' : `${cell(r.gapLastP50, 0)}/${cell(r.gapLastP95, 0)}`,
      ]),
    );
    for (const r of drifts) console.log(`   ${r.name}: p50 per minute ${r.minuteP50.map((x) => cell(x, 0)).join(' ')}`);
    const mse = drifts.find((d) => d.name === MSE_VARIANT.name);
    if (mse) {
      // No drift: the last minute's p50 (latency and gap) within half a picture interval of the first minute's.
      const ok =
        mse.player === 'mse' &&
        mse.lastP50 - mse.firstP50 <= intervalMs / 2 &&
        (mse.gapLastP50 ?? NaN) - (mse.gapFirstP50 ?? NaN) <= intervalMs / 2;
      console.log(
        `   goal, H.264 · MSE no drift over ${DRIFT_MIN} min (last minute's p50 ≤ first's + ${cell(intervalMs / 2)} ms, half a picture; gap the same): ` +
          `latency ${cell(mse.firstP50)} → ${cell(mse.lastP50)}, gap ${cell(mse.gapFirstP50, 0)} → ${cell(mse.gapLastP50, 0)} ms: ${ok ? 'met' : 'missed'}` +
          (mse.player === 'mse' ? '' : ` (player ${mse.player}, not MSE)`),
      );
      (results.drift as Record<string, unknown>).mseGoalMet = ok;
      console.log(`   MSE counters at the end: ${JSON.stringify(mse.mse)}`);
    }
  }
  partStarted('6');
  if (parts.has(6)) {
    const quality = await runQuality({
      seconds: QUALITY_S,
      // Quick: each codec once, on our pattern at 640x480@24 (MPEG-1 at 800, H.264 at 400), no search for equal SSIM.
      sources: quick ? ['pattern'] : ['pattern', QUALITY_BUSY],
      sizes: quick ? QUALITY_SIZES.slice(0, 1) : QUALITY_SIZES,
      mpeg1Kbps: 800,
      h264Kbps: quick ? [400] : [800, 400, 200],
      refine: !quick,
    });
    results.quality = quality;
    printQuality(quality, '6. Quality per bit');
  }

  partStarted('7');
  if (parts.has(7)) {
    const rows: EncoderLatency[] = [];
    for (const c of ENCODER_LATENCY_CASES.filter((x) => !quick || label(x) === label(SD)))
      rows.push(await measureEncoderLatency({ ...c, seconds: ENCODER_S, warmup: 24 }));
    results.encoderLatency = { seconds: ENCODER_S, warmup: 24, rows };
    printTable(
      `7. Encoder latency: test-pattern frame offered to the server's encoder operator → its picture / access unit out of ffmpeg ` +
        `(ms), ${ENCODER_S} s each after 24 warm-up pictures, nothing else of the bench running`,
      ['stream', 'codec', 'kb/s', 'samples', 'p50', 'p95', 'p99', 'max', 'dropped'],
      rows.map((r) => [
        r.stream,
        codecName(r.codec),
        cell(r.bitrateKbps, 0),
        cell(r.samples, 0),
        cell(r.p50, 2),
        cell(r.p95, 2),
        cell(r.p99, 2),
        cell(r.max, 1),
        cell(r.framesDropped, 0),
      ]),
    );
    const sdH264 = rows.find((r) => r.codec === 'h264' && r.stream === label(SD));
    if (sdH264) console.log(`   goal: libx264 p50 ≤ 5 ms at 640x480: ${cell(sdH264.p50, 2)} ms, ${sdH264.p50 <= 5 ? 'met' : 'missed'}`);
  }
  partStarted('8');
  if (parts.has(8)) results.screenJoin = await screenJoinPart();

  partStarted('9');
  // 9. A viewer on a capped, jittery, lossy link (bench/net/; skipped, saying why, without root and namespaces).
  if (parts.has(9)) results.net = await runNetBench(quick ? { quick, ...QUICK_NET } : {});
  partStarted('end');
  if (pageErrors.length) results.pageErrors = pageErrors;
}

/** 8. Join on screen (bench/screen-join.ts), with an MPEG-1 and an H.264 server up for the whole part. */
async function screenJoinPart(): Promise<Record<string, unknown>> {
  const streams = { mpeg1: SD, h264: specFor(SD, 'h264') };
  const servers = { mpeg1: await upCodec(streams.mpeg1, 'mpeg1'), h264: await upCodec(streams.h264, 'h264') };
  try {
    const options: ScreenJoinOptions = {
      joins: SCREEN_JOINS,
      steadySeconds: SCREEN_STEADY_S,
      showWaitMs: SCREEN_SHOW_WAIT_MS,
      warmupSeconds: LATENCY_WARMUP_S,
      streams,
      servers,
      insecureHost: INSECURE_HOST,
      browserArgs: [RESOLVE_INSECURE_HOST],
      onBrowser: (b) => extraBrowsers.add(b),
      // Quick: each player once (not the page's earlier join, ?prime=off, kept for the full bench's before/after).
      players: JOIN_PLAYERS.filter(
        (p) => (!quick || p.extraQuery === undefined) && (!JOIN_ONLY || JOIN_ONLY.includes(p.player + (p.extraQuery ?? ''))),
      ),
    };
    const rows = await screenJoins(options);
    printScreenJoins(rows, options);
    return { joins: SCREEN_JOINS, steadySeconds: SCREEN_STEADY_S, stream: label(SD), rows };
  } finally {
    for (const server of Object.values(servers)) await down(server);
  }
}

/** The issue's goals for the H.264 · WebCodecs page, from part 1's rows; printed and returned. */
function h264Goals(latency: { rows: LatencyResult[] }): Record<string, unknown> {
  const find = (spec: StreamSpec, name: string): LatencyResult | undefined =>
    latency.rows.find((r) => r.spec === label(spec) && r.name === name);
  const sdH = find(SD, H264_VARIANT.name),
    sdM = find(SD, PAGE_VARIANTS[0]!.name);
  const hdH = find(HD, H264_VARIANT.name),
    fhdH = find(FHD, H264_VARIANT.name);
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : 'missed');
  const players = [sdH, hdH, fhdH].filter((r): r is LatencyResult => r !== undefined).map((r) => r.player);
  const webcodecs = players.length > 0 && players.every((p) => p === 'webcodecs');
  const sdOk = sdH && sdM ? webcodecs && sdH.p50 <= sdM.p50 : undefined;
  const hdOk = hdH ? webcodecs && hdH.paintedFps >= 29 && hdH.p50 <= 35 : undefined;
  console.log(`   H.264 goals${webcodecs ? '' : ` (player: ${players.join('/')}, not WebCodecs: every goal missed)`}:`);
  console.log(`   640x480@24: H.264 · WebCodecs p50 ${cell(sdH?.p50)} ≤ MPEG-1 page's ${cell(sdM?.p50)}: ${verdict(sdOk)}`);
  console.log(`   1280x720@30: painted fps ${cell(hdH?.paintedFps)} ≥ 29 and p50 ${cell(hdH?.p50)} ≤ 35 ms: ${verdict(hdOk)}`);
  if (fhdH)
    console.log(`   1920x1080@30 (no goal; the scratch page's p50 was 28 ms): p50 ${cell(fhdH.p50)}, painted fps ${cell(fhdH.paintedFps)}`);
  return {
    webcodecs,
    sd: { h264P50: sdH?.p50, mpeg1P50: sdM?.p50, met: sdOk },
    hd: { paintedFps: hdH?.paintedFps, p50: hdH?.p50, met: hdOk },
  };
}

/** The issue's goals for the H.264 · MSE page against H.264 · WebCodecs in the same run; printed and returned. */
function mseGoals(latency: { rows: LatencyResult[] }): Record<string, unknown> {
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : 'missed');
  const out: Record<string, unknown> = {};
  console.log('   H.264 · MSE goals (against H.264 · WebCodecs in this run; one picture interval = 1000/fps ms):');
  for (const spec of [SD, HD]) {
    const mse = latency.rows.find((r) => r.spec === label(spec) && r.name === MSE_VARIANT.name);
    const wc = latency.rows.find((r) => r.spec === label(spec) && r.name === H264_VARIANT.name);
    if (!mse) continue;
    const isMse = mse.player === 'mse' && !mse.secureContext;
    const interval = 1000 / spec.fps;
    const p50Ok = wc ? isMse && mse.p50 <= wc.p50 + interval : undefined;
    const p95Ok = wc ? isMse && mse.p95 <= wc.p95 + 2 * interval : undefined;
    const recoveryOk = isMse && Number.isFinite(mse.recoveryMs) && mse.recoveryMs <= 1000;
    console.log(
      `   ${label(spec)}${spec === SD ? " (the goal's rate)" : ''}${isMse ? '' : ` (player ${mse.player}, secure ${mse.secureContext}: not MSE at a non-secure name, every goal missed)`}: ` +
        `p50 ${cell(mse.p50)} ≤ ${cell(wc?.p50)} + ${cell(interval)}: ${verdict(p50Ok)}; p95 ${cell(mse.p95)} ≤ ${cell(wc?.p95)} + ${cell(2 * interval)}: ${verdict(p95Ok)}; ` +
        `back under the steady p95 ${Number.isFinite(mse.recoveryMs) ? `${cell(mse.recoveryMs, 0)} ms` : 'not within the watch'} after the 3 s stall ≤ 1000 ms: ${verdict(recoveryOk)}; ` +
        `painted fps ${cell(mse.paintedFps)} (WebCodecs ${cell(wc?.paintedFps)})`,
    );
    out[label(spec)] = {
      player: mse.player,
      secureContext: mse.secureContext,
      p50: mse.p50,
      p95: mse.p95,
      webcodecsP50: wc?.p50,
      webcodecsP95: wc?.p95,
      p50Met: p50Ok,
      p95Met: p95Ok,
      recoveryMs: mse.recoveryMs,
      recoveryMet: recoveryOk,
    };
  }
  return out;
}

/**
 * 1c. What the MPEG-1 transcode of an H.264 server costs: JSMpeg's glass-to-glass on its `/stream` against JSMpeg on
 * an MPEG-1 server's (the same size and rate, both servers up, pages alternating), then the H.264 server's CPU
 * (node and every ffmpeg under it) with no viewer and with one MPEG-1 viewer, each server alone.
 */
async function transcodeCost(openBrowser: () => Promise<Page>, closeBrowser: () => Promise<void>): Promise<Record<string, unknown>> {
  /** The transcode encodes at MPEG-1's default bitrate (the plugin passes none): the direct server gets the same. */
  const transcodedKbps = 800;
  const mpeg1Spec = { ...SD, bitrateKbps: transcodedKbps };
  const direct = await upCodec(mpeg1Spec, 'mpeg1');
  const h264 = await upCodec(specFor(SD, 'h264'), 'h264');
  const rows: (LatencyResult & { round: number })[] = [];
  try {
    const page = await openBrowser();
    for (let round = 0; round < TRANSCODE_ROUNDS; round++) {
      const order = round % 2 === 0 ? [DIRECT_VARIANT, TRANSCODED_VARIANT] : [TRANSCODED_VARIANT, DIRECT_VARIANT];
      for (const variant of order) {
        const server = variant === DIRECT_VARIANT ? direct : h264;
        const r = await measureLatency(page, mpeg1Spec, server, variant, { recovery: false, seconds: TRANSCODE_S, keepSamples: true });
        rows.push({ ...r, round: round + 1 });
        await page.goto('about:blank');
      }
    }
  } finally {
    await closeBrowser();
    await down(direct);
  }
  const pooled = (variant: PageVariant): number[] => rows.filter((r) => r.name === variant.name).flatMap((r) => r.steadySamples ?? []);
  const summary = (variant: PageVariant): Record<string, number> => {
    const xs = pooled(variant);
    return { samples: xs.length, p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), p99: quantile(xs, 0.99), max: quantile(xs, 1) };
  };
  const d = summary(DIRECT_VARIANT),
    t = summary(TRANSCODED_VARIANT);
  const table = rows.map((r) => [
    r.name,
    String(r.round),
    r.player,
    cell(r.samples, 0),
    cell(r.p50),
    cell(r.p95),
    cell(r.p99),
    cell(r.max),
    cell(r.decodedFps),
    cell(r.paintedFps),
    cell(r.serverPct, 0),
    cell(r.encoderPct, 0),
  ]);
  for (const [variant, sum] of [
    [DIRECT_VARIANT, d],
    [TRANSCODED_VARIANT, t],
  ] as const) {
    table.push([variant.name, 'all', '', cell(sum.samples, 0), cell(sum.p50), cell(sum.p95), cell(sum.p99), cell(sum.max), '', '', '', '']);
  }
  printTable(
    `1c. The MPEG-1 transcode: JSMpeg (?player=jsmpeg) on /stream of an MPEG-1 server (direct, ${transcodedKbps} kbit/s) and of an ` +
      `H.264 server (--codec h264 at ${specFor(SD, 'h264').bitrateKbps} kbit/s → transcode to MPEG-1 at ${transcodedKbps}), ${label(SD)}, ` +
      `both servers up, ${TRANSCODE_ROUNDS} alternating round(s) of ${TRANSCODE_S} s after ${LATENCY_WARMUP_S} s warm-up (ms; all = the rounds pooled; ` +
      'server % / encoder % = node / every ffmpeg under it, % of one core)',
    ['page', 'round', 'player', 'samples', 'p50', 'p95', 'p99', 'max', 'decoded fps', 'painted fps', 'server %', 'encoder %'],
    table,
  );
  const addedP50 = t.p50! - d.p50!,
    addedP95 = t.p95! - d.p95!;
  const players = rows.every((r) => r.player === 'jsmpeg');
  console.log(
    `   added by the transcode: p50 ${cell(addedP50)} ms, p95 ${cell(addedP95)} ms; goal ≤ 10 ms p50: ${players && addedP50 <= 10 ? 'met' : 'missed'}` +
      (players ? '' : ' (a page did not play JSMpeg)'),
  );

  // CPU: each H.264 server alone (the MPEG-1 one is down), then an MPEG-1 server at the transcode's rate for reference.
  const cpu: Record<string, unknown>[] = [];
  const cpuRows: string[][] = [];
  for (const size of quick ? [SD] : [SD, HD]) {
    const server = size === SD ? h264 : await upCodec(specFor(HD, 'h264'), 'h264');
    try {
      // The pages' transcoder stops a grace period (5 s) after its last viewer: wait for the lone encoder.
      for (let waited = 0; ffmpegCount(server.pid) > 1 && waited < 15_000; waited += 500) await sleep(500);
      await sleep(SETTLE_S * 1000);
      const before = ffmpegCount(server.pid);
      const meter = treeCpuMeter(server.pid);
      await sleep(COST_S * 1000);
      const idle = meter.stop();
      const viewer = await streamCost(server, { ...size, bitrateKbps: transcodedKbps }, 'mpeg1', COST_S, SETTLE_S + 1, () =>
        ffmpegCount(server.pid),
      );
      // After the last MPEG-1 viewer: the transcoder should be gone a grace period (5 s) later; looked at until then.
      const left = Date.now();
      while (ffmpegCount(server.pid) > 1 && Date.now() - left < 7000) await sleep(250);
      const after = ffmpegCount(server.pid);
      const row = {
        stream: label(size),
        h264Kbps: specFor(size, 'h264').bitrateKbps,
        transcodedKbps,
        noViewer: { serverPct: idle.selfPct, ffmpegPct: idle.childrenPct, totalPct: idle.selfPct + idle.childrenPct, ffmpegs: before },
        oneMpeg1Viewer: { ...viewer, ffmpegs: viewer.children },
        ffmpegsAfterGrace: after,
      };
      cpu.push(row);
      cpuRows.push([
        label(size),
        'H.264 server, no viewer',
        cell(before, 0),
        '',
        '',
        cell(idle.selfPct),
        cell(idle.childrenPct),
        cell(idle.selfPct + idle.childrenPct),
      ]);
      cpuRows.push([
        label(size),
        'H.264 server, 1 MPEG-1 viewer',
        cell(viewer.children ?? NaN, 0),
        cell(viewer.receivedKbps, 0),
        cell(viewer.messagesPerSecond),
        cell(viewer.serverPct),
        cell(viewer.encoderPct),
        cell(viewer.totalPct),
      ]);
      cpuRows.push([
        '',
        `  added by the transcode (ffmpegs ${after} within 7 s after the viewer left)`,
        '',
        '',
        '',
        cell(viewer.serverPct - idle.selfPct),
        cell(viewer.encoderPct - idle.childrenPct),
        cell(viewer.totalPct - idle.selfPct - idle.childrenPct),
      ]);
    } finally {
      await down(server);
    }
    // For reference: MPEG-1 encoded directly at the transcode's rate, one viewer. Quick, when 1b ran: its MPEG-1 row at
    // 640x480@24 is that server (800 kbit/s, one viewer), measured a minute before.
    if (quick && results.serverCost) {
      cpuRows.push([label(size), `MPEG-1 server (${transcodedKbps}), 1 viewer: see 1b`]);
      continue;
    }
    const spec = { ...size, bitrateKbps: transcodedKbps };
    const reference = await upCodec(spec, 'mpeg1');
    try {
      const c = await streamCost(reference, spec, 'mpeg1', COST_S, SETTLE_S + 1, () => ffmpegCount(reference.pid));
      cpu.push({ reference: 'mpeg1', ...c });
      cpuRows.push([
        label(size),
        `MPEG-1 server (${transcodedKbps}), 1 viewer`,
        cell(c.children ?? NaN, 0),
        cell(c.receivedKbps, 0),
        cell(c.messagesPerSecond),
        cell(c.serverPct),
        cell(c.encoderPct),
        cell(c.totalPct),
      ]);
    } finally {
      await down(reference);
    }
  }
  printTable(
    `1c. Server CPU with and without one MPEG-1 viewer (ws on /stream, in the bench's process), each server alone, ${COST_S} s; % of one core ` +
      '(server = node, ffmpeg = every ffmpeg under it: the H.264 encoder, and the transcoder while it runs)',
    ['stream', 'server and viewers', 'ffmpegs', 'received kb/s', 'msgs/s', 'server %', 'ffmpeg %', 'total %'],
    cpuRows,
  );
  return {
    stream: label(SD),
    rounds: TRANSCODE_ROUNDS,
    seconds: TRANSCODE_S,
    transcodedKbps,
    latency: rows.map(({ steadySamples: _samples, ...r }) => r),
    direct: d,
    transcoded: t,
    addedP50,
    addedP95,
    goalMet: players && addedP50 <= 10,
    cpu,
  };
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
  results.partSeconds = partSeconds();
  writeFileSync(
    file,
    JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? round(v, 3) : v), 2) + '\n',
  );
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
    const took = Object.entries(partSeconds()).map(([part, s]) => `${part} ${s}`);
    if (took.length) console.log(`seconds per part: ${took.join(', ')}`);
    console.log(
      `done in ${Math.round((Date.now() - t0) / 1000)} s; load average now ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    setTimeout(() => process.exit(), 500).unref();
  });
