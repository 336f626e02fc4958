import { tmpdir } from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import {
  type ServerPage,
  closeServerPage,
  expectCaptureTimes,
  openServerPage,
  pageState,
  waitForFramesToAdvance,
} from '../helpers/page-tools';

/** What public/viewer.js exposes on `window.pistream`. */
interface PageState {
  readonly status: string;
  readonly frames: number;
  readonly connections: number;
  readonly lastBarcode: { readonly frame: number; readonly time: number; readonly latencyMs: number } | null;
  readonly latencies: readonly number[];
  readonly decoder: 'wasm' | 'js' | null;
  readonly paintMode: 'message' | 'frame';
  /** Pictures decoded, by where the decoding ran. */
  readonly decodes: { readonly message: number; readonly frame: number; readonly catchUp: number; readonly other: number };
  readonly painted: number;
  readonly paintedFrame: number | null;
  /** The current connection's join (null until its first paint). */
  readonly join: {
    readonly decodedAtFirstPaint: number;
    readonly firstFrame: number | null;
    readonly catchUpDecodes: number | null;
    readonly frameAfterCatchUp: number | null;
  } | null;
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly pistream?: PageState; pistreamCspViolations?: string[]; pistreamBar?: BarSnapshot[] };
declare const document: {
  getElementById(id: string): { readonly textContent: string | null; readonly title: string } | null;
  addEventListener(type: 'securitypolicyviolation', listener: (event: CspViolation) => void): void;
};
/** A MutationObserver, as far as the page functions below use it. */
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: { subtree: boolean; childList: boolean; characterData: boolean; attributes: boolean }): void;
}
/** The status line and the HUD, as shown together at one moment. */
interface BarSnapshot {
  readonly status: string;
  readonly stats: string;
}
/** The parts of a SecurityPolicyViolationEvent worth printing. */
interface CspViolation {
  readonly effectiveDirective: string;
  readonly blockedURI: string;
  readonly sample: string;
}

/**
 * The real server on `port` (0: any free port), streaming the built-in test pattern, logging nothing.
 * The encoder child is gone once `stop()` has resolved and {@link childrenGone} has passed.
 */
function start(port = 0): Promise<RunningServer> {
  const config = parseConfig(['--source', 'test', '--host', '127.0.0.1', '--port', String(port)], {});
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

// The README's picture is refreshed only on request (PISTREAM_UPDATE_SCREENSHOT=1), so a test run leaves the
// working tree clean; otherwise the screenshot still gets taken, into the temp dir.
const SCREENSHOT = process.env.PISTREAM_UPDATE_SCREENSHOT
  ? join(__dirname, '..', '..', 'docs', 'screenshot.png')
  : join(tmpdir(), `pistream-screenshot-${process.pid}.png`);
const TIMEOUT = 60_000;

/** Waits until the picture on the canvas is the newest the page has decoded. */
async function paintsNewest(page: Page): Promise<void> {
  await page.waitForFunction(
    () => window.pistream!.paintedFrame !== null && window.pistream!.paintedFrame === window.pistream!.lastBarcode?.frame,
    undefined,
    { timeout: TIMEOUT },
  );
}

describeBrowser('viewer page (public/) in Chromium', () => {
  let opened: ServerPage | undefined;
  let server: RunningServer | undefined;
  let page: Page;
  let pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  /** Before the server starts: every picture it serves was captured after this. */
  let startedAt = 0;

  beforeAll(async () => {
    startedAt = Date.now();
    opened = await openServerPage(() => start(), { width: 1280, height: 720 });
    ({ server, page, pageErrors } = opened);
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    // Recorded in the page as well, from before its first script runs: the console may word a violation in
    // any way (or not at all), the event names the directive.
    await page.addInitScript(() => {
      window.pistreamCspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) => {
        window.pistreamCspViolations!.push(`${event.effectiveDirective} ${event.blockedURI} ${event.sample}`);
      });
    });
  }, TIMEOUT);

  afterAll(async () => {
    // The restart test stops the first server and starts another on its port: that one is stopped here too (left
    // running, its listener held jest's process open after the run: "did not exit one second after").
    if (server && server !== opened?.server) await server.stop();
    await closeServerPage(opened);
  }, TIMEOUT);

  it(
    'plays the stream: barcode frames advance, status live, sane glass-to-glass latency, nothing blocked by the CSP',
    async () => {
      await page.goto(server!.url);
      await waitForFramesToAdvance(page, 24);
      // Pictures decoded and painted means every script of the page has long run (and JSMpeg injected its style):
      // anything the CSP refused, or any console error of the load, has been reported by now.
      expect(await page.evaluate(() => window.pistreamCspViolations)).toEqual([]);
      expect(consoleErrors).toEqual([]);

      // Enough pictures for the latency check below (it reads the newest 12): waited for, not asserted of the 24
      // frame numbers above, of which a loaded machine's source skips some (late frames are skipped, not queued).
      await page.waitForFunction(() => window.pistream!.frames >= 12, undefined, { timeout: TIMEOUT });
      const state = await pageState<PageState>(page);
      expect(state.status).toBe('live');
      // JSMpeg's WASM decoder compiled under the page's CSP ('wasm-unsafe-eval'); the JS fallback is slower.
      expect(state.decoder).toBe('wasm');
      // The newest readings only: the first pictures of a connection may be a replayed GOP, up to a second old.
      const recent = state.latencies.slice(-12);
      expect(recent.length).toBe(12);
      expectCaptureTimes(recent, startedAt);
      expect(pageErrors).toEqual([]);

      // The HUD refreshes every second: wait for a refresh after this point, so it covers a whole second of
      // streaming (the one showing now may include the start-up), and one that shows a latency.
      const shown = await page.evaluate(() => document.getElementById('stats')?.textContent ?? '');
      await page.waitForFunction(
        (previous) => {
          const text = document.getElementById('stats')?.textContent ?? '';
          return text !== previous && /glass \d+ ms/.test(text);
        },
        shown,
        { timeout: TIMEOUT },
      );
      mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
    },
    TIMEOUT,
  );

  it(
    'the HUD labels its latency "glass N ms", with a tooltip saying what it measures',
    async () => {
      await page.goto(server!.url);
      await page.waitForFunction(() => /glass \d+ ms/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
        timeout: TIMEOUT,
      });
      const hud = await page.evaluate(() => ({
        stats: document.getElementById('stats')!.textContent,
        glass: document.getElementById('glass')?.textContent ?? null,
        title: document.getElementById('glass')?.title ?? null,
      }));
      expect(hud.stats).toMatch(/^\d+ fps · \d+ kb\/s · glass \d+ ms$/);
      expect(hud.glass).toMatch(/^glass \d+ ms$/);
      expect(hud.title).toMatch(/capture/);
      expect(hud.title).toMatch(/decod/);
      expect(hud.title).toMatch(/barcode/);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'decodes every picture in the handler of the message that brings it, never on an animation frame, and paints the newest',
    async () => {
      await page.goto(server!.url);
      await waitForFramesToAdvance(page, 12);
      const before = await pageState<PageState>(page);
      expect(before.paintMode).toBe('message');
      await waitForFramesToAdvance(page, 24);
      // Enough decodes to judge by (a liveness wait, not a share of the 24 frame numbers: a loaded machine's source
      // skips late frames).
      await page.waitForFunction((frames) => window.pistream!.frames >= frames + 12, before.frames, { timeout: TIMEOUT });
      const after = await pageState<PageState>(page);

      // No picture waited for an animation frame, and none was decoded anywhere else.
      expect(after.decodes.frame).toBe(0);
      expect(after.decodes.other).toBe(0);
      expect(after.decodes.message + after.decodes.catchUp).toBe(after.frames);
      // The only decodes outside a message handler are a join's catch-up, right after its first paint: none while
      // the stream just runs on one connection.
      const decoded = after.frames - before.frames;
      if (after.connections === before.connections) {
        expect(after.decodes.message - before.decodes.message).toBe(decoded);
      }
      // The newest decoded picture gets painted (at once, or in the next frame if a paint already waits for it).
      await paintsNewest(page);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'with ?paint=frame, decodes on animation frames (the previous behaviour, kept for the benchmark)',
    async () => {
      await page.goto(`${server!.url}?paint=frame`);
      await waitForFramesToAdvance(page, 24);
      const state = await pageState<PageState>(page);
      expect(state.paintMode).toBe('frame');
      expect(state.decodes).toEqual({ message: 0, frame: state.frames, catchUp: 0, other: 0 });
      expect(state.status).toBe('live');
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'joining mid-GOP, paints the keyframe after exactly one decode, then catches up to the newest picture',
    async () => {
      // The server replays the current GOP (24 pictures, one second) from its keyframe. A join right at a
      // keyframe replays that picture alone and tests nothing: join again (a fresh page each time) until the
      // catch-up had replayed pictures to decode; nearly every join does.
      let join: NonNullable<PageState['join']> | undefined;
      for (let attempt = 0; attempt < 10; attempt++) {
        await page.goto(server!.url);
        await page.waitForFunction(() => window.pistream?.join != null, undefined, { timeout: TIMEOUT });
        join = (await pageState<PageState>(page)).join!;
        // The first paint came after one decode: the keyframe alone, not the whole replayed GOP.
        expect(join.decodedAtFirstPaint).toBe(1);
        await page.waitForFunction(() => window.pistream!.join!.catchUpDecodes !== null, undefined, { timeout: TIMEOUT });
        join = (await pageState<PageState>(page)).join!;
        if (join.catchUpDecodes! >= 2) break;
      }
      expect(join!.catchUpDecodes).toBeGreaterThanOrEqual(2);
      // The catch-up decoded the rest of the burst and painted its newest picture, newer than the keyframe.
      expect(join!.firstFrame).not.toBeNull();
      expect(join!.frameAfterCatchUp).toBeGreaterThan(join!.firstFrame!);
      expect(join!.frameAfterCatchUp! - join!.firstFrame!).toBeGreaterThanOrEqual(join!.catchUpDecodes! - 1);

      // From there on the live stream: each picture decoded in its message's handler, and the newest painted.
      const atCatchUp = await pageState<PageState>(page);
      await page.waitForFunction((decoded) => window.pistream!.decodes.message > decoded, atCatchUp.decodes.message, {
        timeout: TIMEOUT,
      });
      await paintsNewest(page);
      const live = await pageState<PageState>(page);
      expect(live.decodes.frame).toBe(0);
      expect(live.decodes.other).toBe(0);
      expect(live.paintedFrame).toBeGreaterThan(join!.frameAfterCatchUp!);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'reconnects by itself when the server restarts on the same port',
    async () => {
      const { port } = server!;
      const before = await pageState<PageState>(page);
      expect(before.status).toBe('live');
      // Numbers in the HUD, then a record of the status line and the HUD as shown together, at every change.
      await page.waitForFunction(() => /fps/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
        timeout: TIMEOUT,
      });
      await page.evaluate(() => {
        const snapshots: BarSnapshot[] = [];
        window.pistreamBar = snapshots;
        const take = (): void => {
          snapshots.push({
            status: document.getElementById('status')!.textContent ?? '',
            stats: document.getElementById('stats')!.textContent ?? '',
          });
        };
        take();
        new MutationObserver(take).observe(document.getElementById('bar'), {
          subtree: true,
          childList: true,
          characterData: true,
          attributes: true,
        });
      });

      await server!.stop();
      server = undefined;
      await page.waitForFunction(() => window.pistream!.status === 'reconnecting', undefined, { timeout: TIMEOUT });
      // Not even for a moment: no fps or kb/s beside "reconnecting…" (the HUD is only for a live stream).
      const bar = (await page.evaluate(() => window.pistreamBar!)) ?? [];
      expect(bar[0]).toMatchObject({ status: 'live', stats: expect.stringMatching(/fps/) });
      const notLive = bar.filter((snapshot) => snapshot.status !== 'live');
      expect(notLive.length).toBeGreaterThan(0);
      expect(notLive.filter((snapshot) => snapshot.stats !== '')).toEqual([]);

      server = await start(port);
      await page.waitForFunction(
        (connections) => window.pistream!.connections > connections && window.pistream!.status === 'live',
        before.connections,
        { timeout: TIMEOUT },
      );
      await waitForFramesToAdvance(page, 24);
      expect((await pageState<PageState>(page)).status).toBe('live');
      // Live again: the HUD's numbers come back.
      await page.waitForFunction(() => /fps/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
        timeout: TIMEOUT,
      });
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );
});
