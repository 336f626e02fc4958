// Part 9 of the bench: a viewer on a real (namespaced, capped, jittery, lossy) link. For each player (JSMpeg,
// WebCodecs, MSE, WebRTC) and link profile (profiles.ts): a Chromium inside the viewer namespace (netns.ts) watches
// the stream through the link, a control Chromium watches it on loopback at the same time, and both screens are read
// (screen-glass.ts). See bench/README.md, part 9.
// Run alone: npm run bench:net [-- --quick] [-- --players jsmpeg,webrtc] [-- --profiles cap0.5,outage] [-- --samples]
//            [-- --soak-minutes 10]  (the jittery profile for that long per player instead: does latency grow?)
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH, launchBrowser } from '../browser';
import { freeUdpPort, ROOT, runMain } from '../children';
import { startCodecServer, type BenchCodec } from '../codec-server';
import { sleep, type RunningChild, type StreamSpec } from '../servers';
import { cell, printTable } from '../stats';
import { backToLive, glassSlope, phaseFigures, type PhaseFigures } from './figures';
import { createLink, netnsUnavailable, RELAY_ADDRESS, type Link, type RelayHandle } from './netns';
import { GOOD_LINK, PROFILES, soakProfile, type NetProfile, type ProfileStep } from './profiles';
import { watchScreen, type OnScreen } from './screen-glass';

// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { pistream?: { frames: number; player?: string | null } };

/** 640x480@24, GOP 1 s: MPEG-1 at 800 kbit/s, H.264 at 500 (the bench's rates for this size, run.ts). */
const SIZE = { width: 640, height: 480 };
const SPECS: Record<BenchCodec, StreamSpec> = {
  mpeg1: { ...SIZE, fps: 24, bitrateKbps: 800 },
  h264: { ...SIZE, fps: 24, bitrateKbps: 500 },
};

interface NetPlayer {
  readonly id: 'jsmpeg' | 'webcodecs' | 'mse' | 'webrtc';
  readonly name: string;
  readonly codec: BenchCodec;
}
export const NET_PLAYERS: readonly NetPlayer[] = [
  { id: 'jsmpeg', name: 'JSMpeg', codec: 'mpeg1' },
  { id: 'webcodecs', name: 'WebCodecs', codec: 'h264' },
  { id: 'mse', name: 'MSE', codec: 'h264' },
  { id: 'webrtc', name: 'WebRTC', codec: 'h264' },
];
/** `--quick`: the profiles below the stream's rate and the outage. */
const QUICK_PROFILES = ['cap0.5', 'drop', 'outage'];
/** After both pages show pictures, before the window. */
const WARMUP_MS = 2000;
const FIRST_PICTURE_MS = 30_000;

export interface NetRow {
  readonly player: string;
  /** The player the page ran (window.pistream.player), viewer's and control's. */
  readonly ran: readonly [string, string];
  readonly profile: string;
  readonly viewer?: PhaseFigures;
  readonly control?: PhaseFigures;
  /** From the link's recovery until the viewer's glass is back within 10 ms of the control's (figures.ts, ms). */
  readonly backToLiveMs?: number;
  /** Runs of a minute or more: glass p50 in each whole minute, viewer's and control's (does latency grow?). */
  readonly perMinute?: { viewer: number[]; control: number[] };
  /** Runs of a minute or more: the slope of glass over the whole run (ms per minute), viewer's and control's. */
  readonly slopeMsPerMin?: { viewer: number; control: number };
  readonly error?: string;
  /** With `--samples`: every picture on screen, [ms from the window's start, frame number, glass ms], per viewer. */
  readonly samples?: { viewer: number[][]; control: number[][] };
}

/** One player's two pages in a run and where they point. */
interface Pair {
  readonly player: NetPlayer;
  readonly viewer: Page;
  readonly control: Page;
  readonly viewerUrl: string;
  readonly controlUrl: string;
}

function applyStep(step: ProfileStep, link: Link, relay: RelayHandle): void {
  if (step.rate !== undefined) link.setRate(step.rate);
  if (step.impair) relay.impair(step.impair, step.impair);
  if (step.outageMs) relay.outage(step.outageMs);
}

async function playing(page: Page, url: string): Promise<string> {
  await page.goto(url);
  await page.waitForFunction(() => (window.pistream?.frames ?? 0) > 0, undefined, { timeout: FIRST_PICTURE_MS });
  return page.evaluate(() => String(window.pistream?.player ?? 'unknown'));
}

/** Both pages of a pair playing: what each page ran, or why not. */
async function bothPlaying(pair: Pair): Promise<{ ran: [string, string] } | { error: string }> {
  try {
    const ran = await Promise.all([
      playing(pair.viewer, `${pair.viewerUrl}?player=${pair.player.id}`),
      playing(pair.control, `${pair.controlUrl}?player=${pair.player.id}`),
    ]);
    return { ran };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0]! };
  }
}

/**
 * Players through one profile, side by side (one pair for the table's runs, every player at once for a soak): each
 * pair's pages play, then the profile's timeline runs while every screen is read; a row per pair.
 */
async function measure(
  pairs: readonly Pair[],
  profile: NetProfile,
  link: Link,
  relay: RelayHandle,
  keepSamples = false,
): Promise<NetRow[]> {
  link.setRate(GOOD_LINK.rate);
  relay.impair(GOOD_LINK.impair, GOOD_LINK.impair);
  const started = await Promise.all(pairs.map(bothPlaying));
  const live = pairs.filter((_, i) => 'ran' in started[i]!);
  await sleep(WARMUP_MS);
  const watches = await Promise.all(live.map(async (p) => Promise.all([watchScreen(p.viewer, SIZE), watchScreen(p.control, SIZE)])));
  const t0 = Date.now();
  for (const step of profile.steps) {
    await sleep(t0 + step.atS * 1000 - Date.now());
    applyStep(step, link, relay);
  }
  await sleep(t0 + profile.seconds * 1000 - Date.now());
  await Promise.all(watches.flat().map((w) => w.stop()));
  link.setRate(GOOD_LINK.rate);
  relay.impair(GOOD_LINK.impair, GOOD_LINK.impair);
  await Promise.all(pairs.flatMap((p) => [p.viewer.goto('about:blank'), p.control.goto('about:blank')]));
  const samples = (list: readonly OnScreen[]): number[][] => list.map((p) => [Math.round(p.at - t0), p.frame, Math.round(p.glassMs)]);
  return pairs.map((pair, i) => {
    const base = { player: pair.player.name, profile: profile.name };
    const start = started[i]!;
    if ('error' in start) return { ...base, ran: ['', ''], error: start.error };
    const [viewer, control] = watches[live.indexOf(pair)]!;
    return {
      ...base,
      ran: start.ran,
      ...figuresOf(viewer.pictures, control.pictures, profile, t0),
      ...(keepSamples ? { samples: { viewer: samples(viewer.pictures), control: samples(control.pictures) } } : {}),
    };
  });
}

function figuresOf(viewer: readonly OnScreen[], control: readonly OnScreen[], profile: NetProfile, t0: number): Partial<NetRow> {
  const from = t0 + profile.impairedFromS * 1000;
  const to = t0 + (profile.recoverAtS ?? profile.seconds) * 1000;
  const controlAll = phaseFigures(control, t0, t0 + profile.seconds * 1000);
  const minutes = Array.from({ length: Math.floor(profile.seconds / 60) }, (_, m) => t0 + m * 60_000);
  const perMinute = (list: readonly OnScreen[]): number[] => minutes.map((start) => phaseFigures(list, start, start + 60_000).glassP50);
  return {
    ...(minutes.length
      ? {
          perMinute: { viewer: perMinute(viewer), control: perMinute(control) },
          slopeMsPerMin: { viewer: glassSlope(viewer, from, to), control: glassSlope(control, from, to) },
        }
      : {}),
    viewer: phaseFigures(viewer, from, to),
    control: phaseFigures(control, from, to),
    ...(profile.recoverAtS !== undefined
      ? {
          backToLiveMs: backToLive(viewer, t0 + profile.recoverAtS * 1000, {
            p50: controlAll.glassP50,
            p95: controlAll.glassP95,
            perSecond: controlAll.perSecond,
          }),
        }
      : {}),
  };
}

/** What {@link withServers} gives: the relay, and a pair of pages (viewer's, control's) for a player. */
interface Servers {
  readonly relay: RelayHandle;
  /** The browsers' first pages for the first pair, new pages for each later one. */
  pair(player: NetPlayer): Promise<Pair>;
}

/**
 * Everything up for some codecs: a server each (on every address, WebRTC announcing the relay), one relay for all
 * of them, two browsers (the viewer's in its namespace, the control's on loopback) whose pages `pair` opens.
 */
async function withServers(link: Link, codecs: readonly BenchCodec[], fn: (servers: Servers) => Promise<void>): Promise<void> {
  const udp = await freeUdpPort();
  const running = new Map<BenchCodec, RunningChild>();
  const browsers: BrowserContext[] = [];
  try {
    for (const codec of codecs) {
      const webrtc = codec === 'h264' ? ['--webrtc-port', String(udp), '--webrtc-address', RELAY_ADDRESS] : [];
      running.set(codec, await startCodecServer(SPECS[codec], codec, ['--host', '0.0.0.0', ...webrtc]));
    }
    const ports = [...running.values()].map((server) => server.port);
    const relay = await link.startRelay({
      tcpPorts: ports,
      udpPorts: running.has('h264') ? [udp] : [],
      down: GOOD_LINK.impair,
      up: GOOD_LINK.impair,
      seed: 28,
    });
    // The viewer's origin is plain http at an address: Chromium treats it as secure (as https would be) for WebCodecs.
    const origins = ports.map((port) => `http://${RELAY_ADDRESS}:${port}`).join(',');
    browsers.push(
      await launchBrowser({
        viewport: SIZE,
        executablePath: link.wrap(CHROMIUM_PATH),
        extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${origins}`],
      }),
    );
    browsers.push(await launchBrowser({ viewport: SIZE }));
    const [viewerBrowser, controlBrowser] = browsers as [BrowserContext, BrowserContext];
    let pairs = 0;
    await fn({
      relay,
      async pair(player) {
        const server = running.get(player.codec)!;
        const [viewer, control] = pairs++
          ? await Promise.all([viewerBrowser.newPage(), controlBrowser.newPage()])
          : [viewerBrowser.pages()[0]!, controlBrowser.pages()[0]!];
        return { player, viewer, control, viewerUrl: `http://${RELAY_ADDRESS}:${server.port}/`, controlUrl: server.url };
      },
    });
    await relay.stop();
  } finally {
    await Promise.all(browsers.map((b) => b.close().catch(() => undefined)));
    await Promise.all([...running.values()].map((server) => server.stop()));
  }
}

export interface NetBenchOptions {
  readonly quick?: boolean;
  readonly players?: readonly string[];
  readonly profiles?: readonly string[];
  /** Instead of the profiles: the jittery one for this many minutes per player, glass p50 per minute. */
  readonly soakMinutes?: number;
  /** Keep every picture's time, number and glass in the rows (the JSON). */
  readonly samples?: boolean;
}

/** Runs part 9 and prints its table; the rows, or why it could not run. */
export async function runNetBench(options: NetBenchOptions = {}): Promise<{ rows: NetRow[] } | { skipped: string }> {
  const why = netnsUnavailable();
  if (why) {
    console.log(`\n9. Network: skipped (${why})`);
    return { skipped: why };
  }
  const profileIds = options.profiles ?? (options.quick ? QUICK_PROFILES : PROFILES.map((p) => p.id));
  const profiles = options.soakMinutes ? [soakProfile(options.soakMinutes)] : PROFILES.filter((p) => profileIds.includes(p.id));
  const players = NET_PLAYERS.filter((p) => !options.players || options.players.includes(p.id));
  const rows: NetRow[] = [];
  const link = createLink();
  const report = (row: NetRow): void => {
    const figures = `viewer p50 ${cell(row.viewer?.glassP50)} ms, ${cell(row.viewer?.perSecond)} pictures/s`;
    console.log(`   ${row.player} · ${row.profile}: ${row.error ?? figures}`);
    rows.push(row);
  };
  try {
    if (options.soakMinutes) {
      // Every player at once, each with its own pair of pages: one soak's time for all of them.
      await withServers(link, [...new Set(players.map((p) => p.codec))], async (servers) => {
        const pairs = await Promise.all(players.map((p) => servers.pair(p)));
        (await measure(pairs, profiles[0]!, link, servers.relay, options.samples)).forEach(report);
      });
    } else
      for (const codec of ['mpeg1', 'h264'] as const) {
        const mine = players.filter((p) => p.codec === codec);
        if (mine.length === 0) continue;
        await withServers(link, [codec], async (servers) => {
          // One pair of pages for the codec's players in turn.
          const pages = await servers.pair(mine[0]!);
          for (const player of mine)
            for (const profile of profiles)
              (await measure([{ ...pages, player }], profile, link, servers.relay, options.samples)).forEach(report);
        });
      }
  } finally {
    link.close();
  }
  printNet(rows);
  return { rows };
}

const fig = (f: PhaseFigures | undefined): string[] => [
  cell(f?.glassP50, 0),
  cell(f?.glassP95, 0),
  cell(f?.perSecond),
  cell(f?.maxGapMs, 0),
];

function printNet(rows: readonly NetRow[]): void {
  printTable(
    `9. Network: a viewer behind a link profile (Chromium in a network namespace: tc tbf cap, relay for delay/loss/outage) and a ` +
      'control viewer on loopback at the same time; 640x480@24 (MPEG-1 800 kbit/s, H.264 500), GOP 1 s; read on screen (compositor ' +
      'frames, barcode). Figures over the impaired phase: glass p50/p95 (ms), new pictures per second on screen, longest time ' +
      'without a new picture (ms); back to live = link recovered → the first 1 s of pictures with glass p50 and p95 each ≤ the control’s + 10 ms and at least half the control’s pictures',
    ['player', 'profile', 'ran', 'p50', 'p95', 'pics/s', 'max gap', 'back to live', 'control p50', 'p95', 'pics/s', 'max gap'],
    rows.map((r) =>
      r.error
        ? [r.player, r.profile, `error: ${r.error}`]
        : [r.player, r.profile, r.ran.join('/'), ...fig(r.viewer), cell(r.backToLiveMs, 0), ...fig(r.control)],
    ),
  );
  for (const r of rows.filter((row) => row.perMinute)) {
    const line = (xs: readonly number[]): string => xs.map((x) => cell(x, 0)).join(' ');
    const slope = r.slopeMsPerMin!;
    console.log(
      `   ${r.player}, glass p50 per minute: viewer ${line(r.perMinute!.viewer)}; control ${line(r.perMinute!.control)}; ` +
        `slope of glass over the run: viewer ${cell(slope.viewer, 2)} ms/min, control ${cell(slope.control, 2)} ms/min`,
    );
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const list = (name: string): string[] | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1]!.split(',') : undefined);
  const startedAt = new Date().toISOString();
  const loadAvgStart = loadavg();
  const out = await runNetBench({
    quick: argv.includes('--quick'),
    players: list('--players'),
    profiles: list('--profiles'),
    samples: argv.includes('--samples'),
    soakMinutes: argv.includes('--soak-minutes') ? Number(argv[argv.indexOf('--soak-minutes') + 1]) : undefined,
  });
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `net-${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ startedAt, loadAvgStart, loadAvgEnd: loadavg(), profiles: PROFILES, ...out }, null, 2) + '\n');
  console.log(
    `\nresults: ${file}; load average ${loadAvgStart.map((l) => l.toFixed(2)).join(' ')} → ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

if (require.main === module) runMain(main);
