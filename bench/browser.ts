import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
  /** Chromium arguments added to {@link CHROMIUM_ARGS}, e.g. `--host-resolver-rules=MAP pistream.test 127.0.0.1`. */
  readonly extraArgs?: readonly string[];
  /**
   * Ignore the pages' Content-Security-Policy (Playwright's `bypassCSP`). Diagnostics only: a bench run with it
   * measures a page as it would be with a policy that allowed it everything.
   */
  readonly bypassCSP?: boolean;
  /** Start this instead of {@link CHROMIUM_PATH} (bench/net: a wrapper that runs Chromium inside a network namespace). */
  readonly executablePath?: string;
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
      executablePath: options.executablePath ?? CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
      viewport: options.viewport ?? { width: 1280, height: 720 },
      ...(options.bypassCSP ? { bypassCSP: true } : {}),
    });
    context.on('close', removeProfile);
    profiles.set(context, userDataDir);
    return context;
  } catch (err) {
    removeProfile();
    throw err;
  }
}

/** Each launched context's profile directory, which names its browser process on the command line. */
const profiles = new WeakMap<BrowserContext, string>();

/**
 * CPU seconds (user + system) used so far by the whole browser of a context from {@link launchBrowser}: its main
 * process and every descendant (zygotes, renderers, the GPU process, network and other utilities), read from
 * /proc. A page's main-thread metrics miss the GPU process, which with `--disable-gpu` composites and rasterises
 * in software and can cost more than the page. NaN where there is no /proc (not Linux) or the browser is gone.
 */
export function browserCpuSeconds(context: BrowserContext): number {
  const profile = profiles.get(context);
  if (!profile || !existsSync('/proc/self/stat')) return NaN;
  const stats = new Map<number, { ppid: number; seconds: number }>();
  const roots: number[] = [];
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux platform Chromium runs on
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      // Fields after the command name, which may itself contain spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(pid, { ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond });
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(`--user-data-dir=${profile}`) && !cmdline.includes('--type=')) roots.push(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  if (roots.length === 0) return NaN;
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let seconds = 0;
  const todo = [...roots];
  const seen = new Set<number>();
  while (todo.length) {
    const pid = todo.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    seconds += stats.get(pid)?.seconds ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return seconds;
}

/** Whether the browser the specs need is installed. */
export function hasBrowser(): boolean {
  return existsSync(CHROMIUM_PATH);
}
