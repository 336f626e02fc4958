// Why a WebRTC viewer is slow back to live after a spell of bad link: one viewer behind the link (netns.ts), a
// profile's timeline (profiles.ts: `outage` by default, or `drop`), and every 100 ms the page's receiver statistics
// (getStats: jitter buffer delay per picture, frames decoded/dropped, freezes, PLI/NACK sent, packets lost) beside
// what reached the screen (screen-glass.ts) and the server's RTCP counts (/metrics). A diagnosis tool (bench/README.md,
// part 9), not part of the bench's table.
// Run: npm run bench:net:probe [-- --profile drop]
import { loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { CHROMIUM_PATH, launchBrowser } from '../browser';
import { freeUdpPort, runMain } from '../children';
import { startCodecServer } from '../codec-server';
import { scrapeMetrics, sleep } from '../servers';
import { createLink, RELAY_ADDRESS } from './netns';
import { GOOD_LINK, PROFILES, type ProfileStep } from './profiles';
import { watchScreen } from './screen-glass';

declare const window: { pistream?: { frames: number }; __pcs?: unknown[] };

const SIZE = { width: 640, height: 480 };

/** Keeps every RTCPeerConnection the page makes, for getStats from outside. */
const KEEP_PEERS = `(() => {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Original(...args); window.__pcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.assign(window.RTCPeerConnection, Original);
})();`;

/** The inbound video's counters now (cumulative), from the page's last peer connection. */
async function inbound(page: Page): Promise<Record<string, number>> {
  return page.evaluate(`(async () => {
    const pc = window.__pcs[window.__pcs.length - 1];
    if (!pc) return {};
    const out = {};
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      for (const k of ['jitterBufferDelay', 'jitterBufferEmittedCount', 'jitterBufferTargetDelay', 'framesDecoded',
        'framesDropped', 'framesReceived', 'keyFramesDecoded', 'freezeCount', 'totalFreezesDuration', 'pliCount',
        'nackCount', 'firCount', 'packetsLost', 'packetsReceived', 'framesPerSecond']) out[k] = s[k] ?? NaN;
    });
    return out;
  })()`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const id = argv.includes('--profile') ? argv[argv.indexOf('--profile') + 1] : 'outage';
  const profile = PROFILES.find((p) => p.id === id && p.recoverAtS !== undefined);
  if (!profile)
    throw new Error(
      `--profile: one with a recovery (${PROFILES.filter((p) => p.recoverAtS)
        .map((p) => p.id)
        .join(', ')})`,
    );
  const recoverAtMs = profile.recoverAtS! * 1000;
  console.log(
    `load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const udp = await freeUdpPort();
  const server = await startCodecServer({ ...SIZE, fps: 24, bitrateKbps: 500 }, 'h264', [
    '--host',
    '0.0.0.0',
    '--webrtc-port',
    String(udp),
    '--webrtc-address',
    RELAY_ADDRESS,
  ]);
  const link = createLink();
  try {
    const relay = await link.startRelay({
      tcpPorts: [server.port],
      udpPorts: [udp],
      down: GOOD_LINK.impair,
      up: GOOD_LINK.impair,
      seed: 28,
    });
    const browser = await launchBrowser({ viewport: SIZE, executablePath: link.wrap(CHROMIUM_PATH) });
    try {
      const page = browser.pages()[0]!;
      await page.addInitScript(KEEP_PEERS);
      await page.goto(`http://${RELAY_ADDRESS}:${server.port}/?player=webrtc`);
      await page.waitForFunction(() => (window.pistream?.frames ?? 0) > 0, undefined, { timeout: 30_000 });
      await sleep(3000);
      const watch = await watchScreen(page, SIZE);
      const t0 = Date.now();
      const rows: string[] = [];
      let prev: Record<string, number> = {};
      const before = await scrapeMetrics(server);
      const steps: ProfileStep[] = [...profile.steps];
      while (Date.now() - t0 < profile.seconds * 1000) {
        while (steps.length && Date.now() - t0 >= steps[0]!.atS * 1000) {
          const step = steps.shift()!;
          if (step.rate !== undefined) link.setRate(step.rate);
          if (step.outageMs) relay.outage(step.outageMs);
        }
        const queue = link.backlog();
        const now = await inbound(page);
        const d = (k: string): number => (now[k] ?? 0) - (prev[k] ?? 0);
        const jb = d('jitterBufferEmittedCount') ? (d('jitterBufferDelay') / d('jitterBufferEmittedCount')) * 1000 : NaN;
        const shown = watch.pictures.filter((p) => p.at >= Date.now() - 100).map((p) => Math.round(p.glassMs));
        rows.push(
          `${String(Date.now() - t0).padStart(6)} jb ${jb.toFixed(0).padStart(5)} target ${((((now.jitterBufferTargetDelay ?? 0) - (prev.jitterBufferTargetDelay ?? 0)) / Math.max(1, d('jitterBufferEmittedCount'))) * 1000).toFixed(0).padStart(5)} ` +
            `dec ${d('framesDecoded')} drop ${d('framesDropped')} key ${d('keyFramesDecoded')} freeze ${d('freezeCount')} pli ${d('pliCount')} ` +
            `nack ${d('nackCount')} lost ${d('packetsLost')} recv ${d('packetsReceived')} tbf ${queue.bytes}B/${queue.packets}p ` +
            `glass [${shown.join(' ')}]`,
        );
        prev = now;
        await sleep(100);
      }
      await watch.stop();
      const after = await scrapeMetrics(server);
      console.log(rows.join('\n'));
      link.setRate(GOOD_LINK.rate);
      const recovered = t0 + recoverAtMs;
      const glassAfter = watch.pictures
        .filter((p) => p.at >= recovered)
        .map((p) => `${Math.round(p.at - recovered)}:${Math.round(p.glassMs)}`);
      console.log(`${profile.name}, recovered at ${recoverAtMs} ms; pictures after recovery (ms after: glass):\n${glassAfter.join(' ')}`);
      for (const k of ['pistream_webrtc_keyframe_requests_total', 'pistream_webrtc_nacked_packets_total'])
        console.log(`${k}: +${(after[k] ?? 0) - (before[k] ?? 0)}`);
      console.log(`relay: ${JSON.stringify(await relay.counts())}`);
      await relay.stop();
    } finally {
      await browser.close().catch(() => undefined);
    }
  } finally {
    link.close();
    await server.stop();
    console.log(
      `load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  }
}

if (require.main === module) runMain(main);
