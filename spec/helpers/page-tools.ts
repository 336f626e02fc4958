import type { Page } from 'playwright-core';
import { liveChildCount } from '../../src/process/child-process';

/** How long the browser specs wait for a page condition before failing. */
export const PAGE_TIMEOUT = 60_000;

// Page functions run in the browser; these helpers are compiled without the DOM library.
declare const window: { readonly pistream?: { readonly lastBarcode: { readonly frame: number } | null } };
declare const document: { getElementById(id: string): { readonly textContent: string | null } | null };

/** Waits (bounded) for the encoder children to finish their TERM→KILL teardown, which outlives `stop()`. */
export async function childrenGone(expected: number): Promise<void> {
  for (let waited = 0; liveChildCount() > expected && waited < 5000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(liveChildCount()).toBe(expected);
}

/** What public/viewer-core.js exposes on `window.pistream`, typed as the calling spec reads it. */
export function pageState<S>(page: Page): Promise<S> {
  return page.evaluate(() => window.pistream!) as Promise<S>;
}

/** The text of the element `id` (the status line, the HUD). */
export function text(page: Page, id: string): Promise<string> {
  return page.evaluate((elementId) => document.getElementById(elementId)?.textContent ?? '', id);
}

/** Waits until the barcode's frame number is at least `advance` past the first one the page read. */
export async function waitForFramesToAdvance(page: Page, advance: number): Promise<void> {
  await page.waitForFunction(() => window.pistream?.lastBarcode != null, undefined, { timeout: PAGE_TIMEOUT });
  const from = (await pageState<{ lastBarcode: { frame: number } }>(page)).lastBarcode.frame;
  await page.waitForFunction((target) => window.pistream!.lastBarcode!.frame >= target, from + advance, { timeout: PAGE_TIMEOUT });
}
