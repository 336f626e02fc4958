import pino from 'pino';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import { freeUdpPort } from '../webrtc/udp-port';
import { type ServerPage, closeServerPage, openServerPage, pageState, PAGE_TIMEOUT, waitForFramesToAdvance } from '../helpers/page-tools';

/** What public/sound.js and av-offset.js keep in `window.pistream.sound` (SoundState in types/page.d.ts). */
interface SoundState {
  readonly available: boolean;
  readonly muted: boolean;
  readonly volume: number;
  readonly context: string | null;
  readonly scheduled: number;
  readonly beeps: number;
  readonly offsets: readonly { readonly offsetMs: number; readonly audioMs: number; readonly videoMs: number; readonly at: number }[];
}
interface PageState {
  readonly status: string;
  readonly player: string | null;
  readonly sound: SoundState;
}
/** The speaker button and the volume slider, as the page shows them. */
interface Controls {
  readonly speakerHidden: boolean;
  readonly pressed: string | null;
  readonly label: string | null;
  readonly volumeHidden: boolean;
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly pistream?: PageState };
declare const document: {
  getElementById(
    id: string,
  ): { readonly hidden: boolean; getAttribute(name: string): string | null; readonly textContent: string | null } | null;
};

/** The real server streaming the test pattern, with `--audio MODE`, logging nothing. */
function start(audio: string): Promise<RunningServer> {
  const config = parseConfig(['--source', 'test', '--audio', audio, '--host', '127.0.0.1', '--port', '0'], {});
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

function controls(page: Page): Promise<Controls> {
  return page.evaluate(() => ({
    speakerHidden: document.getElementById('speaker')!.hidden,
    pressed: document.getElementById('speaker')!.getAttribute('aria-pressed'),
    label: document.getElementById('speaker')!.getAttribute('aria-label'),
    volumeHidden: document.getElementById('volume')!.hidden,
  }));
}

function sound(page: Page): Promise<SoundState> {
  return pageState<PageState>(page).then((state) => state.sound);
}

/** Waits until the page has been live and decoding for a while (a second of pictures past the first). */
async function live(page: Page): Promise<void> {
  await page.waitForFunction(() => window.pistream?.status === 'live', undefined, { timeout: PAGE_TIMEOUT });
  await waitForFramesToAdvance(page, 12);
}

describeBrowser('the page with sound (--audio test) in Chromium', () => {
  let opened: ServerPage | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    opened = await openServerPage(() => start('test'), { width: 800, height: 600 });
    ({ page, pageErrors } = opened);
  }, PAGE_TIMEOUT);

  afterAll(() => closeServerPage(opened), PAGE_TIMEOUT);

  it(
    'starts muted with the speaker button shown and no sound made; the button unmutes, JSMpeg plays the MP2 and the beeps are heard',
    async () => {
      await page.goto(opened!.server.url);
      await live(page);
      expect((await pageState<PageState>(page)).player).toBe('jsmpeg');
      expect(await controls(page)).toEqual({ speakerHidden: false, pressed: 'false', label: 'Unmute', volumeHidden: true });
      const muted = await sound(page);
      // No AudioContext before a user gesture (the autoplay rules), so nothing is scheduled.
      expect(muted).toMatchObject({ available: true, muted: true, context: null, scheduled: 0, beeps: 0 });

      await page.click('#speaker');
      expect(await controls(page)).toEqual({ speakerHidden: false, pressed: 'true', label: 'Mute', volumeHidden: false });
      await page.waitForFunction(() => window.pistream!.sound.context === 'running', undefined, { timeout: PAGE_TIMEOUT });
      // The analyser on the played sound finds the test tone's beeps, one per whole second of the capture clock.
      await page.waitForFunction(() => window.pistream!.sound.beeps >= 3, undefined, { timeout: PAGE_TIMEOUT });
      const playing = await sound(page);
      expect(playing.scheduled).toBeGreaterThan(0);
      const seconds = playing.offsets.map((o) => Math.round(o.at - o.audioMs));
      // Each beep is placed on a whole second, a different one each time.
      for (const second of seconds) expect(second % 1000).toBe(0);
      expect(new Set(seconds).size).toBe(seconds.length);
      // The picture goes on while the sound plays.
      await waitForFramesToAdvance(page, 24);
      // The HUD shows the offset once it refreshes after a beep.
      await page.waitForFunction(() => /A\/V [+-]?\d+ ms/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
        timeout: PAGE_TIMEOUT,
      });
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT * 2,
  );

  it(
    'the volume slider sets the volume; the button mutes again (the slider hidden) while the sound keeps its schedule',
    async () => {
      await page.locator('#volume').fill('30');
      expect((await sound(page)).volume).toBeCloseTo(0.3);
      await page.click('#speaker');
      expect(await controls(page)).toEqual({ speakerHidden: false, pressed: 'false', label: 'Unmute', volumeHidden: true });
      const muted = await sound(page);
      expect(muted.muted).toBe(true);
      // Muted, the graph runs on at gain 0: sound keeps being scheduled, so unmuting is instant.
      await page.waitForFunction((n) => window.pistream!.sound.scheduled > n, muted.scheduled, { timeout: PAGE_TIMEOUT });
      await page.click('#speaker');
      expect(await sound(page)).toMatchObject({ muted: false, volume: expect.closeTo(0.3) as number });
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT,
  );
});

describeBrowser('the page without sound (--audio none) in Chromium', () => {
  let opened: ServerPage | undefined;

  beforeAll(async () => {
    opened = await openServerPage(() => start('none'), { width: 800, height: 600 });
  }, PAGE_TIMEOUT);

  afterAll(() => closeServerPage(opened), PAGE_TIMEOUT);

  it(
    'shows no speaker button and no volume slider',
    async () => {
      const { page, pageErrors } = opened!;
      await page.goto(opened!.server.url);
      await live(page);
      expect(await controls(page)).toMatchObject({ speakerHidden: true, volumeHidden: true });
      expect(await sound(page)).toMatchObject({ available: false, context: null, scheduled: 0 });
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT,
  );
});

describeBrowser('the WebRTC page with sound (--codec h264 --audio test) in Chromium', () => {
  let opened: ServerPage | undefined;

  beforeAll(async () => {
    const port = await freeUdpPort();
    const config = parseConfig(
      ['--source', 'test', '--codec', 'h264', '--audio', 'test', '--host', '127.0.0.1', '--port', '0', '--webrtc-port', String(port)],
      {},
    );
    opened = await openServerPage(() => startServer(config, { logger: pino({ level: 'silent' }) }), { width: 800, height: 600 });
  }, PAGE_TIMEOUT);

  afterAll(() => closeServerPage(opened), PAGE_TIMEOUT);

  it(
    'gets an Opus track on the stream, starts muted, and once unmuted plays the beeps on whole seconds; the HUD shows the A/V offset',
    async () => {
      const { page, pageErrors } = opened!;
      await page.goto(`${opened!.server.url}?player=webrtc`);
      await live(page);
      const state = await pageState<PageState & { readonly webrtc: { readonly audioTrack: boolean } }>(page);
      expect(state.player).toBe('webrtc');
      expect(state.webrtc.audioTrack).toBe(true);
      expect(await controls(page)).toEqual({ speakerHidden: false, pressed: 'false', label: 'Unmute', volumeHidden: true });
      expect(await sound(page)).toMatchObject({ available: true, muted: true, context: null, beeps: 0 });

      await page.click('#speaker');
      await page.waitForFunction(() => window.pistream!.sound.context === 'running', undefined, { timeout: PAGE_TIMEOUT });
      // The analyser on the played sound finds the test tone's beeps: the track plays, through the page's graph.
      await page.waitForFunction(() => window.pistream!.sound.beeps >= 3, undefined, { timeout: PAGE_TIMEOUT });
      const playing = await sound(page);
      const seconds = playing.offsets.map((o) => Math.round(o.at - o.audioMs));
      for (const second of seconds) expect(second % 1000).toBe(0);
      expect(new Set(seconds).size).toBe(seconds.length);
      await page.waitForFunction(() => /A\/V [+-]?\d+ ms/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
        timeout: PAGE_TIMEOUT,
      });
      expect(pageErrors).toEqual([]);
    },
    PAGE_TIMEOUT * 2,
  );
});
