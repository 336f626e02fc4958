import { get } from 'node:http';
import pino from 'pino';
import WebSocket from 'ws';
import { parseConfig } from '../../src/config/command-line';
import { protocol } from '../../src/protocol';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { slowVideoDecoderScript } from '../../bench/slow-video-decoder';
import { describeBrowser } from '../helpers/browser';
import { type ServerPage, PAGE_TIMEOUT, closeServerPage, openServerPage, pageState, text } from '../helpers/page-tools';

/** What the page exposes on `window.pistream`, as far as this spec reads it. */
interface PageState {
  readonly status: string;
  readonly player: string | null;
  readonly painted: number;
  readonly connections: number;
  readonly lastBarcode: { readonly frame: number } | null;
  readonly lateDrops: number;
  readonly keepingUp: boolean;
  readonly decodeMs: number;
  readonly decoderErrors: readonly string[];
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly pistream?: PageState; pistreamSlowDecoder?: { delayMs: number } };
declare const document: { getElementById(id: string): { readonly textContent: string | null } | null };

/** The stream's GOP in pictures: the H.264 encoder's default, one second at the default 24 fps. */
const GOP = 24;
/** The slowed decoder takes a unit at most every this many ms: 10 pictures a second against the stream's 24. */
const DELAY_MS = 100;

function start(): Promise<RunningServer> {
  const config = parseConfig(['--source', 'test', '--codec', 'h264', '--host', '127.0.0.1', '--port', '0'], {});
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

/** A viewer of /h264 beside the page (it never acks: the server judges it by its socket only), newest seq so far. */
function watchNewest(server: RunningServer): { newest: () => number; close: () => void } {
  const url = new URL('h264', server.url);
  url.protocol = 'ws:';
  const socket = new WebSocket(url);
  let newest = -1;
  socket.on('message', (data: Buffer) => {
    const header = protocol.readUnitHeader(new Uint8Array(data).slice().buffer);
    if (header) newest = Math.max(newest, header.seq);
  });
  return { newest: () => newest, close: () => socket.close() };
}

/** How many acks the server has taken (its ack-lag histogram's count). */
function acksTaken(server: RunningServer): Promise<number> {
  return new Promise((resolve, reject) => {
    get(new URL('metrics', server.url), (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(Number(/^pistream_viewer_lag_seconds_count\s+(\d+)/m.exec(body)?.[1] ?? NaN)));
    }).on('error', reject);
  });
}

describeBrowser('WebCodecs page on a decoder slower than the stream (a slowed VideoDecoder)', () => {
  let opened: ServerPage | undefined;

  beforeAll(async () => {
    opened = await openServerPage(start, { width: 1280, height: 720 });
    await opened.page.addInitScript(slowVideoDecoderScript(DELAY_MS));
  }, PAGE_TIMEOUT);

  afterAll(() => closeServerPage(opened), PAGE_TIMEOUT);

  it(
    'keeps showing pictures, drops the rest of each GOP to stay within about a GOP of the stream, says so, still acks',
    async () => {
      const { server, page, pageErrors } = opened!;
      const stream = watchNewest(server);
      try {
        await page.goto(server.url);
        await page.waitForFunction(() => /decoder cannot keep up/.test(document.getElementById('path')?.textContent ?? ''), undefined, {
          timeout: PAGE_TIMEOUT,
        });
        expect(await text(page, 'path')).toBe('H.264 · WebCodecs · decoder cannot keep up');
        const acksBefore = await acksTaken(server);
        // Six GOPs' worth of the slowed decoder's pictures: a page that decoded everything would by then be far behind
        // (14 pictures a second more each second); this one stays within the GOP it decodes, the one arriving, and
        // a margin for a busy machine.
        const behind: number[] = [];
        let painted = (await pageState<PageState>(page)).painted;
        for (let i = 0; i < 6; i++) {
          await page.waitForFunction((target) => window.pistream!.painted >= target, painted + 10, { timeout: PAGE_TIMEOUT });
          const state = await pageState<PageState>(page);
          painted = state.painted;
          behind.push(stream.newest() - state.lastBarcode!.frame);
        }
        // eslint-disable-next-line no-console
        console.log(`pictures behind the newest sent, per sample: ${behind.join(', ')}`);
        for (const n of behind) expect(n).toBeLessThanOrEqual(3 * GOP);

        const state = await pageState<PageState>(page);
        expect(state.player).toBe('webcodecs');
        expect(state.status).toBe('live');
        expect(state.keepingUp).toBe(false);
        expect(state.lateDrops).toBeGreaterThan(0);
        // The policy measured the decoder's pace from its outputs: the wrapper's, not the real decoder's few ms (half of
        // it at least: a delta fed behind a key picture that was quick is measured from its feed, a little short).
        expect(state.decodeMs).toBeGreaterThanOrEqual(0.5 * DELAY_MS);
        expect(state.decoderErrors).toEqual([]);
        // Still acking (what it took: fed or dropped), on the one connection it opened: never closed as too slow.
        expect(await acksTaken(server)).toBeGreaterThan(acksBefore + 5);
        expect(state.connections).toBe(1);

        // The device speeds up again: once a whole GOP has been decoded, the HUD says nothing more about it.
        await page.evaluate(() => (window.pistreamSlowDecoder!.delayMs = 0));
        await page.waitForFunction(() => window.pistream!.keepingUp, undefined, { timeout: PAGE_TIMEOUT });
        expect(await text(page, 'path')).toBe('H.264 · WebCodecs');
        expect(pageErrors).toEqual([]);
      } finally {
        stream.close();
      }
    },
    PAGE_TIMEOUT * 2,
  );
});
