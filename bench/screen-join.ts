// Part 8. Join on screen: for every player of the page (JSMpeg, WebCodecs, MSE, WebRTC), fresh pages join a running
// stream, each at a random point of the 1 s GOP, while Chromium's screencast records what is composited
// (bench/screen.ts). Join = WebSocket open (WebRTC: its connection `connected`; the WHEP POST →
// picture is printed beside) → the first screencast frame that shows a picture
// (a readable barcode); beside it, the same player's steady glass-to-glass on screen in the same run. See
// bench/README.md, part 8.
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import type { BenchCodec } from './codec-server';
import { firstAppearances, firstPicture, readFrame, recordScreen, type ScreenFrame } from './screen';
import { sleep, type RunningChild, type StreamSpec } from './servers';
import { cell, printTable, quantile } from './stats';

// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: {
  pistream?: { painted: number; player?: string | null; timings: { navigationToOpen: number | null } };
};
declare const performance: {
  timeOrigin: number;
  getEntriesByType(type: string): { name: string; initiatorType?: string; startTime: number; responseEnd: number }[];
};

/** A player of the page, forced with `?player=`, on the server of its codec, at `host` (default 127.0.0.1). */
export interface JoinPlayer {
  readonly name: string;
  readonly player: 'jsmpeg' | 'webcodecs' | 'mse' | 'webrtc';
  readonly codec: BenchCodec;
  /** MSE: a name that is no secure context (the bench maps it to 127.0.0.1), as a Pi at its LAN address. */
  readonly insecure?: boolean;
  /** Appended to the page's query, e.g. a page option to compare in the same run. */
  readonly extraQuery?: string;
}

export const JOIN_PLAYERS: readonly JoinPlayer[] = [
  { name: 'MPEG-1 · JSMpeg', player: 'jsmpeg', codec: 'mpeg1' },
  // The page before its renderer was primed while the socket opens (public/jsmpeg-player.js): before/after in one run.
  { name: 'MPEG-1 · JSMpeg (prime=off)', player: 'jsmpeg', codec: 'mpeg1', extraQuery: '&prime=off' },
  { name: 'H.264 · WebCodecs', player: 'webcodecs', codec: 'h264' },
  { name: 'H.264 · MSE', player: 'mse', codec: 'h264', insecure: true },
  // The page before its MediaSource was attached while the socket opens (public/mse-player.js): before/after in one run.
  { name: 'H.264 · MSE (prime=off)', player: 'mse', codec: 'h264', insecure: true, extraQuery: '&prime=off' },
  { name: 'H.264 · WebRTC', player: 'webrtc', codec: 'h264' },
];

/** The issue's goals: join p50 ≤ steady glass p50 + this, and join max ≤ steady glass p50 + MAX_OVER. */
export const JOIN_GOAL = { p50OverGlassMs: 25, maxOverGlassMs: 60 } as const;

export interface ScreenJoinOptions {
  readonly joins: number;
  /** Steady glass: seconds of screencast after `warmupSeconds` on one page. */
  readonly steadySeconds: number;
  /** How long a join is watched after the page's first paint, for the screen to show it (ms). */
  readonly showWaitMs: number;
  readonly warmupSeconds: number;
  /** Each codec's stream (the H.264 one at the bench's H.264 rate). */
  readonly streams: Record<BenchCodec, StreamSpec>;
  /** A server of each codec, up for the whole part. */
  readonly servers: Record<BenchCodec, RunningChild>;
  /** The insecure name and the Chromium argument that maps it to 127.0.0.1. */
  readonly insecureHost: string;
  readonly browserArgs: readonly string[];
  readonly players?: readonly JoinPlayer[];
  /** Called with the browser once launched (the bench closes it on Ctrl-C). */
  readonly onBrowser?: (browser: BrowserContext) => void;
}

export interface JoinRow {
  readonly name: string;
  /** `window.pistream.player` on the pages (every join's; a row whose pages played another player is no row). */
  readonly players: string[];
  /** Open (or POST) → first picture on screen, ms, per join that showed one. */
  readonly joinMs: number[];
  /** The page's own open → first paint (performance.now()), for comparison with the screen. */
  readonly pageJoinMs: number[];
  /** Joins whose screencast showed no picture within the watch (not in joinMs). */
  readonly missed: number;
  /** WebRTC: per join, POST → first picture on screen, POST → answer, answer → connected (ms). */
  readonly webrtc?: WebRtcSteps;
  readonly steady: { samples: number; p50: number; p95: number };
  readonly p50: number;
  readonly max: number;
  readonly goalMet: boolean;
}

/** The page of `p` on `server`. */
export function joinUrl(server: RunningChild, p: JoinPlayer, insecureHost: string): string {
  const base = p.insecure ? server.url.replace('//127.0.0.1:', `//${insecureHost}:`) : server.url;
  return `${base}?player=${p.player}${p.extraQuery ?? ''}`;
}

/** The viewport of the bench's pages (part 1's): the 640x480 picture scaled up, as on a laptop's window. */
const VIEWPORT = { width: 1300, height: 760 } as const;

/**
 * The moments a join is counted from, ms since the epoch. `open`: the page's connection up, the core's
 * `timings.navigationToOpen` (a WebSocket's open; for WebRTC the peer connection's `connected`: ICE and DTLS done,
 * the moment media can flow, its equivalent of a WebSocket's open and what the goal counts from). WebRTC also has
 * `post` and `answered`: the WHEP POST's start and its answer's arrival (Resource Timing of the fetch).
 */
interface ConnectMoments {
  readonly open: number;
  readonly post?: number;
  readonly answered?: number;
}

async function connectMoments(page: Page, p: JoinPlayer): Promise<ConnectMoments> {
  const [origin, open, post, answered] = await page.evaluate(() => {
    const whep = performance.getEntriesByType('resource').find((e) => e.initiatorType === 'fetch' && /\/whep(\?|$)/.test(e.name));
    return [
      performance.timeOrigin,
      window.pistream?.timings.navigationToOpen ?? NaN,
      whep?.startTime ?? NaN,
      whep?.responseEnd ?? NaN,
    ] as const;
  });
  return p.player === 'webrtc' ? { open: origin + open, post: origin + post, answered: origin + answered } : { open: origin + open };
}

/** One join's figures (ms): open → first picture on screen, and for WebRTC its POST → picture and the steps between. */
interface JoinFigures {
  readonly joinMs?: number;
  /** The page's own open → first paint (performance.now()). */
  readonly pageMs: number;
  readonly player: string;
  /** WebRTC: POST → first picture on screen; POST → answer; answer → connected. */
  readonly postMs?: number;
  readonly answerMs?: number;
  readonly connectMs?: number;
}

/** One fresh page joining: its figures (no joinMs when no picture showed). */
async function joinOnce(
  browser: BrowserContext,
  url: string,
  p: JoinPlayer,
  picture: StreamSpec,
  showWaitMs: number,
): Promise<JoinFigures> {
  const page = await browser.newPage();
  try {
    const screen = await recordScreen(page);
    await page.goto(url);
    await page.waitForFunction(() => (window.pistream?.painted ?? 0) > 0, undefined, { timeout: 20_000 });
    await sleep(showWaitMs);
    const at = await connectMoments(page, p);
    const player = String(await page.evaluate(() => window.pistream?.player ?? 'unknown'));
    const pageMs = await page.evaluate(() => {
      const t = (window.pistream?.timings ?? {}) as { openToFirstPaint?: number | null };
      return t.openToFirstPaint ?? NaN;
    });
    const frames = await screen.stop();
    // Read in order, up to the first picture (decoding every frame would only cost time).
    let first: ScreenFrame | undefined;
    for (const f of frames) {
      first = firstPicture([readFrame(f, picture)]);
      if (first) break;
    }
    const shown = first?.at;
    const webrtc =
      at.post === undefined
        ? {}
        : {
            postMs: shown === undefined ? undefined : shown - at.post,
            answerMs: at.answered! - at.post,
            connectMs: at.open - at.answered!,
          };
    return { joinMs: shown === undefined ? undefined : shown - at.open, pageMs, player, ...webrtc };
  } finally {
    await page.close();
  }
}

/** Steady glass-to-glass on screen: one page, `seconds` of screencast after `warmup`, each picture's first frame. */
async function steadyGlass(browser: BrowserContext, url: string, picture: StreamSpec, warmup: number, seconds: number): Promise<number[]> {
  const page = await browser.newPage();
  try {
    const screen = await recordScreen(page);
    await page.goto(url);
    await page.waitForFunction(() => (window.pistream?.painted ?? 0) > 0, undefined, { timeout: 20_000 });
    await sleep(warmup * 1000);
    screen.take();
    await sleep(seconds * 1000);
    const frames = await screen.stop();
    return firstAppearances(frames.map((f) => readFrame(f, picture)));
  } finally {
    await page.close();
  }
}

/** A WebRTC join's steps before its connection is up (ms, one entry per join). */
export interface WebRtcSteps {
  readonly postMs: number[];
  readonly answerMs: number[];
  readonly connectMs: number[];
}

/** One player's joins as they are collected. */
interface Collected {
  readonly joinMs: number[];
  readonly pageJoinMs: number[];
  readonly webrtc: WebRtcSteps;
  readonly players: Set<string>;
  missed: number;
}

/**
 * Part 8: every player's joins and steady glass on screen, in one browser. The joins go round the players (the
 * order reversed every other round), so a change in the machine's load falls on all of them alike.
 */
export async function screenJoins(o: ScreenJoinOptions): Promise<JoinRow[]> {
  const list = o.players ?? JOIN_PLAYERS;
  const browser = await launchBrowser({ viewport: VIEWPORT, extraArgs: o.browserArgs });
  o.onBrowser?.(browser);
  const url = (p: JoinPlayer): string => joinUrl(o.servers[p.codec], p, o.insecureHost);
  const collected = new Map<JoinPlayer, Collected>(
    list.map((p) => [
      p,
      { joinMs: [], pageJoinMs: [], webrtc: { postMs: [], answerMs: [], connectMs: [] }, players: new Set(), missed: 0 },
    ]),
  );
  try {
    for (let i = 0; i < o.joins; i++) {
      for (const p of i % 2 === 0 ? list : [...list].reverse()) {
        const c = collected.get(p)!;
        // A random moment in the GOP (one GOP = one second here).
        await sleep(Math.random() * 1000);
        collect(c, await joinOnce(browser, url(p), p, o.streams[p.codec], o.showWaitMs));
      }
    }
    const rows: JoinRow[] = [];
    for (const p of list) {
      const glass = await steadyGlass(browser, url(p), o.streams[p.codec], o.warmupSeconds, o.steadySeconds);
      rows.push(joinRow(p, collected.get(p)!, glass));
    }
    return rows;
  } finally {
    await browser.close();
  }
}

function collect(c: Collected, f: JoinFigures): void {
  c.players.add(f.player);
  c.pageJoinMs.push(f.pageMs);
  if (f.joinMs === undefined) c.missed++;
  else c.joinMs.push(f.joinMs);
  if (f.postMs !== undefined) c.webrtc.postMs.push(f.postMs);
  if (f.answerMs !== undefined) c.webrtc.answerMs.push(f.answerMs);
  if (f.connectMs !== undefined) c.webrtc.connectMs.push(f.connectMs);
}

/** A player's row: its joins against its steady glass, and the goal. */
function joinRow(p: JoinPlayer, c: Collected, glass: readonly number[]): JoinRow {
  const steady = { samples: glass.length, p50: quantile(glass, 0.5), p95: quantile(glass, 0.95) };
  const p50 = quantile(c.joinMs, 0.5);
  const max = c.missed > 0 ? Infinity : quantile(c.joinMs, 1);
  const only = c.players.size === 1 && c.players.has(p.player);
  const goalMet = only && p50 <= steady.p50 + JOIN_GOAL.p50OverGlassMs && max <= steady.p50 + JOIN_GOAL.maxOverGlassMs;
  const webrtc = c.webrtc.answerMs.length > 0 ? { webrtc: c.webrtc } : {};
  return {
    name: p.name,
    players: [...c.players],
    joinMs: c.joinMs,
    pageJoinMs: c.pageJoinMs,
    missed: c.missed,
    ...webrtc,
    steady,
    p50,
    max,
    goalMet,
  };
}

/** Part 8's table and goal lines. */
export function printScreenJoins(rows: readonly JoinRow[], o: Pick<ScreenJoinOptions, 'joins' | 'steadySeconds'>): void {
  printTable(
    `8. Join on screen (CDP screencast, compositor timestamps): ${o.joins} fresh pages per player joining at a random point ` +
      `of the 1 s GOP; join = WebSocket open (WebRTC: connection connected, ICE and DTLS done) → first frame on screen showing a picture (ms); ` +
      `steady glass = capture → first frame showing each picture, ${o.steadySeconds} s on one page`,
    [
      'player',
      'page played',
      'joins',
      'missed',
      'join p50',
      'join p95',
      'join max',
      'page open→paint p50',
      'glass samples',
      'glass p50',
      'glass p95',
      'goal',
    ],
    rows.map((r) => [
      r.name,
      r.players.join('/'),
      cell(r.joinMs.length, 0),
      cell(r.missed, 0),
      cell(r.p50),
      cell(quantile(r.joinMs, 0.95)),
      Number.isFinite(r.max) ? cell(r.max) : 'missed',
      cell(quantile(r.pageJoinMs, 0.5)),
      cell(r.steady.samples, 0),
      cell(r.steady.p50),
      cell(r.steady.p95),
      r.goalMet ? 'met' : 'missed',
    ]),
  );
  console.log(
    `   goal, every player: join p50 ≤ steady glass p50 + ${JOIN_GOAL.p50OverGlassMs} ms and join max ≤ steady glass p50 + ` +
      `${JOIN_GOAL.maxOverGlassMs} ms (a join that showed no picture misses it)`,
  );
  for (const r of rows)
    console.log(`   ${r.name}: joins ${r.joinMs.map((x) => cell(x, 0)).join(' ')}${r.missed ? `; ${r.missed} showed no picture` : ''}`);
  for (const r of rows.filter((row) => row.webrtc)) {
    const w = r.webrtc!;
    const p50 = (xs: readonly number[]): string => cell(quantile(xs, 0.5));
    console.log(
      `   ${r.name} from its WHEP POST: POST → picture on screen p50 ${p50(w.postMs)}, max ${cell(quantile(w.postMs, 1))} ` +
        `(joins ${w.postMs.map((x) => cell(x, 0)).join(' ')}); of which POST → answer p50 ${p50(w.answerMs)}, answer → connected p50 ${p50(w.connectMs)}`,
    );
  }
}
