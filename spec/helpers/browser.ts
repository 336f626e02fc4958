import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH, hasBrowser, launchBrowser } from '../../bench/browser';
import { describeNeeding } from './describe-needing';

/**
 * `describe` for suites that need Chromium: runs them when it is installed and skips them otherwise, unless
 * `PISTREAM_REQUIRE_BROWSER=1` (CI), where a missing browser fails with a message saying what to install.
 *
 * @example
 * describeBrowser('viewer page', () => {
 *   it('plays', async () => { … });
 * });
 */
export function describeBrowser(name: string, fn: () => void): void {
  describeNeeding(
    {
      available: hasBrowser,
      requireEnv: 'PISTREAM_REQUIRE_BROWSER',
      needs: 'needs Chromium',
      missing: () => `there is no Chromium at ${CHROMIUM_PATH}: install it (apt install chromium) or point PISTREAM_CHROMIUM at one`,
      skipNote: `no Chromium at ${CHROMIUM_PATH}`,
    },
    name,
    fn,
  );
}

/**
 * A fresh browser with its one page, and the page's uncaught errors collected as they happen. `extraArgs`: more
 * Chromium arguments (e.g. `--host-resolver-rules=MAP pistream.test 127.0.0.1`).
 */
export async function openPage(
  viewport: { width: number; height: number },
  extraArgs: readonly string[] = [],
): Promise<{ browser: BrowserContext; page: Page; pageErrors: string[] }> {
  const browser = await launchBrowser({ viewport, extraArgs });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  watchRequests(browser);
  return { browser, page, pageErrors };
}

/** The newest requests of a browser's pages, as lines (see {@link requestLog}): kept for a failing wait to print. */
const requestLogs = new WeakMap<BrowserContext, string[]>();
const REQUEST_LOG_LINES = 40;

/** Notes every request of the browser's pages as it starts, ends or fails, with the milliseconds since launch. */
function watchRequests(browser: BrowserContext): void {
  const lines: string[] = [];
  requestLogs.set(browser, lines);
  const startedAt = Date.now();
  const note = (what: string, url: string): void => {
    lines.push(`${Date.now() - startedAt} ${what} ${url.replace(/^\w+:\/\/[^/]+/, '')}`);
    if (lines.length > REQUEST_LOG_LINES) lines.shift();
  };
  browser.on('request', (r) => note('>', r.url()));
  browser.on('requestfinished', (r) => note('<', r.url()));
  browser.on('requestfailed', (r) => note(`x ${r.failure()?.errorText ?? ''}`, r.url()));
  browser.on('console', (m) => note(`console.${m.type()}`, m.text()));
}

/** The newest requests (`>` sent, `<` done, `x` failed) and console lines of the browser's pages, oldest first. */
export function requestLog(browser: BrowserContext): readonly string[] {
  return requestLogs.get(browser) ?? [];
}
