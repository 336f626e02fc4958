import pino from 'pino';
import type { Page, Route } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import { type ServerPage, closeServerPage, openServerPage, pageState, waitForFramesToAdvance, waitOnPage } from '../helpers/page-tools';

// Page functions run in the browser; this file is compiled without the DOM library.
declare const document: { getElementById(id: string): { textContent: string | null; getAttribute(name: string): string | null } | null };
declare const sessionStorage: { getItem(key: string): string | null };

const TIMEOUT = 60_000;
/** public/load-guard.js' count of reloads in a row, and how many it makes before it gives up. */
const RELOADS_KEY = 'pistream.reloads';
const MAX_RELOADS = 3;

/** The real server streaming the test pattern (MPEG-1, the cheapest page to play; the barcode is read at 640x480), logging nothing. */
function start(): Promise<RunningServer> {
  const args = ['--source', 'test', '--host', '127.0.0.1', '--port', '0', '--width', '640', '--height', '480'];
  return startServer(parseConfig(args, {}), { logger: pino({ level: 'silent' }) });
}

/** Counts the page's loads of the top document from now on. */
function countLoads(page: Page): { readonly count: () => number } {
  let loads = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) loads++;
  });
  return { count: () => loads };
}

describeBrowser('the page when one of its scripts fails to arrive (a network change while it loads)', () => {
  let opened: ServerPage | undefined;
  let page: Page;

  beforeAll(async () => {
    opened = await openServerPage(start, { width: 640, height: 480 });
    page = opened.page;
  }, TIMEOUT);

  afterAll(() => closeServerPage(opened), TIMEOUT);

  afterEach(async () => {
    await page.unrouteAll();
  });

  it(
    'loads itself again and plays, and forgets the reload once the page loaded whole',
    async () => {
      let requests = 0;
      // The first request of viewer.js fails as a network change would fail it; the next one arrives.
      await page.route('**/viewer.js', (route: Route) => (requests++ === 0 ? route.abort('connectionreset') : route.continue()));
      const loads = countLoads(page);
      await page.goto(opened!.server.url);
      await waitForFramesToAdvance(page, 12);
      expect(requests).toBe(2);
      expect(loads.count()).toBe(2);
      expect((await pageState<{ status: string }>(page)).status).toBe('live');
      expect(await page.evaluate((key) => sessionStorage.getItem(key), RELOADS_KEY)).toBeNull();
    },
    TIMEOUT,
  );

  it(
    `gives up after ${MAX_RELOADS} reloads in a row, saying which script failed and what to do`,
    async () => {
      await page.route('**/viewer.js', (route: Route) => route.abort('connectionreset'));
      const loads = countLoads(page);
      await page.goto(opened!.server.url);
      // Waits of 1, 2 and 4 s between the loads.
      await waitOnPage(
        page,
        'the status line giving up',
        () => document.getElementById('status')?.getAttribute('data-state') === 'unsupported',
        undefined,
      );
      expect(await page.evaluate(() => document.getElementById('status')!.textContent)).toBe(
        "The page didn't load (viewer.js failed to arrive): check the connection, then reload",
      );
      expect(loads.count()).toBe(1 + MAX_RELOADS);
      // Given up, the count starts again: a reload by hand gets its reloads again.
      expect(await page.evaluate((key) => sessionStorage.getItem(key), RELOADS_KEY)).toBeNull();
    },
    TIMEOUT,
  );
});
