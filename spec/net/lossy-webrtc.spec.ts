import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH, launchBrowser } from '../../bench/browser';
import { freeUdpPort } from '../../bench/children';
import { createLink, RELAY_ADDRESS, type Link, type RelayHandle } from '../../bench/net/netns';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import { describeNetns, explainedBehindLink, watchPageBehindLink } from '../helpers/netns';
import { pageState, waitForFramesToAdvance } from '../helpers/page-tools';

// A WebRTC viewer whose media crosses a lossy UDP link (the relay loses 5 % each way) that then goes down for 3 s:
// the receiver's retransmission requests and keyframe requests keep it playing, and the same session resumes after
// the outage without a reload.

interface PageState {
  readonly player: string | null;
  readonly frames: number;
  readonly webrtc?: { readonly connectionState: string | null; readonly session: string | null };
}

const TIMEOUT = 180_000;
const LOSSY = { delayMs: 5, jitterMs: 2, loss: 0.05 };

describeNetns('a WebRTC viewer on a lossy link', () => {
  describeBrowser('WebRTC through 5 % loss and a 3 s outage', () => {
    let link: Link | undefined;
    let relay: RelayHandle | undefined;
    let server: RunningServer | undefined;
    let browser: BrowserContext | undefined;

    beforeAll(async () => {
      const udp = await freeUdpPort();
      // The server offers the relay's address as a host candidate: the viewer's namespace reaches nothing else.
      const args = [
        '--source',
        'test',
        '--codec',
        'h264',
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--webrtc-port',
        String(udp),
        '--webrtc-address',
        RELAY_ADDRESS,
      ];
      server = await startServer(parseConfig(args, {}), { logger: pino({ level: 'silent' }) });
      link = createLink();
      relay = await link.startRelay({ tcpPorts: [server.port], udpPorts: [udp], down: LOSSY, up: LOSSY, seed: 5 });
      browser = await launchBrowser({ viewport: { width: 640, height: 480 }, executablePath: link.wrap(CHROMIUM_PATH) });
    }, TIMEOUT);

    afterAll(async () => {
      await browser?.close().catch(() => undefined);
      link?.close();
      await server?.stop();
    }, TIMEOUT);

    it(
      'plays through the loss, and the same session plays again after the outage',
      async () => {
        const page: Page = browser!.pages()[0]!;
        watchPageBehindLink(page);
        await page.goto(`http://${RELAY_ADDRESS}:${server!.port}/?player=webrtc`);
        await explainedBehindLink(() => waitForFramesToAdvance(page, 48), page, link!, relay!);
        const before = await pageState<PageState>(page);
        expect(before.player).toBe('webrtc');
        expect(before.webrtc?.connectionState).toBe('connected');
        // The media crossed the relay's UDP side, which lost some of it.
        const counts = await relay!.counts();
        expect(counts.downLost).toBeGreaterThan(0);

        relay!.outage(3000);
        // Pictures advance again after it, on the session it had before (no new WHEP offer, no reload).
        await explainedBehindLink(() => waitForFramesToAdvance(page, 24 * 6), page, link!, relay!);
        const after = await pageState<PageState>(page);
        expect(after.webrtc?.session).toBe(before.webrtc?.session);
        expect(after.webrtc?.connectionState).toBe('connected');
        expect((await relay!.counts()).downLost).toBeGreaterThan(counts.downLost);
      },
      TIMEOUT,
    );
  });
});
