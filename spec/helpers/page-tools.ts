import type { BrowserContext, Page } from 'playwright-core';
import { liveChildCount } from '../../src/process/child-process';
import type { RunningServer } from '../../src/server/start-server';
import { openPage, requestLog } from './browser';

/** How long the browser specs wait for a page condition before failing. */
export const PAGE_TIMEOUT = 60_000;
/**
 * {@link waitOnPage}'s default: below a test's PAGE_TIMEOUT, so that a step that stalls fails naming itself, with the
 * page's state and requests, before jest's timeout ends the test saying only that it was slow.
 */
export const STEP_TIMEOUT = 40_000;

// Page functions run in the browser; these helpers are compiled without the DOM library.
declare const window: { readonly pistream?: { readonly lastBarcode: { readonly frame: number } | null } };
declare const performance: { now(): number; getEntriesByType(type: string): { name: string; startTime: number; duration: number }[] };
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

/**
 * `page.waitForFunction`, saying what it waited for: past `timeout` it fails naming `what` with the page's address,
 * its `window.pistream` as it then was, its newest resource timings and the browser's newest requests and console
 * lines ({@link requestLog}), so a run that stalls says at which step and in what state. Give the test
 * a timeout above its waits (see STEP_TIMEOUT), or jest's own timeout fires first and says only that the test was slow.
 */
export async function waitOnPage<Arg>(
  page: Page,
  what: string,
  predicate: (arg: Arg) => unknown,
  arg: Arg,
  timeout = STEP_TIMEOUT,
): Promise<void> {
  try {
    await page.waitForFunction(predicate as (arg: unknown) => unknown, arg, { timeout });
  } catch (err) {
    const state = await page
      .evaluate(() => {
        const loads = performance
          .getEntriesByType('resource')
          .slice(-12)
          .map((e) => `${e.name.replace(/^\w+:\/\/[^/]+/, '')} ${Math.round(e.startTime)}+${Math.round(e.duration)}`);
        return JSON.stringify({ pistream: window.pistream ?? null, at: Math.round(performance.now()), loads });
      })
      .catch((readErr: unknown) => `unreadable (${(readErr as Error).message})`);
    const reason = ((err as Error).message ?? String(err)).split('\n')[0];
    const requests = requestLog(page.context()).join('\n  ');
    throw new Error(
      `${what}: not within ${timeout} ms at ${page.url()} (${reason}); page: ${state}\nrequests and console:\n  ${requests}`,
      {
        cause: err,
      },
    );
  }
}

/** Waits until the barcode's frame number is at least `advance` past the first one the page read. */
export async function waitForFramesToAdvance(page: Page, advance: number, timeout = STEP_TIMEOUT): Promise<void> {
  await waitOnPage(page, 'a barcode read', () => window.pistream?.lastBarcode != null, undefined, timeout);
  const from = (await pageState<{ lastBarcode: { frame: number } }>(page)).lastBarcode.frame;
  await waitOnPage(
    page,
    `the barcode ${advance} frames past ${from}`,
    (target) => (window.pistream?.lastBarcode?.frame ?? -1) >= target,
    from + advance,
    timeout,
  );
}

/** A browser suite's fixtures: the real server, a fresh Chromium with its one page, the page's uncaught errors. */
export interface ServerPage {
  readonly server: RunningServer;
  readonly browser: BrowserContext;
  readonly page: Page;
  readonly pageErrors: string[];
  /** Live child processes before the server started: what `closeServerPage` waits to get back to. */
  readonly childrenAtStart: number;
}

/** Starts the server (`start`) and a browser at `viewport` (with `extraArgs` for Chromium): a suite's `beforeAll`. */
export async function openServerPage(
  start: () => Promise<RunningServer>,
  viewport: { width: number; height: number },
  extraArgs: readonly string[] = [],
): Promise<ServerPage> {
  const childrenAtStart = liveChildCount();
  const server = await start();
  const { browser, page, pageErrors } = await openPage(viewport, extraArgs);
  return { server, browser, page, pageErrors, childrenAtStart };
}

/** Closes the browser and stops the server, then waits until its children are gone: a suite's `afterAll`. */
export async function closeServerPage(opened: ServerPage | undefined): Promise<void> {
  if (!opened) return;
  await opened.browser.close();
  await opened.server.stop();
  await childrenGone(opened.childrenAtStart);
}

/**
 * Checks glass-to-glass readings as what the mechanism guarantees: each is a capture time read back from a picture,
 * so it lies after `since` (taken before the server started) and before now. A misread barcode (a garbage time)
 * fails; a busy machine's slow decode does not (how fast is the benchmark's to say, never a test's).
 */
export function expectCaptureTimes(latencies: readonly number[], since: number): void {
  const upTo = Date.now() - since;
  for (const latencyMs of latencies) {
    expect(latencyMs).toBeGreaterThan(0);
    expect(latencyMs).toBeLessThan(upTo);
  }
}

/** A name that is neither localhost nor an IP: Chromium treats http:// pages there as no secure context. */
export const INSECURE_HOST = 'pistream.test';
/** The Chromium flag that resolves {@link INSECURE_HOST} to this machine (pass it to `openServerPage`). */
export const RESOLVE_INSECURE_HOST = `--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`;

/** The server's page at {@link INSECURE_HOST}, with an optional query (`?player=webrtc`). */
export function insecureUrl(server: RunningServer, query = ''): string {
  return `http://${INSECURE_HOST}:${new URL(server.url).port}/${query}`;
}
