import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * The browser the e2e specs and the benchmark drive: Debian's Chromium (never a Playwright download), overridable
 * with `PISTREAM_CHROMIUM`.
 */
export const CHROMIUM_PATH = process.env.PISTREAM_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a quiet, deterministic headless Chromium in a container: no sandbox (we often run as root), software
 * rendering, no background traffic, and no Local Network Access prompt for ws:// to 127.0.0.1.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=LocalNetworkAccessChecks',
];

export interface LaunchBrowserOptions {
  /** Default 1280x720. */
  readonly viewport?: { readonly width: number; readonly height: number };
}

/**
 * Launches headless Chromium with a fresh profile in a temporary directory, removed again when the context closes.
 * The context opens with one blank page (`context.pages()[0]`); close the context to end the browser process.
 *
 * @example
 * const browser = await launchBrowser();
 * try {
 *   const page = browser.pages()[0]!;
 *   await page.goto(url);
 * } finally {
 *   await browser.close();
 * }
 */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<BrowserContext> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'pistream-chromium-'));
  // Chromium may still be writing its profile as the context reports closed: retry, and never throw from here.
  const removeProfile = (): void => {
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    } catch {
      // A leftover directory in the temp dir is not worth failing a test run for.
    }
  };
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: options.viewport ?? { width: 1280, height: 720 },
    });
    context.on('close', removeProfile);
    return context;
  } catch (err) {
    removeProfile();
    throw err;
  }
}

/** Whether the browser the specs need is installed. */
export function hasBrowser(): boolean {
  return existsSync(CHROMIUM_PATH);
}
