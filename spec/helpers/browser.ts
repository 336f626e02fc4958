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
  return { browser, page, pageErrors };
}
