import pino from 'pino';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import {
  type ServerPage,
  closeServerPage,
  expectCaptureTimes,
  INSECURE_HOST,
  insecureUrl,
  openServerPage,
  pageState,
  RESOLVE_INSECURE_HOST,
  text,
  waitForFramesToAdvance,
} from '../helpers/page-tools';

/** Before any server of this file starts: every picture its pages show was captured after this. */
const SPEC_STARTED_AT = Date.now();

/** What the page exposes on `window.pistream`, as far as these tests read it. */
interface PageState {
  readonly status: string;
  readonly unsupported: string | null;
  readonly player: 'webcodecs' | 'mse' | 'jsmpeg' | null;
  readonly codec: 'h264' | 'mpeg1' | null;
  readonly frames: number;
  readonly painted: number;
  readonly connections: number;
  readonly lastBarcode: { readonly frame: number; readonly time: number; readonly latencyMs: number } | null;
  readonly latencies: readonly number[];
  readonly mse?: {
    readonly primed: boolean;
    readonly api: string;
    readonly codec: string | null;
    readonly received: number;
    readonly pending: number;
    readonly appended: number;
    readonly dropped: number;
    readonly seeks: number;
    readonly trims: number;
    readonly reopens: number;
    readonly quotaErrors: number;
    readonly errors: readonly string[];
    readonly gapMs: number | null;
    readonly frameSource: 'rvfc' | 'poll' | null;
    readonly width: number;
    readonly height: number;
  };
}
/** An element's box and visibility, as far as these tests read them. */
interface ElementLike {
  readonly textContent: string | null;
  readonly hidden: boolean;
  getBoundingClientRect(): { readonly left: number; readonly top: number; readonly width: number; readonly height: number };
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: {
  readonly pistream?: PageState;
  readonly isSecureContext: boolean;
  readonly innerWidth: number;
  readonly innerHeight: number;
  pistreamPathTexts?: string[];
};
declare const document: { getElementById(id: string): ElementLike | null };
declare const performance: { now(): number };
/** A MutationObserver, as far as the page functions below use it. */
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: { subtree: boolean; childList: boolean; characterData: boolean }): void;
}

const TIMEOUT = 60_000;

/** The real server on any free port, streaming the built-in test pattern in H.264 without WebRTC, logging nothing. */
function start(): Promise<RunningServer> {
  // Without WebRTC, which the ladder takes before MSE where the server has it (webrtc-page.spec.ts plays that).
  const config = parseConfig(
    ['--source', 'test', '--codec', 'h264', '--host', '127.0.0.1', '--port', '0', '--allowed-hosts', INSECURE_HOST, '--webrtc', 'off'],
    {},
  );
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

/** The page plays through MSE: barcode advancing, pictures painted, fresh latencies, the HUD naming the path. */
async function expectPlayingThroughMse(page: Page): Promise<PageState> {
  await waitForFramesToAdvance(page, 24);
  // Enough to judge by (a liveness wait, not a rate: TIMEOUT is a deadline): the first pictures of a connection are
  // the replayed GOP (up to 24), and the latency check below reads the newest 24. `appended` counts a batch when its
  // updateend fires, which may come after the video has presented its pictures: wait for all three.
  await page.waitForFunction(
    () => window.pistream!.frames >= 48 && window.pistream!.painted >= 48 && window.pistream!.mse!.appended >= 48,
    undefined,
    {
      timeout: TIMEOUT,
    },
  );
  const state = await pageState<PageState>(page);
  expect(state.status).toBe('live');
  expect(state.player).toBe('mse');
  expect(state.codec).toBe('h264');
  const mse = state.mse!;
  expect(mse.codec).toMatch(/^avc1\.[0-9A-F]{6}$/);
  expect(mse.frameSource).toBe('rvfc');
  // Every message the page took in is appended, dropped and counted, or still queued (read in one go, so exact).
  // How many were dropped (a queue that grew on a loaded machine) is the machine's; that none went missing is the
  // player's.
  expect(mse.received).toBe(mse.appended + mse.dropped + mse.pending);
  // The first seek puts a fresh MediaSource at the live edge.
  expect(mse.seeks).toBeGreaterThanOrEqual(1);
  expect(mse.reopens).toBe(0);
  expect(mse.quotaErrors).toBe(0);
  expect(mse.errors).toEqual([]);
  expect([mse.width, mse.height]).toEqual([640, 480]);
  // The newest readings only: the first pictures of a connection are the replayed GOP, up to a second old.
  const recent = state.latencies.slice(-24);
  expect(recent.length).toBe(24);
  expectCaptureTimes(recent, SPEC_STARTED_AT);
  await page.waitForFunction(() => /glass \d+ ms/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
    timeout: TIMEOUT,
  });
  expect(await text(page, 'path')).toBe('H.264 · MSE');
  expect(await text(page, 'stats')).toMatch(/^\d+ fps · \d+ kb\/s · glass \d+ ms$/);
  // The video shows in the canvas' place.
  const shown = await page.evaluate(() => ({
    video: document.getElementById('mse-video')?.hidden,
    canvas: document.getElementById('video')?.hidden,
  }));
  expect(shown).toEqual({ video: false, canvas: true });
  return state;
}

describeBrowser('viewer page with an H.264 server through MSE in Chromium', () => {
  let opened: ServerPage | undefined;
  let server: RunningServer | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    opened = await openServerPage(() => start(), { width: 1280, height: 720 }, [RESOLVE_INSECURE_HOST]);
    ({ server, page, pageErrors } = opened);
  }, TIMEOUT);

  afterAll(() => closeServerPage(opened), TIMEOUT);

  afterEach(() => {
    pageErrors.length = 0;
  });

  it(
    'at http://pistream.test (no secure context: no WebCodecs) plays through MSE: barcode advancing, pictures painted, latencies, HUD',
    async () => {
      await page.goto(insecureUrl(server!));
      expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
      const state = await expectPlayingThroughMse(page);
      expect(state.mse!.api).toBe('MediaSource');
      expect(state.mse!.primed).toBe(true);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    '?player=mse plays through MSE on http://127.0.0.1 too (a secure context, where the ladder takes WebCodecs)',
    async () => {
      await page.goto(server!.url);
      await page.waitForFunction(() => window.pistream?.status === 'live', undefined, { timeout: TIMEOUT });
      expect((await pageState<PageState>(page)).player).toBe('webcodecs');

      await page.goto(`${server!.url}?player=mse`);
      expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
      await expectPlayingThroughMse(page);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'attaches its MediaSource while the socket opens (before any message), and with ?prime=off at the first key unit, playing either way',
    async () => {
      // A page whose WebSockets never open, noting the <video>'s source as each is made: the player has opened its
      // connection (synchronously, just before the core makes the socket), so that is what the join starts from.
      const probe = await page.context().newPage();
      try {
        await probe.addInitScript(() => {
          const w = window as unknown as Record<string, unknown>;
          const seen: string[] = [];
          w.srcAtSocket = seen;
          w.WebSocket = class {
            readonly readyState = 0;
            binaryType = 'blob';
            constructor() {
              const video = document.getElementById('mse-video') as unknown as { src?: string } | null;
              seen.push(video?.src ?? '');
            }
            send(): void {}
            close(): void {}
          };
        });
        const srcAtSocket = async (query: string): Promise<string> => {
          await probe.goto(`${insecureUrl(server!)}${query}`);
          await probe.waitForFunction(() => ((window as unknown as { srcAtSocket: string[] }).srcAtSocket ?? []).length > 0, undefined, {
            timeout: TIMEOUT,
          });
          return probe.evaluate(() => (window as unknown as { srcAtSocket: string[] }).srcAtSocket[0]!);
        };
        expect(await srcAtSocket('?player=mse')).toMatch(/^blob:/);
        expect(await srcAtSocket('?player=mse&prime=off')).toBe('');
      } finally {
        await probe.close();
      }
      // Unprimed, the page plays as before (the MediaSource made at the first key unit).
      await page.goto(`${insecureUrl(server!)}?prime=off`);
      const state = await expectPlayingThroughMse(page);
      expect(state.mse!.primed).toBe(false);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'stays at the live edge: seeks when behind, trims the buffer, never holds a growing buffer',
    async () => {
      await page.goto(insecureUrl(server!));
      await waitForFramesToAdvance(page, 12);
      // The trim runs every few seconds, once a whole GOP lies far enough behind the playhead.
      await page.waitForFunction(() => window.pistream!.mse!.trims >= 1, undefined, { timeout: TIMEOUT });
      // Back at the live edge (under a second behind the newest buffered picture) at some tick: waited for, since
      // a busy machine may stall a tick past the gap at which the player seeks (it records the gap before seeking).
      await page.waitForFunction(
        () => {
          const gap = window.pistream!.mse!.gapMs;
          return gap !== null && gap !== undefined && gap < 1000;
        },
        undefined,
        { timeout: TIMEOUT },
      );
      const state = await pageState<PageState>(page);
      expectCaptureTimes(state.latencies.slice(-12), SPEC_STARTED_AT);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'after the page stalls for 3 s, it is back at the live edge (gap and latency under 1 s) on the same socket',
    async () => {
      await page.goto(insecureUrl(server!));
      await waitForFramesToAdvance(page, 12);
      const before = await pageState<PageState>(page);
      // Busy for 3 s on the page's main thread: no message handled, no append, no frame callback meanwhile.
      const stalledUntilFrame = await page.evaluate(() => {
        const until = performance.now() + 3000;
        while (performance.now() < until) {
          // stalled
        }
        return window.pistream!.lastBarcode!.frame;
      });
      const resumedAt = Date.now();
      // The backlog is appended (or dropped to a key unit), then the playhead jumps to the live edge.
      const live = (frame: number): boolean => {
        const p = window.pistream!;
        return p.lastBarcode!.frame > frame && p.lastBarcode!.latencyMs < 1000 && (p.mse!.gapMs ?? Infinity) < 1000;
      };
      await page.waitForFunction(live, stalledUntilFrame, { timeout: TIMEOUT });
      const first = await pageState<PageState>(page);
      // Reported, not asserted: how long (wall clock) the page took to show a live picture again.
      // eslint-disable-next-line no-console -- a figure for the reader of the test run
      console.log(
        `MSE after a 3 s stall: a live picture again (frame ${first.lastBarcode!.frame}, ${Math.round(first.lastBarcode!.latencyMs)} ms ` +
          `old, gap ${first.mse!.gapMs} ms) ${Date.now() - resumedAt} ms after it; seeks ${before.mse!.seeks} → ${first.mse!.seeks}, ` +
          `dropped ${before.mse!.dropped} → ${first.mse!.dropped}`,
      );
      // And it stays live.
      await page.waitForFunction(
        (frame) => {
          const p = window.pistream!;
          return p.lastBarcode!.frame > frame + 24 && p.lastBarcode!.latencyMs < 1000 && (p.mse!.gapMs ?? Infinity) < 1000;
        },
        first.lastBarcode!.frame,
        { timeout: TIMEOUT },
      );
      const after = await pageState<PageState>(page);
      expect(after.mse!.seeks).toBeGreaterThan(before.mse!.seeks);
      expect(after.connections).toBe(before.connections);
      expect(after.mse!.reopens).toBe(0);
      expect(after.status).toBe('live');
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'a broken message makes it reopen at the next key unit: "resyncing…" in the HUD meanwhile, then live pictures again',
    async () => {
      // Between server and page, once the page is live: one media message replaced by bytes that are no MP4 box.
      let corrupt = false;
      await page.routeWebSocket(/\/fmp4$/, (ws) => {
        const upstream = ws.connectToServer();
        upstream.onMessage((message) => {
          if (!corrupt || typeof message === 'string') return ws.send(message);
          corrupt = false;
          ws.send(Buffer.alloc(message.length, 0xab));
        });
        ws.onMessage((message) => upstream.send(message));
      });
      try {
        await page.goto(insecureUrl(server!));
        await waitForFramesToAdvance(page, 12);
        await page.waitForFunction(() => document.getElementById('path')?.textContent === 'H.264 · MSE', undefined, {
          timeout: TIMEOUT,
        });
        await page.evaluate(() => {
          const element = document.getElementById('path')!;
          const shown: string[] = [];
          window.pistreamPathTexts = shown;
          new MutationObserver(() => shown.push(element.textContent ?? '')).observe(element, {
            subtree: true,
            childList: true,
            characterData: true,
          });
        });
        corrupt = true;
        await page.waitForFunction(() => window.pistream!.mse!.reopens >= 1, undefined, { timeout: TIMEOUT });
        const atReopen = await pageState<PageState>(page);
        expect(atReopen.mse!.errors.length).toBeGreaterThanOrEqual(1);
        await page.waitForFunction((frames) => window.pistream!.frames >= frames + 24, atReopen.frames, { timeout: TIMEOUT });
        const after = await pageState<PageState>(page);
        expect(after.status).toBe('live');
        expect(after.connections).toBe(atReopen.connections);
        expect(after.latencies.slice(-12).every((ms) => ms > 0 && ms < 1000)).toBe(true);
        await page.waitForFunction(() => document.getElementById('path')?.textContent === 'H.264 · MSE', undefined, {
          timeout: TIMEOUT,
        });
        expect(await page.evaluate(() => window.pistreamPathTexts)).toContain('H.264 · MSE · resyncing…');
      } finally {
        await page.unrouteAll();
      }
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );
});

describeBrowser('viewer page through MSE on a phone-sized screen', () => {
  let opened: ServerPage | undefined;
  let server: RunningServer | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    opened = await openServerPage(() => start(), { width: 390, height: 844 }, [RESOLVE_INSECURE_HOST]);
    ({ server, page, pageErrors } = opened);
  }, TIMEOUT);

  afterAll(() => closeServerPage(opened), TIMEOUT);

  it(
    'a 390x844 viewport on a plain-http origin plays H.264 through MSE, the picture fitting the screen',
    async () => {
      await page.goto(insecureUrl(server!));
      expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
      await expectPlayingThroughMse(page);
      const box = await page.evaluate(() => {
        const rect = document.getElementById('mse-video')!.getBoundingClientRect();
        return { left: rect.left, top: rect.top, width: rect.width, height: rect.height, vw: window.innerWidth, vh: window.innerHeight };
      });
      expect(box.left).toBe(0);
      expect(box.top).toBe(0);
      expect(box.width).toBe(box.vw);
      expect(box.height).toBe(box.vh);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );
});
