import pino from 'pino';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import { type ServerPage, closeServerPage, openServerPage, pageState, PAGE_TIMEOUT, waitForFramesToAdvance } from '../helpers/page-tools';

/** What the page keeps in `window.pistream`, as far as read here (PageState, SoundState, WebCodecsState in types/page.d.ts). */
interface PageState {
  readonly status: string;
  readonly player: string | null;
  readonly outputs: number;
  readonly soundFrames: number;
  readonly soundBytes: number;
  readonly soundErrors: readonly string[];
  readonly sound: {
    readonly available: boolean;
    readonly problem: string | null;
    readonly muted: boolean;
    readonly context: string | null;
    readonly scheduled: number;
    readonly beeps: number;
    readonly offsets: readonly { readonly offsetMs: number; readonly audioMs: number; readonly videoMs: number; readonly at: number }[];
  };
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly pistream?: PageState; AudioDecoder?: unknown };
declare const document: {
  getElementById(id: string): { readonly hidden: boolean; readonly disabled?: boolean; readonly textContent: string | null } | null;
};

/** The real server streaming the test pattern in H.264 with the test tone, no WebRTC, logging nothing. */
function start(): Promise<RunningServer> {
  const config = parseConfig(
    ['--source', 'test', '--codec', 'h264', '--audio', 'test', '--webrtc', 'off', '--host', '127.0.0.1', '--port', '0'],
    {},
  );
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

function state(page: Page): Promise<PageState> {
  return pageState<PageState>(page);
}

function speaker(page: Page): Promise<{ hidden: boolean; disabled: boolean | undefined }> {
  return page.evaluate(() => ({
    hidden: document.getElementById('speaker')!.hidden,
    disabled: document.getElementById('speaker')!.disabled,
  }));
}

/** Live through WebCodecs, the barcode a second past the first picture read. */
async function live(page: Page): Promise<void> {
  await page.waitForFunction(() => window.pistream?.status === 'live', undefined, { timeout: PAGE_TIMEOUT });
  await waitForFramesToAdvance(page, 24);
}

describeBrowser('the WebCodecs player with sound (--codec h264 --audio test, ?player=webcodecs) in Chromium', () => {
  let opened: ServerPage | undefined;

  beforeAll(async () => {
    opened = await openServerPage(start, { width: 800, height: 600 });
  }, PAGE_TIMEOUT);

  afterAll(() => closeServerPage(opened), PAGE_TIMEOUT);

  it(
    'starts muted with no sound bytes and no sound encoder; the speaker button asks for Opus, AudioDecoder plays it and the beeps are heard',
    async () => {
      const { page, pageErrors, server } = opened!;
      await page.goto(`${server.url}?player=webcodecs`);
      await live(page);
      const muted = await state(page);
      expect(muted.player).toBe('webcodecs');
      expect(muted.sound).toMatchObject({ available: true, problem: null, muted: true, context: null, beeps: 0 });
      // A muted page pays nothing for sound: no bytes on its socket, no encoder on the server.
      expect(muted).toMatchObject({ soundFrames: 0, soundBytes: 0 });
      expect(server.hub.audio!.stats.state).toBe('off');
      expect(await speaker(page)).toEqual({ hidden: false, disabled: false });

      await page.click('#speaker');
      await page.waitForFunction(() => window.pistream!.sound.context === 'running', undefined, { timeout: PAGE_TIMEOUT });
      await page.waitForFunction(() => window.pistream!.soundFrames > 0, undefined, { timeout: PAGE_TIMEOUT });
      // The analyser on the page's graph hears the decoded Opus: the test tone's beeps, one per whole second.
      await page.waitForFunction(() => window.pistream!.sound.beeps >= 3, undefined, { timeout: PAGE_TIMEOUT * 2 });
      const playing = await state(page);
      expect(playing.sound.scheduled).toBeGreaterThan(0);
      const seconds = playing.sound.offsets.map((o) => Math.round(o.at - o.audioMs));
      for (const second of seconds) expect(second % 1000).toBe(0);
      expect(new Set(seconds).size).toBe(seconds.length);
      // The picture goes on while the sound plays, and the HUD shows the offset.
      await waitForFramesToAdvance(page, 24);
      await page.waitForFunction(() => /A\/V [+-]?\d+ ms/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
        timeout: PAGE_TIMEOUT,
      });
      expect(playing.soundErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT * 4,
  );

  it(
    'muted again, the page tells the server to stop: no more sound bytes, the encoder stops, the picture plays on',
    async () => {
      const { page, pageErrors, server } = opened!;
      await page.click('#speaker');
      expect((await state(page)).sound.muted).toBe(true);
      // The request goes with the next picture; the encoder stops with its last listener (checked once per picture).
      for (let pictures = 0; server.hub.audio!.stats.state !== 'off' && pictures < 24 * 30; pictures++) {
        await waitForFramesToAdvance(page, 1);
      }
      expect(server.hub.audio!.stats.state).toBe('off');
      const { soundFrames } = await state(page);
      await waitForFramesToAdvance(page, 24);
      expect((await state(page)).soundFrames).toBe(soundFrames);
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT * 2,
  );

  it(
    'without AudioDecoder the page stays silent and says why on the speaker button; the picture plays as before',
    async () => {
      const { page, pageErrors, server } = opened!;
      await page.addInitScript(() => {
        delete window.AudioDecoder;
      });
      await page.goto(`${server.url}?player=webcodecs`);
      await live(page);
      const s = await state(page);
      expect(s.player).toBe('webcodecs');
      expect(s.sound.problem).toMatch(/no sound: this browser has no WebCodecs AudioDecoder/);
      expect(s.sound.available).toBe(false);
      expect(await speaker(page)).toEqual({ hidden: false, disabled: true });
      expect(s.soundFrames).toBe(0);
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT * 2,
  );
});
