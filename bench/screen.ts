// What is composited on screen, read from Chromium's screencast (CDP Page.startScreencast): each frame carries the
// compositor's timestamp (metadata.timestamp, seconds since the epoch) and an image of the page as it was shown;
// the test pattern's barcode read from that image says which picture was on screen, and when it was captured.
// Glass-to-glass = the frame's timestamp − the capture time the barcode carries: both are this machine's wall
// clock (the test pattern stamps `Date.now()`), as in part 1's page figure, but measured after the compositor.
import jpeg from 'jpeg-js';
import type { CDPSession, Page } from 'playwright-core';
import { barcodeAge, readBarcode, type BarcodeValue } from '../src/barcode';

/** A box in CSS pixels. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** An image as 8-bit RGBA, rows packed (`width * 4` bytes apart): jpeg-js' decoded form. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** One screencast frame as Chromium sent it: the image (base64 JPEG) and the metadata this file uses. */
export interface ScreencastFrame {
  /** The compositor's timestamp of the frame, ms since the epoch. */
  readonly at: number;
  /** The page's viewport in CSS px (metadata.deviceWidth / deviceHeight). */
  readonly viewport: Size;
  /** The image, base64 JPEG. */
  readonly data: string;
}

/** A screencast frame read: when it was on screen and, when a picture was, that picture's barcode and age. */
export interface ScreenFrame {
  readonly at: number;
  readonly barcode?: BarcodeValue;
  /** `at` − the barcode's capture time (ms): glass-to-glass on screen. */
  readonly glassMs?: number;
}

/**
 * A barcode whose capture time lies further from the frame's time than this is no picture: a black canvas reads as
 * all-zero bits (frame 0, captured at 0), which is no picture of a live stream.
 */
export const PLAUSIBLE_GLASS_MS = 60_000;

/** JPEG quality asked of the screencast: the barcode's 16 px blocks of 16 and 235 luma survive far lower. */
export const SCREENCAST_QUALITY = 80;

/**
 * Where a picture of size `picture` shows in `box` under CSS `object-fit: contain` (the page's canvas and <video>
 * fill the window that way): scaled to fit whole, centred.
 *
 * @example
 * containRect({ x: 0, y: 0, width: 1280, height: 720 }, { width: 640, height: 480 }); // { x: 160, y: 0, width: 960, height: 720 }
 */
export function containRect(box: Rect, picture: Size): Rect {
  const scale = Math.min(box.width / picture.width, box.height / picture.height);
  const width = picture.width * scale;
  const height = picture.height * scale;
  return { x: box.x + (box.width - width) / 2, y: box.y + (box.height - height) / 2, width, height };
}

/**
 * Reads the barcode of a picture of size `picture` shown at `rect` (CSS px) in `image`, whose pixels are `scale`
 * per CSS px (the screencast's image width ÷ the viewport's). Each picture pixel the reader asks for is the image
 * pixel under its centre, as brightness (the mean of R, G and B, as the page reads a canvas); outside the image, 0.
 */
export function readImageBarcode(image: RgbaImage, rect: Rect, picture: Size, scale: number): BarcodeValue | undefined {
  const sx = (rect.width / picture.width) * scale;
  const sy = (rect.height / picture.height) * scale;
  return readBarcode((x, y) => {
    const ix = Math.floor(rect.x * scale + (x + 0.5) * sx);
    const iy = Math.floor(rect.y * scale + (y + 0.5) * sy);
    if (ix < 0 || iy < 0 || ix >= image.width || iy >= image.height) return 0;
    const i = (iy * image.width + ix) * 4;
    return (image.data[i]! + image.data[i + 1]! + image.data[i + 2]!) / 3;
  });
}

/** A base64 JPEG as RGBA. */
export function decodeJpeg(base64: string): RgbaImage {
  return jpeg.decode(Buffer.from(base64, 'base64'), { useTArray: true, formatAsRGBA: true });
}

/**
 * Reads one screencast frame of a page whose picture (of size `picture`) fills the viewport as `object-fit:
 * contain`: its barcode and glass-to-glass, when it shows a picture of the stream (a barcode whose capture time is
 * within PLAUSIBLE_GLASS_MS of the frame's).
 */
export function readFrame(frame: ScreencastFrame, picture: Size, decode: (data: string) => RgbaImage = decodeJpeg): ScreenFrame {
  const image = decode(frame.data);
  const rect = containRect({ x: 0, y: 0, ...frame.viewport }, picture);
  const barcode = readImageBarcode(image, rect, picture, image.width / frame.viewport.width);
  if (!barcode) return { at: frame.at };
  // barcodeAge works in whole ms (the barcode's unit); the compositor's timestamp keeps its fraction.
  const glassMs = barcodeAge(barcode.time, frame.at) + (frame.at - Math.floor(frame.at));
  if (Math.abs(glassMs) > PLAUSIBLE_GLASS_MS) return { at: frame.at };
  return { at: frame.at, barcode, glassMs };
}

/** The first frame that shows a picture, or undefined. */
export function firstPicture(frames: readonly ScreenFrame[]): ScreenFrame | undefined {
  return frames.find((f) => f.barcode !== undefined);
}

/**
 * Each picture's glass-to-glass at its first appearance on screen. The screencast sends a frame whenever anything
 * on the page changed (the HUD's text, too), so one picture may be in several frames: only the first counts,
 * later ones are the same picture still on screen. A picture older than one already shown (never expected) counts
 * neither.
 */
export function firstAppearances(frames: readonly ScreenFrame[]): number[] {
  const out: number[] = [];
  let newest = -Infinity;
  for (const f of frames) {
    if (!f.barcode || f.glassMs === undefined) continue;
    if (f.barcode.frame <= newest) continue;
    newest = f.barcode.frame;
    out.push(f.glassMs);
  }
  return out;
}

/** A running screencast of one page: `take()` hands over the frames received so far, `stop()` ends it. */
export interface ScreenRecorder {
  take(): ScreencastFrame[];
  stop(): Promise<ScreencastFrame[]>;
}

interface ScreencastFrameEvent {
  data: string;
  sessionId: number;
  metadata: { timestamp?: number; deviceWidth: number; deviceHeight: number };
}

/**
 * Starts Chromium's screencast of `page` (JPEG at SCREENCAST_QUALITY, at the viewport's own size). Frames are
 * acknowledged as they come (Chromium sends the next only after an ack) and kept undecoded: decoding them here
 * would take CPU from the browser being measured, so callers read them (readFrame) after the window. Start it
 * before navigating to catch a join's first picture.
 */
export async function recordScreen(page: Page): Promise<ScreenRecorder> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  let frames: ScreencastFrame[] = [];
  const onFrame = (event: ScreencastFrameEvent): void => {
    void cdp.send('Page.screencastFrameAck', { sessionId: event.sessionId }).catch(() => undefined);
    const { timestamp, deviceWidth, deviceHeight } = event.metadata;
    // No timestamp: the frame cannot be placed in time, so it measures nothing.
    if (timestamp === undefined) return;
    frames.push({ at: timestamp * 1000, viewport: { width: deviceWidth, height: deviceHeight }, data: event.data });
  };
  cdp.on('Page.screencastFrame', onFrame);
  await cdp.send('Page.startScreencast', { format: 'jpeg', quality: SCREENCAST_QUALITY, everyNthFrame: 1 });
  const take = (): ScreencastFrame[] => {
    const out = frames;
    frames = [];
    return out;
  };
  return {
    take,
    stop: async () => {
      cdp.off('Page.screencastFrame', onFrame);
      await cdp.send('Page.stopScreencast').catch(() => undefined);
      await cdp.detach().catch(() => undefined);
      return take();
    },
  };
}
