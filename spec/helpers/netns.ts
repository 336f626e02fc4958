import type { Page } from 'playwright-core';
import { netnsUnavailable, type Link, type RelayHandle } from '../../bench/net/netns';
import { describeNeeding } from './describe-needing';

let why: string | undefined | null = null;
/** Why links cannot be made here (asked once per test file), or undefined. */
const unavailable = (): string | undefined => (why === null ? (why = netnsUnavailable()) : why);

/**
 * `describe` for suites that put a viewer behind a link (bench/net/netns.ts: network namespaces, veth, tc): runs them
 * where this process may make namespaces (root on Linux), skips them with the reason elsewhere, and fails under
 * `PISTREAM_REQUIRE_NETNS=1` (CI, which runs as root).
 */
export function describeNetns(name: string, fn: () => void): void {
  describeNeeding(
    {
      available: () => unavailable() === undefined,
      requireEnv: 'PISTREAM_REQUIRE_NETNS',
      needs: 'needs network namespaces',
      missing: () => `${unavailable()}: run as root on Linux with iproute2 (ip, tc)`,
      skipNote: unavailable() ?? '',
    },
    name,
    fn,
  );
}

const events = new WeakMap<Page, string[]>();

/**
 * Starts recording what the page's network did that a failure should tell (failed requests, WebSockets opened,
 * closed or failing, uncaught errors), with the time since this call; describePageBehindLink prints it.
 */
export function watchPageBehindLink(page: Page): void {
  const lines: string[] = [];
  const started = performance.now();
  const note = (line: string): void => void lines.push(`  +${Math.round(performance.now() - started)} ms ${line}`);
  events.set(page, lines);
  page.on('requestfailed', (r) => note(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('pageerror', (err) => note(`page error: ${err.message}`));
  page.on('websocket', (ws) => {
    note(`websocket ${ws.url()} opened`);
    ws.on('socketerror', (err) => note(`websocket ${ws.url()} error: ${err}`));
    ws.on('close', () => note(`websocket ${ws.url()} closed`));
  });
}

/**
 * What a page behind a link shows and what the link did, for a failure: the page's URL, readyState, status and the
 * resources it loaded (start + duration), the relay's TCP connections, the link's qdiscs and sockets.
 */
export async function describePageBehindLink(page: Page, link: Link, relay: RelayHandle): Promise<string> {
  const shows = await page
    .evaluate(() => {
      const g = globalThis as unknown as {
        document: { readyState: string };
        pistream?: { status?: string };
        performance: { getEntriesByType(t: string): { name: string; startTime: number; duration: number }[] };
      };
      const loaded = g.performance
        .getEntriesByType('resource')
        .map((e) => `  ${e.name} ${Math.round(e.startTime)}+${Math.round(e.duration)} ms`);
      return `${g.document.readyState}, status ${String(g.pistream?.status)}; resources:\n${loaded.join('\n')}`;
    })
    .catch((err: Error) => err.message);
  const log = await relay.connectionLog().catch((err: Error) => [err.message]);
  const seen = events.get(page)?.join('\n') ?? '  (not watched)';
  return `the page: ${page.url()}, ${shows}\npage events:\n${seen}\nrelay connections:\n${log.join('\n')}\n${link.describe()}`;
}

/** Runs `step`; when it throws, the error says what the page and its link show (describePageBehindLink). */
export async function explainedBehindLink<T>(step: () => Promise<T>, page: Page, link: Link, relay: RelayHandle): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await describePageBehindLink(page, link, relay)}`, { cause: err });
  }
}
