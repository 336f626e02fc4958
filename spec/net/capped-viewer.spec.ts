import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH, launchBrowser } from '../../bench/browser';
import { createLink, RELAY_ADDRESS, type Link, type RelayHandle } from '../../bench/net/netns';
import { CLEAN } from '../../bench/net/relay-schedule';
import { parseConfig } from '../../src/config/command-line';
import { ackMessage } from '../../src/server/control-message';
import { DEFAULTS } from '../../src/defaults';
import { startServer, type RunningServer } from '../../src/server/start-server';
import type { Viewer } from '../../src/server/viewer';
import { describeBrowser } from '../helpers/browser';
import { describeNetns, explainedBehindLink, watchPageBehindLink } from '../helpers/netns';
import { pageState, waitForFramesToAdvance } from '../helpers/page-tools';
import { connect, type WsClient } from '../helpers/ws-client';

// A JSMpeg viewer behind a link capped well below the stream's rate, a control page on loopback, and on loopback too a
// viewer that acknowledges each picture as it arrives, all on one real server: what the slow-viewer rule promises
// (pictures keep coming, latency stays bounded, nobody else is touched), not how fast anything is. The control page
// plays on; whether it loses a picture is its own decoder's speed on a busy machine (a starved Chromium falls behind
// and is dropped by the same rule), so "nobody else loses a picture" is asserted on the viewer that keeps up by
// construction.

/** What the page exposes on `window.pistream`, as far as this spec reads it. */
interface PageState {
  readonly player: string | null;
  readonly frames: number;
  readonly latencies: readonly number[];
}

const TIMEOUT = 300_000;
/** MPEG-1 at 800 kbit/s (its default), 640x480@24, GOP 1 s; the link is capped at 250 kbit/s. */
const CAP_KBIT = 250;
const SIZE = { width: 640, height: 480 };
/** How long the capped viewer is watched, measured in the control viewer's pictures (24 a second). */
const WATCH_PICTURES = 24 * 12;

type Viewers = { viewers: Set<Viewer> };
const viewersOf = (server: RunningServer): Set<Viewer> =>
  (server.server.plugins as unknown as { pistream: { viewers: Viewers } }).pistream.viewers.viewers;
const dropped = (viewer: Viewer): number => Object.values(viewer.stats.dropped).reduce((a, b) => a + b, 0);

/** Resolves with the server's viewers once there are `n`; rejects after `seconds`. */
async function waitForViewers(server: RunningServer, n: number, seconds: number): Promise<Viewer[]> {
  const until = Date.now() + seconds * 1000;
  while (viewersOf(server).size < n) {
    if (Date.now() > until) throw new Error(`${n} viewers never connected in ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return [...viewersOf(server)];
}

describeNetns('a viewer on a link below the stream’s rate', () => {
  describeBrowser('JSMpeg behind a 250 kbit/s cap beside a control viewer on loopback', () => {
    let link: Link | undefined;
    let relay: RelayHandle | undefined;
    let server: RunningServer | undefined;
    const browsers: BrowserContext[] = [];
    let steady: WsClient | undefined;

    beforeAll(async () => {
      server = await startServer(
        parseConfig(['--source', 'test', '--host', '0.0.0.0', '--port', '0', '--width', '640', '--height', '480', '--fps', '24'], {}),
        { logger: pino({ level: 'silent' }) },
      );
      link = createLink();
      link.setRate(CAP_KBIT);
      relay = await link.startRelay({ tcpPorts: [server.port], udpPorts: [], down: CLEAN, up: CLEAN, seed: 1 });
      browsers.push(await launchBrowser({ viewport: SIZE, executablePath: link.wrap(CHROMIUM_PATH) }));
      browsers.push(await launchBrowser({ viewport: SIZE }));
    }, TIMEOUT);

    afterAll(async () => {
      await steady?.close();
      await Promise.all(browsers.map((b) => b.close().catch(() => undefined)));
      link?.close();
      await server?.stop();
    }, TIMEOUT);

    it(
      'gets at least a picture a second with latency bounded by the slow-viewer rule; the control page plays on and a viewer that keeps up loses none',
      async () => {
        const [capped, control] = browsers.map((b) => b.pages()[0]!) as [Page, Page];
        watchPageBehindLink(capped);
        await capped.goto(`http://${RELAY_ADDRESS}:${server!.port}/?player=jsmpeg`);
        const [cappedViewer] = await explainedBehindLink(() => waitForViewers(server!, 1, 120), capped, link!, relay!);
        await control.goto(`http://127.0.0.1:${server!.port}/?player=jsmpeg`);
        const controlViewer = (await waitForViewers(server!, 2, 30)).find((v) => v !== cappedViewer)!;
        // Acks each picture as it arrives, as a page that decodes at once would.
        steady = await connect(`ws://127.0.0.1:${server!.port}/stream`);
        steady.ws.on('message', () => steady!.ws.send(ackMessage(steady!.messages.length)));
        const steadyViewer = (await waitForViewers(server!, 3, 30)).find((v) => v !== cappedViewer && v !== controlViewer)!;
        // Both play; then the window, timed by the control's pictures.
        await explainedBehindLink(() => waitForFramesToAdvance(capped, 1), capped, link!, relay!);
        await waitForFramesToAdvance(control, 24);
        const before = await pageState<PageState>(capped);
        const started = performance.now();
        await waitForFramesToAdvance(control, WATCH_PICTURES);
        const seconds = (performance.now() - started) / 1000;
        const after = await pageState<PageState>(capped);

        expect(after.player).toBe('jsmpeg');
        // The slow-viewer rule at work: the capped viewer had pictures dropped and resumed at keyframes…
        expect(dropped(cappedViewer!)).toBeGreaterThan(0);
        expect(cappedViewer!.stats.resyncs).toBeGreaterThan(0);
        // …so pictures kept coming (keyframes at least, one a second) …
        expect((after.frames - before.frames) / seconds).toBeGreaterThanOrEqual(1);
        // …and none waited in a queue: latency stays within the lag bound plus the link's own queue and a busy
        // machine's slack, however long the viewer watches.
        const recent = after.latencies.slice(-10);
        expect(recent.length).toBeGreaterThan(0);
        expect(Math.max(...recent)).toBeLessThan(DEFAULTS.maxLagMs + 2500);
        // The control page played on through the window (it was timed by its pictures); the viewer on the good link
        // that kept up lost nothing to the capped one, and was sent every picture of the window.
        expect(dropped(steadyViewer)).toBe(0);
        expect(steadyViewer.stats.resyncs).toBe(0);
        expect(steady!.messages.length).toBeGreaterThan(WATCH_PICTURES);
        // (Its acks were taken: the lag rule judged it, as it judged the capped page.)
        expect(steadyViewer.stats.acked).toBeGreaterThan(WATCH_PICTURES);
      },
      TIMEOUT,
    );
  });
});
