import pino from 'pino';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import { type ServerPage, closeServerPage, openServerPage, pageState, PAGE_TIMEOUT, waitForFramesToAdvance } from '../helpers/page-tools';

/** What the page keeps in `window.pistream`, as far as read here (PageState and MseStats in types/page.d.ts). */
interface PageState {
  readonly status: string;
  readonly player: string | null;
  readonly connections: number;
  readonly sound: {
    readonly available: boolean;
    readonly muted: boolean;
    readonly context: string | null;
    readonly beeps: number;
    readonly scheduled: number;
    readonly offsets: readonly { readonly offsetMs: number; readonly audioMs: number; readonly videoMs: number; readonly at: number }[];
  };
  readonly mse: {
    readonly codec: string | null;
    readonly received: number;
    readonly appended: number;
    readonly dropped: number;
    readonly pending: number;
    readonly reopens: number;
    readonly errors: readonly string[];
  };
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly pistream?: PageState };
declare const document: {
  getElementById(id: string): { readonly hidden: boolean; readonly muted?: boolean; readonly textContent: string | null } | null;
};

const VIDEO_ONLY = /^avc1\.[0-9A-F]{6}$/;

/** The real server streaming the test pattern in H.264 with `--audio MODE`, logging nothing. */
function start(audio: string): Promise<RunningServer> {
  const config = parseConfig(['--source', 'test', '--codec', 'h264', '--audio', audio, '--host', '127.0.0.1', '--port', '0'], {});
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

function state(page: Page): Promise<PageState> {
  return pageState<PageState>(page);
}

/** Whether the speaker button and the MSE player's <video> are muted or hidden, as the page shows them. */
function controls(page: Page): Promise<{ speakerHidden: boolean; videoMuted: boolean | undefined }> {
  return page.evaluate(() => ({
    speakerHidden: document.getElementById('speaker')!.hidden,
    videoMuted: document.getElementById('mse-video')?.muted,
  }));
}

/** Live through MSE, the barcode a second past the first picture read. */
async function live(page: Page): Promise<void> {
  await page.waitForFunction(() => window.pistream?.status === 'live', undefined, { timeout: PAGE_TIMEOUT });
  await waitForFramesToAdvance(page, 24);
}

describeBrowser('the MSE player with sound (--codec h264 --audio test, ?player=mse) in Chromium', () => {
  let opened: ServerPage | undefined;

  beforeAll(async () => {
    opened = await openServerPage(() => start('test'), { width: 800, height: 600 });
  }, PAGE_TIMEOUT);

  afterAll(() => closeServerPage(opened), PAGE_TIMEOUT);

  it(
    'starts muted on /fmp4 (pictures only); the speaker button plays /sound beside it through the page graph (the <video> stays on /fmp4, muted), the beeps are heard, the HUD shows the A/V offset',
    async () => {
      const { page, pageErrors } = opened!;
      await page.goto(`${opened!.server.url}?player=mse`);
      await live(page);
      const muted = await state(page);
      expect(muted.player).toBe('mse');
      // Muted, nothing waits for sound: the video-only format, no AudioContext (autoplay rules).
      expect(muted.mse.codec).toMatch(VIDEO_ONLY);
      expect(muted.sound).toMatchObject({ available: true, muted: true, context: null, beeps: 0 });
      expect(await controls(page)).toEqual({ speakerHidden: false, videoMuted: true });

      const connections = muted.connections;
      await page.click('#speaker');
      await page.waitForFunction(() => window.pistream!.sound.context === 'running', undefined, { timeout: PAGE_TIMEOUT });
      // The sound's MP2 frames are decoded and scheduled into the graph (jsmpeg-audio.js), from /sound.
      await page.waitForFunction(() => window.pistream!.sound.scheduled > 0, undefined, { timeout: PAGE_TIMEOUT });
      // The pictures' connection is the same, video only, its <video> muted: nothing there waits for sound.
      expect((await state(page)).connections).toBe(connections);
      expect((await state(page)).mse.codec).toMatch(VIDEO_ONLY);
      expect(await controls(page)).toEqual({ speakerHidden: false, videoMuted: true });
      await waitForFramesToAdvance(page, 48);
      // The analyser on the page's graph hears the sound: the test tone's beeps, one per whole second.
      await page.waitForFunction(() => window.pistream!.sound.beeps >= 3, undefined, { timeout: PAGE_TIMEOUT * 2 });
      const playing = await state(page);
      const seconds = playing.sound.offsets.map((o) => Math.round(o.at - o.audioMs));
      for (const second of seconds) expect(second % 1000).toBe(0);
      expect(new Set(seconds).size).toBe(seconds.length);
      await page.waitForFunction(() => /A\/V [+-]?\d+ ms/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
        timeout: PAGE_TIMEOUT,
      });
      const mse = playing.mse;
      expect(mse.received).toBe(mse.appended + mse.dropped + mse.pending);
      expect(mse.reopens).toBe(0);
      expect(mse.errors).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT * 4,
  );

  it(
    'mutes again through the graph (the pictures play on, on /fmp4)',
    async () => {
      const { page, pageErrors } = opened!;
      await page.click('#speaker');
      const muted = await state(page);
      expect(muted.sound.muted).toBe(true);
      expect(muted.mse.codec).toMatch(VIDEO_ONLY);
      await waitForFramesToAdvance(page, 24);
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT,
  );
});

describeBrowser('the MSE player without sound (--codec h264 --audio none, ?player=mse) in Chromium', () => {
  let opened: ServerPage | undefined;

  beforeAll(async () => {
    opened = await openServerPage(() => start('none'), { width: 800, height: 600 });
  }, PAGE_TIMEOUT);

  afterAll(() => closeServerPage(opened), PAGE_TIMEOUT);

  it(
    'plays /fmp4 as before, with no speaker button',
    async () => {
      const { page, pageErrors } = opened!;
      await page.goto(`${opened!.server.url}?player=mse`);
      await live(page);
      const s = await state(page);
      expect(s.player).toBe('mse');
      expect(s.mse.codec).toMatch(VIDEO_ONLY);
      expect(s.sound).toMatchObject({ available: false, context: null });
      expect(await controls(page)).toEqual({ speakerHidden: true, videoMuted: true });
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT,
  );
});
