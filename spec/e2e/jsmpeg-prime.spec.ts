import pino from 'pino';
import type { Page } from 'playwright-core';
import { firstAppearances, readFrame, recordScreen } from '../../bench/screen';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import { type ServerPage, closeServerPage, openServerPage, pageState, waitForFramesToAdvance } from '../helpers/page-tools';

/** What public/jsmpeg-player.js exposes on `window.pistream`, as far as these tests read it. */
interface PageState {
  readonly status: string;
  readonly player: string | null;
  readonly connections: number;
  readonly frames: number;
  readonly primed: boolean | null;
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly pistream?: PageState };
declare const document: {
  getElementById(id: string): { width: number; height: number } | null;
  dispatchEvent(event: unknown): boolean;
};
declare class Event {
  constructor(type: string);
}
declare const Object: { defineProperty(target: unknown, key: string, descriptor: { configurable: boolean; get(): string }): void };

const TIMEOUT = 60_000;
const SIZE = { width: 640, height: 480 };

/** The real server streaming the test pattern (MPEG-1, JSMpeg's stream) at SIZE, logging nothing. */
function start(): Promise<RunningServer> {
  const args = ['--source', 'test', '--host', '127.0.0.1', '--port', '0', '--width', String(SIZE.width), '--height', String(SIZE.height)];
  return startServer(parseConfig(args, {}), { logger: pino({ level: 'silent' }) });
}

/**
 * Checks what the compositor shows over 1.5 s (Chromium's screencast, the barcode read from each frame): pictures of
 * the stream whose frame numbers advance; and that the canvas has the stream's size and the page threw nothing.
 */
async function expectPicturesOnScreen(page: Page, pageErrors: readonly string[]): Promise<void> {
  const screen = await recordScreen(page);
  await page.waitForTimeout(1500);
  const frames = (await screen.stop()).map((f) => readFrame(f, SIZE));
  expect(firstAppearances(frames).length).toBeGreaterThan(1);
  const canvas = await page.evaluate(() => [document.getElementById('video')!.width, document.getElementById('video')!.height]);
  expect(canvas).toEqual([SIZE.width, SIZE.height]);
  expect(pageErrors).toEqual([]);
}

describeBrowser('JSMpeg player: renderer primed before the socket opens', () => {
  let opened: ServerPage | undefined;
  let page: Page;

  beforeAll(async () => {
    opened = await openServerPage(start, { width: 800, height: 600 });
    page = opened.page;
  }, TIMEOUT);

  afterAll(() => closeServerPage(opened), TIMEOUT);

  it(
    'primes each connection, the canvas sized to the stream, and the pictures reach the screen',
    async () => {
      await page.goto(`${opened!.server.url}?player=jsmpeg`);
      await waitForFramesToAdvance(page, 12);
      const state = await pageState<PageState>(page);
      expect(state.player).toBe('jsmpeg');
      expect(state.primed).toBe(true);
      await expectPicturesOnScreen(page, opened!.pageErrors);
    },
    TIMEOUT,
  );

  it(
    'primed at another size than the stream (a server restarted at a new size), the first picture re-sizes it and shows',
    async () => {
      await page.goto(`${opened!.server.url}?player=jsmpeg`);
      await waitForFramesToAdvance(page, 6);
      // The next connection primes at the canvas's size: make that not the stream's, then hide and show the tab (the
      // page closes its socket while hidden and connects again, with a fresh player, when shown).
      const before = await pageState<PageState>(page);
      await page.evaluate(() => {
        const setVisibility = (value: string): void => {
          Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => value });
          document.dispatchEvent(new Event('visibilitychange'));
        };
        setVisibility('hidden');
        const canvas = document.getElementById('video')!;
        canvas.width = 320;
        canvas.height = 240;
        setVisibility('visible');
      });
      await page.waitForFunction((n) => window.pistream!.connections > n, before.connections, { timeout: TIMEOUT });
      await waitForFramesToAdvance(page, 6);
      expect((await pageState<PageState>(page)).primed).toBe(true);
      await expectPicturesOnScreen(page, opened!.pageErrors);
    },
    TIMEOUT,
  );

  it(
    'with ?prime=off, the renderer is left cold (the previous behaviour, kept for the benchmark) and plays',
    async () => {
      await page.goto(`${opened!.server.url}?player=jsmpeg&prime=off`);
      await waitForFramesToAdvance(page, 6);
      expect((await pageState<PageState>(page)).primed).toBe(false);
      await expectPicturesOnScreen(page, opened!.pageErrors);
    },
    TIMEOUT,
  );
});
