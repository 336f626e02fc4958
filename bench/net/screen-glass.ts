// What a person sees: every frame Chromium's compositor puts on screen (CDP Page.startScreencast), with the
// compositor's own timestamp, the test pattern's barcode read from the frame's image. A picture reaches the screen at
// the first frame showing its number; its glass-to-glass latency is that frame's time minus the capture time the
// barcode carries. The page is opened at the stream's size, so the picture fills it at 1:1 from the top-left corner.
import type { CDPSession, Page } from 'playwright-core';
import { decode } from 'jpeg-js';
import { barcodeAge, readBarcode } from '../../src/barcode';

/** One picture's arrival on screen: when (ms since the epoch, the compositor's clock), its number, its glass. */
export interface OnScreen {
  readonly at: number;
  readonly frame: number;
  readonly glassMs: number;
}

export interface ScreenWatch {
  /** Pictures that reached the screen so far (each once, at its first frame), in order. */
  readonly pictures: readonly OnScreen[];
  /** Screencast frames received (with or without a new picture). */
  readonly frames: () => number;
  stop(): Promise<void>;
}

/** The screencast is taken at half the page's size: a quarter of the pixels to encode, send and decode per frame. */
export const SCREEN_SCALE = 0.5;

/**
 * Reads the barcode from a JPEG screencast frame taken at `scale` of the stream's size (mean of R, G, B as the
 * luma); undefined where none is readable.
 */
export function barcodeOfJpeg(jpeg: Buffer, scale = SCREEN_SCALE): { frame: number; time: number } | undefined {
  const image = decode(jpeg, { useTArray: true, formatAsRGBA: true });
  const { width, data } = image;
  return readBarcode((x, y) => {
    const i = (Math.floor(y * scale) * width + Math.floor(x * scale)) * 4;
    return (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
  });
}

/**
 * Starts watching `page`'s screen: every compositor frame is acknowledged at once (so the screencast keeps pace) and
 * read, at half size. JPEG at quality 90 keeps the barcode's blocks clearly dark or bright.
 * @example
 * const watch = await watchScreen(page, { width: 640, height: 480 });
 * // … later
 * await watch.stop();
 * const glass = watch.pictures.map((p) => p.glassMs);
 */
export async function watchScreen(page: Page, size: { width: number; height: number }): Promise<ScreenWatch> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  const pictures: OnScreen[] = [];
  let frames = 0;
  let last = -1;
  cdp.on('Page.screencastFrame', (event) => {
    frames++;
    void cdp.send('Page.screencastFrameAck', { sessionId: event.sessionId }).catch(() => undefined);
    const at = (event.metadata.timestamp ?? Date.now() / 1000) * 1000;
    const code = barcodeOfJpeg(Buffer.from(event.data, 'base64'));
    // A picture counts once, at its first frame; an older number (a stale frame) is not a new picture.
    if (!code || code.frame <= last) return;
    last = code.frame;
    pictures.push({ at, frame: code.frame, glassMs: barcodeAge(code.time, at) });
  });
  await cdp.send('Page.startScreencast', {
    format: 'jpeg',
    quality: 90,
    maxWidth: size.width * SCREEN_SCALE,
    maxHeight: size.height * SCREEN_SCALE,
    everyNthFrame: 1,
  });
  return {
    pictures,
    frames: () => frames,
    async stop() {
      await cdp.send('Page.stopScreencast').catch(() => undefined);
      await cdp.detach().catch(() => undefined);
    },
  };
}
