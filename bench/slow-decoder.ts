// A decoder slower than the stream (issue 27): 1920x1080@30 H.264 from the test pattern, headless Chromium's software
// WebCodecs decoder. (a) a page that decodes everything: how many pictures a second this decoder manages; (b)
// pistream's page: pictures a second painted and glass-to-glass p50/p95; (c, with --before REF) pistream's page with
// the WebCodecs player of a git ref (the same run's "before"). See bench/README.md.
// Run: npm run bench:slow-decoder [-- --seconds 20 --warmup 5 --rounds 2 --before main --decode-ms 43]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { ROOT, runMain } from './children';
import { startCodecServer } from './codec-server';
import { scrapeMetrics, sleep, type RunningChild, type StreamSpec } from './servers';
import { firstAppearances, readFrame, recordScreen } from './screen';
import { slowVideoDecoderScript } from './slow-video-decoder';
import { cell, printTable, quantile, round } from './stats';

// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { pistream?: PageFigures & { player: string | null; status: string } };
declare const document: { getElementById(id: string): { readonly textContent: string | null } | null };

/** 1920x1080@30 at the bench's H.264 rate for that size (run.ts's H264_KBPS), GOP 1 s (the server's default). */
const SPEC: StreamSpec = { width: 1920, height: 1080, fps: 30, bitrateKbps: 3000 };
const GOP_MS = 1000;

/** What the pages expose, as far as this bench reads it (the decode-all page keeps the same names). */
interface PageFigures {
  /** Units the page took from its socket: fed to the decoder or dropped (pistream's decodeCalls + skipped). */
  decodeCalls: number;
  skipped: number;
  frames: number;
  painted: number;
  latencies: number[];
  lateDrops?: number;
  keepingUp?: boolean;
  decodeMs?: number;
  flushes?: number;
  /** What the page's last drop for lateness was decided on (webcodecs-drop-policy.js's DropInput). */
  lastLateDrop?: Record<string, unknown> | null;
}

/** One page's steady window: counts over it, and every glass-to-glass latency read in it. */
interface Sample {
  readonly page: string;
  /** The round (0, 1, …), or 'all' for the rounds pooled. */
  readonly round: number | 'all';
  readonly seconds: number;
  /** Units that reached the page: what the server sent (the encoder's rate; on a loaded machine below 30 a second). */
  readonly received: number;
  readonly decoded: number;
  readonly painted: number;
  /** Glass-to-glass at decode (the page's barcode read, as part 1), per picture read. */
  readonly latencies: number[];
  /** Glass-to-glass on screen (bench/screen.ts: the screencast's compositor time), per picture at its first frame. */
  readonly screen: number[];
  /** Units pistream's page dropped as undecodable in time (null: a page without the count). */
  readonly lateDrops: number | null;
  readonly hud: string;
  /** The page's own figures at the end (pistream's: decode time per picture, flushes, the last late drop). */
  readonly end: Omit<PageFigures, 'latencies'> | null;
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

const SECONDS = Number(option('seconds', '20'));
const WARMUP_SECONDS = Number(option('warmup', '5'));
const BEFORE = option('before', '');
const ROUNDS = Number(option('rounds', '2'));
/**
 * 0: the browser's own decoder. Otherwise every page's decoder is given a unit at most every this many ms
 * (slow-video-decoder.ts): a device slower than the stream, for when this machine's decoder is not (43: 23 a second).
 */
const DECODE_MS = Number(option('decode-ms', '0'));

/**
 * The decode-everything page: the pistream server's /h264 socket into one VideoDecoder, every unit fed from the first
 * key unit on (nothing dropped, no acks: the server judges a viewer that never acks by its socket only), every
 * picture painted as pistream's page paints it (2D drawImage on a canvas at the picture's size, scaled to the window)
 * and its barcode read the same way (webcodecs-barcode.js). It keeps its figures under pistream's names.
 */
const DECODE_ALL_SCRIPT = `
(function () {
  var state = (window.pistream = {
    player: 'decode-all', status: 'connecting', decodeCalls: 0, skipped: 0, frames: 0, painted: 0, latencies: []
  });
  var canvas = document.getElementById('video');
  var ctx = canvas.getContext('2d', { alpha: false });
  var started = false;
  var decoder = null;
  var socket = new WebSocket(location.href.replace(/^http/, 'ws').replace(/[^/]*$/, 'h264'));
  socket.binaryType = 'arraybuffer';
  function output(frame) {
    var decodedAt = Date.now();
    state.frames++;
    if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
    if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
    window.pistreamFrameBarcode(frame, function (barcode) {
      if (barcode) state.latencies.push((decodedAt % 4294967296) - barcode.time);
    });
    ctx.drawImage(frame, 0, 0, canvas.width, canvas.height);
    state.painted++;
    state.status = 'live';
    frame.close();
  }
  socket.onmessage = function (ev) {
    var header = window.pistreamProtocol.readUnitHeader(ev.data);
    if (!header) return;
    if (!started) {
      state.skipped++;
      if (!header.key) return;
      state.skipped--;
      started = true;
      decoder = new VideoDecoder({ output: output, error: function (e) { state.status = 'error ' + e.message; } });
      decoder.configure({ codec: header.codec, optimizeForLatency: true });
    }
    var data = new Uint8Array(ev.data, header.offset);
    state.decodeCalls++;
    decoder.decode(new EncodedVideoChunk({ type: header.key ? 'key' : 'delta', timestamp: Math.round(header.capturedAt * 1000), data: data }));
  };
})();
`;

const DECODE_ALL_HTML = `<!doctype html><html><head><style>html,body{margin:0;height:100%;background:#000}
#video{display:block;width:100%;height:100%;object-fit:contain}</style></head><body><canvas id="video"></canvas>
<script src="barcode.js"></script><script src="protocol.js"></script><script src="strip-barcode.js"></script>
<script src="webcodecs-barcode.js"></script><script src="bench-decode-all.js"></script></body></html>`;

/** Opens the decode-everything page at the server's origin (a secure context: 127.0.0.1), served by the bench. */
async function openDecodeAll(page: Page, server: RunningChild): Promise<void> {
  await page.route('**/bench-decode-all.html', (route) => route.fulfill({ contentType: 'text/html', body: DECODE_ALL_HTML }));
  await page.route('**/bench-decode-all.js', (route) => route.fulfill({ contentType: 'text/javascript', body: DECODE_ALL_SCRIPT }));
  await page.goto(`${server.url}bench-decode-all.html`);
}

/** pistream's page; with `ref`, its WebCodecs player as that git ref has it (the rest of the page as it is now). */
async function openPistream(page: Page, server: RunningChild, ref: string): Promise<void> {
  if (ref) {
    const player = execFileSync('git', ['show', `${ref}:public/webcodecs-player.js`], { cwd: ROOT, encoding: 'utf8' });
    await page.route('**/webcodecs-player.js', (route) => route.fulfill({ contentType: 'text/javascript', body: player }));
  }
  await page.goto(server.url);
}

/** Figures over one steady window of the page now open in `page`. */
async function measure(page: Page, name: string, round: number): Promise<Sample> {
  await page.waitForFunction(() => window.pistream?.status === 'live' && window.pistream.painted > 0, undefined, { timeout: 30_000 });
  await sleep(WARMUP_SECONDS * 1000);
  const read = (): Promise<PageFigures> => page.evaluate(() => ({ ...window.pistream!, latencies: window.pistream!.latencies.splice(0) }));
  const recorder = await recordScreen(page);
  const start = await read();
  const startedAt = Date.now();
  await sleep(SECONDS * 1000);
  const end = await read();
  const seconds = (Date.now() - startedAt) / 1000;
  // Read after the window, so that decoding the screencast's JPEGs takes no CPU from the page being measured.
  const screen = firstAppearances((await recorder.stop()).map((frame) => readFrame(frame, SPEC)));
  const { latencies, ...figures } = end;
  return {
    page: name,
    round,
    seconds,
    received: end.decodeCalls + end.skipped - start.decodeCalls - start.skipped,
    decoded: end.frames - start.frames,
    painted: end.painted - start.painted,
    latencies,
    screen,
    lateDrops: end.lateDrops === undefined ? null : end.lateDrops - (start.lateDrops ?? 0),
    hud: await page.evaluate(() => document.getElementById('path')?.textContent ?? ''),
    end: figures,
  };
}

/** A page's rounds as one sample: counts and seconds added, latencies pooled. */
function pool(samples: readonly Sample[]): Sample {
  const sum = (pick: (s: Sample) => number): number => samples.reduce((total, s) => total + pick(s), 0);
  const drops = samples.map((s) => s.lateDrops);
  return {
    page: samples[0]!.page,
    round: 'all',
    seconds: sum((s) => s.seconds),
    received: sum((s) => s.received),
    decoded: sum((s) => s.decoded),
    painted: sum((s) => s.painted),
    latencies: samples.flatMap((s) => s.latencies),
    screen: samples.flatMap((s) => s.screen),
    lateDrops: drops.includes(null) ? null : sum((s) => s.lateDrops ?? 0),
    hud: samples[samples.length - 1]!.hud,
    end: null,
  };
}

/** One page in a fresh tab of `browser` (closed after), so no two pages compete for the decoder or the CPU. */
async function runPage(browser: BrowserContext, name: string, round: number, open: (page: Page) => Promise<void>): Promise<Sample> {
  const page = await browser.newPage();
  try {
    if (DECODE_MS > 0) await page.addInitScript(slowVideoDecoderScript(DECODE_MS));
    await open(page);
    return await measure(page, name, round);
  } finally {
    await page.close();
  }
}

/** A table row: per second over the window, latency quantiles, and how the p50 moved over it (growth: a queue). */
function row(s: Sample): string[] {
  const lat = s.latencies;
  const quarter = Math.max(1, Math.floor(lat.length / 4));
  const growth = quantile(lat.slice(-quarter), 0.5) - quantile(lat.slice(0, quarter), 0.5);
  const perSecond = (n: number): string => cell(n / s.seconds);
  return [
    s.page,
    String(s.round),
    perSecond(s.received),
    perSecond(s.decoded),
    perSecond(s.painted),
    perSecond(s.screen.length),
    cell(quantile(s.screen, 0.5), 0),
    cell(quantile(s.screen, 0.95), 0),
    cell(s.screen.length ? Math.max(...s.screen) : NaN, 0),
    cell(quantile(lat, 0.5), 0),
    cell(quantile(lat, 0.95), 0),
    cell(lat.length ? Math.max(...lat) : NaN, 0),
    s.round === 'all' ? '–' : cell(growth, 0),
    cell(s.lateDrops ?? '–', 0),
    s.hud,
  ];
}

function printSamples(samples: readonly Sample[], pooled: readonly Sample[]): void {
  printTable(
    `A decoder slower than the stream: ${SPEC.width}x${SPEC.height}@${SPEC.fps} H.264 ${SPEC.bitrateKbps} kbit/s, GOP ${GOP_MS} ms, ${DECODE_MS > 0 ? `decoder slowed to ${DECODE_MS} ms a picture` : "the browser's decoder"}, ${ROUNDS} rounds of ${SECONDS} s after ${WARMUP_SECONDS} s`,
    [
      'page',
      'round',
      'received/s',
      'decoded/s',
      'painted/s',
      'on screen/s',
      'screen p50',
      'p95',
      'max',
      'decode p50',
      'p95',
      'max',
      'p50 growth',
      'late drops',
      'HUD',
    ],
    [...samples, ...pooled].map(row),
  );
  for (const s of samples) {
    if (s.end?.decodeMs === undefined) continue;
    const last = JSON.stringify(s.end.lastLateDrop ?? null);
    console.log(
      `${s.page} round ${s.round}: decode ${round(s.end.decodeMs, 1)} ms a picture, ${s.end.flushes ?? 0} flushes; last late drop on ${last}`,
    );
  }
  const all = pooled[0]!;
  const decodedPerSecond = all.decoded / all.seconds;
  const allOnScreen = all.screen.length / all.seconds;
  const pct = (n: number): string => `${round(100 * n, 0)} %`;
  for (const s of pooled.slice(1)) {
    // Like for like: both pages' pictures counted on screen, through the same screencast (which skips frames at this
    // size, the decode-all page's as well: against its decoded count, the share would read low by what it skips).
    const share = s.screen.length / s.seconds / allOnScreen;
    const p95 = quantile(s.screen, 0.95);
    const ok = share >= 0.9 && p95 < GOP_MS;
    console.log(
      `${s.page}: on screen ${pct(share)} of the pictures/s the decode-all page showed on screen (goal ≥ 90 %; against its ` +
        `decoded/s: on screen ${pct(s.screen.length / s.seconds / decodedPerSecond)}, painted ${pct(s.painted / s.seconds / decodedPerSecond)}), ` +
        `glass p95 on screen ${round(p95, 0)} ms (goal < ${GOP_MS}): ${ok ? 'met' : 'MISSED'}`,
    );
  }
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0]!;
  const server = await startCodecServer(SPEC, 'h264');
  const browser = await launchBrowser();
  try {
    const pages: [string, (page: Page) => Promise<void>][] = [
      ['decode all', (page) => openDecodeAll(page, server)],
      ['pistream', (page) => openPistream(page, server, '')],
    ];
    if (BEFORE) pages.push([`pistream (${BEFORE})`, (page) => openPistream(page, server, BEFORE)]);
    const samples: Sample[] = [];
    // Alternating order (ABC, CBA, …): the machine's load drifts, and each page gets its share of every part of it.
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, open] of r % 2 === 0 ? pages : [...pages].reverse()) samples.push(await runPage(browser, name, r, open));
    }
    const pooled = pages.map(([name]) => pool(samples.filter((s) => s.page === name)));
    const metrics = await scrapeMetrics(server);
    const loadEnd = loadavg()[0]!;
    console.log(`load average ${round(loadStart, 2)} → ${round(loadEnd, 2)}`);
    printSamples(samples, pooled);
    const dropped = Object.entries(metrics).filter(([key]) => key.startsWith('pistream_dropped_pictures_total'));
    console.log(`server drops over the run: ${dropped.map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `slow-decoder-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        { spec: SPEC, decodeMs: DECODE_MS, seconds: SECONDS, warmup: WARMUP_SECONDS, rounds: ROUNDS, loadStart, loadEnd, samples, dropped },
        null,
        2,
      ),
    );
    console.log(`→ ${file}`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

runMain(main);
