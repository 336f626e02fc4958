import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser, openPage } from '../helpers/browser';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';

// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly readFrameNumber?: () => number | null; readonly jsmpeg?: unknown };
declare const document: { getElementById(id: string): { readonly width: number; readonly height: number } | null };

const TIMEOUT = 60_000;

/** The original client, exactly as the npm package jsmpeg 1.0.0 ships it. */
const JSMPG_JS = require.resolve('jsmpeg/jsmpg.js');
const LEGACY_HTML = join(__dirname, 'fixtures', 'legacy.html');

/**
 * jsmpg.js ends with `var exports = module.exports = jsmpeg` (for Node), which throws in a browser after
 * `window.jsmpeg` is defined: the one page error the original page always had.
 */
const KNOWN_ERROR = /\bmodule is not defined\b/;

/**
 * A static page server on 127.0.0.1 (any free port), standing in for the original's HTTP server on 8082: serves
 * legacy.html at `/` and the unchanged jsmpg.js. A real origin, not page.route: Chromium refuses loopback
 * WebSockets from intercepted pages.
 */
async function startPageServer(): Promise<{ server: Server; url: string }> {
  const files: Record<string, { type: string; body: Buffer }> = {
    '/': { type: 'text/html; charset=utf-8', body: readFileSync(LEGACY_HTML) },
    '/jsmpg.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(JSMPG_JS) },
  };
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Waits until the barcode on the canvas reads, then until it is at least `advance` frames past that reading. */
async function waitForFramesToAdvance(page: Page, advance: number): Promise<{ from: number; to: number }> {
  const first = await page.waitForFunction(() => window.readFrameNumber!(), undefined, { timeout: TIMEOUT });
  const from = (await first.jsonValue()) as number;
  const last = await page.waitForFunction(
    (target) => {
      const frame = window.readFrameNumber!();
      return frame !== null && frame >= target ? frame : null;
    },
    from + advance,
    { timeout: TIMEOUT },
  );
  return { from, to: (await last.jsonValue()) as number };
}

describeBrowser('original client (jsmpg.js of jsmpeg 1.0.0) on the legacy listener, in Chromium', () => {
  let server: RunningServer | undefined;
  let pages: { server: Server; url: string } | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;
  let size: { width: number; height: number };
  let pageErrors: string[] = [];

  beforeAll(async () => {
    // The original's setup: the page from one port, the socket on another port of the same host (8082/8084).
    const config = parseConfig(
      ['--source', 'test', '--host', '127.0.0.1', '--port', '0', '--legacy-port', '0', '--log-level', 'silent'],
      {},
    );
    size = { width: config.plugin.encoder!.width, height: config.plugin.encoder!.height };
    server = await startServer(config, { logger: pino({ level: 'silent' }) });
    pages = await startPageServer();
    ({ browser, page, pageErrors } = await openPage({ width: 800, height: 600 }));
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise<void>((resolve) => (pages ? pages.server.close(() => resolve()) : resolve()));
    // The encoder's TERM→KILL teardown outlives stop().
    await waitFor(() => ffmpegChildren().length === 0, 'ffmpeg to exit');
  }, TIMEOUT);

  it(
    'plays the stream unchanged: the barcode on its canvas advances by 24 frames',
    async () => {
      expect(server!.legacyPort).toEqual(expect.any(Number));
      const ws = `ws://127.0.0.1:${server!.legacyPort}/`;
      await page.goto(`${pages!.url}?ws=${encodeURIComponent(ws)}`);
      expect(await page.evaluate(() => typeof window.jsmpeg)).toBe('function');

      const { from, to } = await waitForFramesToAdvance(page, 24);
      expect(to).toBeGreaterThanOrEqual(from + 24);
      // The page leaves the canvas unsized: the `jsmp` header sized it to the stream.
      const canvas = await page.evaluate(() => {
        const element = document.getElementById('videoCanvas')!;
        return { width: element.width, height: element.height };
      });
      expect(canvas).toEqual(size);
      expect(pageErrors.filter((message) => !KNOWN_ERROR.test(message))).toEqual([]);
    },
    TIMEOUT,
  );
});
