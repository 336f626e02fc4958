import { chmodSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { liveChildCount } from '../../src/process/child-process';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser, openPage } from '../helpers/browser';

/** The parts of public/viewer.js's `window.pistream` this spec reads. */
interface PageState {
  readonly status: string;
  readonly source: string | null;
  readonly reason: string | null;
  readonly healthChecks: number;
  readonly lastBarcode: { readonly frame: number } | null;
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly pistream?: PageState };
declare const document: {
  getElementById(id: string): { readonly textContent: string | null; readonly hidden: boolean } | null;
};

const TIMEOUT = 60_000;
const TOKEN = 'page-offline-token';
/** What the stand-in writes to stderr before it fails. */
const STDERR_LINE = 'stand-in: cannot open the camera';

/** What the page shows under and beside the status, as a person sees it. */
interface Shown {
  readonly status: string;
  readonly reason: string;
  readonly reasonHidden: boolean;
  readonly stats: string;
}

function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => ({
    status: document.getElementById('status')!.textContent ?? '',
    reason: document.getElementById('reason')!.textContent ?? '',
    reasonHidden: document.getElementById('reason')!.hidden,
    stats: document.getElementById('stats')!.textContent ?? '',
  }));
}

function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => window.pistream!);
}

/** Waits for the page to be connected without pictures long enough to say so (its state keeps one name). */
async function offline(page: Page): Promise<void> {
  await page.waitForFunction(() => window.pistream?.status === 'camera offline', undefined, { timeout: TIMEOUT });
}

/** Waits until the page shows a reason under the status. */
async function reasonShown(page: Page): Promise<void> {
  await page.waitForFunction(() => window.pistream?.reason != null, undefined, { timeout: TIMEOUT });
}

/**
 * The server's answer to "why no picture", in the page: an encoder (and, for V4L2, a camera reader) that fails
 * every run with one stderr line, through a stand-in ffmpeg that answers the capability probe with the real one.
 * While a `fail` file sits next to it, it fails; without, it runs the real ffmpeg.
 */
describeBrowser("the page while offline: the server's reason from /healthz (Chromium)", () => {
  let dir: string;
  let script: string;
  let failFile: string;
  let childrenAtStart = 0;
  let browser: BrowserContext | undefined;
  let page: Page;
  let pageErrors: string[] = [];
  const servers: RunningServer[] = [];

  /** The real server on any free port, with a short restart backoff, logging nothing. */
  async function start(argv: string[]): Promise<RunningServer> {
    const config = parseConfig(['--host', '127.0.0.1', '--port', '0', '--grace', '0', '--ffmpeg', script, ...argv], {});
    const running = await startServer(config, {
      logger: pino({ level: 'silent' }),
      plugin: { restart: { initialDelayMs: 100, maxDelayMs: 400 } },
    });
    servers.push(running);
    return running;
  }

  async function stop(running: RunningServer): Promise<void> {
    servers.splice(servers.indexOf(running), 1);
    await running.stop();
  }

  beforeAll(async () => {
    childrenAtStart = liveChildCount();
    dir = mkdtempSync(join(tmpdir(), 'pistream-offline-'));
    script = join(dir, 'ffmpeg');
    failFile = join(dir, 'fail');
    writeFileSync(failFile, '');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `real='${resolveFfmpeg().path}'`,
        'case "$*" in *-version*|*"-h long"*) exec "$real" "$@" ;; esac',
        `if [ -e '${failFile}' ]; then echo '${STDERR_LINE}' >&2; exit 1; fi`,
        'exec "$real" "$@"',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    ({ browser, page, pageErrors } = await openPage({ width: 800, height: 600 }));
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    for (const running of [...servers]) await stop(running);
    // The encoder children finish their TERM→KILL teardown after stop(): wait for it (bounded).
    for (let waited = 0; liveChildCount() > childrenAtStart && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(liveChildCount()).toBe(childrenAtStart);
    rmSync(dir, { recursive: true, force: true });
  }, TIMEOUT);

  it(
    'a camera (V4L2) that fails: "camera offline", with the stand-in\'s stderr line under it, and no HUD numbers',
    async () => {
      // /dev/null passes the device check (a character device we may open); the stand-in fails to read it.
      const running = await start(['--source', 'v4l2:/dev/null']);
      try {
        await page.goto(running.url);
        await offline(page);
        await reasonShown(page);
        // The first answer named the source: a camera, so the page may say so.
        await page.waitForFunction(() => document.getElementById('status')!.textContent === 'camera offline', undefined, {
          timeout: TIMEOUT,
        });
        const now = await shown(page);
        expect(now.reasonHidden).toBe(false);
        expect(now.reason).toContain(STDERR_LINE);
        expect(now.reason).toMatch(/^pipeline failing: /);
        expect(now.stats).toBe('');
        const state = await pageState(page);
        expect(state.source).toBe('v4l2');
        expect(state.reason).toBe(now.reason);
        expect(pageErrors).toEqual([]);
      } finally {
        await stop(running);
      }
    },
    TIMEOUT,
  );

  it(
    'the test pattern through a failing encoder: "stream offline" (no camera claimed), the reason (token passed on), ' +
      'nothing extra while /healthz is unreachable; once pictures come, the reason goes and /healthz is asked no more',
    async () => {
      const running = await start(['--source', 'test', '--token', TOKEN]);
      const healthRequests: string[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/healthz') healthRequests.push(request.url());
      });

      // First with /healthz answering 404, as under a host app without it: the status alone, nothing under it.
      await page.route('**/healthz*', (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'Not Found' }));
      await page.goto(`${running.url}?token=${TOKEN}`);
      await offline(page);
      await page.waitForFunction(() => window.pistream!.healthChecks >= 2, undefined, { timeout: TIMEOUT });
      let now = await shown(page);
      // The kind is unknown: neutral wording.
      expect(now.status).toBe('stream offline');
      expect(now.reasonHidden).toBe(true);
      expect(now.reason).toBe('');
      expect((await pageState(page)).reason).toBeNull();

      // Now the real /healthz, which needs the token: the page passes on its own.
      await page.unroute('**/healthz*');
      await reasonShown(page);
      now = await shown(page);
      expect(now.status).toBe('stream offline');
      expect(now.reasonHidden).toBe(false);
      expect(now.reason).toContain(STDERR_LINE);
      // One line, short, no stack.
      expect(now.reason).not.toMatch(/[\r\n]/);
      expect(now.reason.length).toBeLessThanOrEqual(200);
      expect(now.reason).not.toMatch(/\bat \S+ \(/);
      expect(now.stats).toBe('');
      expect((await pageState(page)).source).toBe('test');
      expect(healthRequests.length).toBeGreaterThan(0);
      for (const url of healthRequests) expect(url).toBe(`${running.url}healthz?token=${TOKEN}`);

      // The encoder recovers: the next restart runs the real ffmpeg, pictures come, the reason goes.
      unlinkSync(failFile);
      await page.waitForFunction(() => window.pistream!.status === 'live', undefined, { timeout: TIMEOUT });
      now = await shown(page);
      expect(now.status).toBe('live');
      expect(now.reasonHidden).toBe(true);
      expect(now.reason).toBe('');
      expect((await pageState(page)).reason).toBeNull();

      // Never asked while pictures flow: over three seconds of pictures (72 frames, more than a poll interval),
      // no request to /healthz.
      const asked = healthRequests.length;
      const checks = (await pageState(page)).healthChecks;
      await page.waitForFunction(() => window.pistream?.lastBarcode != null, undefined, { timeout: TIMEOUT });
      const from = (await pageState(page)).lastBarcode!.frame;
      await page.waitForFunction((target) => window.pistream!.lastBarcode!.frame >= target, from + 72, { timeout: TIMEOUT });
      expect((await pageState(page)).status).toBe('live');
      expect((await pageState(page)).healthChecks).toBe(checks);
      expect(healthRequests.length).toBe(asked);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );
});
