/**
 * JSMpeg (`@cycjimmy/jsmpeg-player`, the player our page uses) loaded in Node, so specs can feed our bytes to its
 * own TS demuxer and decoders. Its package `exports` map hides `dist/`, but the package's main entry loads; it only
 * needs `window` (for `performance`) to exist.
 */

/** What a JSMpeg demuxer or decoder writes into a connected destination. */
export interface JsmpegDestination {
  write(pts: number, buffers: Uint8Array[]): void;
}

/** JSMpeg's `Demuxer.TS`. */
export interface JsmpegTsDemuxer {
  connect(streamId: number, destination: JsmpegDestination): void;
  write(buffer: Uint8Array): void;
}

export interface JsmpegModule {
  readonly Demuxer: {
    readonly TS: (new () => JsmpegTsDemuxer) & { readonly STREAM: { readonly VIDEO_1: number; readonly AUDIO_1: number } };
  };
}

let jsmpeg: JsmpegModule | undefined;

/** The JSMpeg namespace object (loaded once per test file). */
export function loadJsmpeg(): JsmpegModule {
  if (!jsmpeg) {
    const g = globalThis as { window?: unknown };
    g.window ??= globalThis;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jsmpeg = require('@cycjimmy/jsmpeg-player') as JsmpegModule;
  }
  return jsmpeg;
}

/** One PES that JSMpeg's demuxer handed to the video decoder. */
export interface DeliveredPicture {
  /** PTS in seconds, as JSMpeg reads it. */
  readonly pts: number;
  readonly data: Buffer;
}

/**
 * JSMpeg's TS demuxer with a recording video destination (stream id 0xE0): `delivered` grows at the moment the
 * demuxer decides a picture is complete, which is what decides the player's latency.
 * @example
 * const demuxer = jsmpegVideoDemuxer();
 * demuxer.write(muxed.ts);
 * expect(demuxer.delivered).toHaveLength(1);
 */
export function jsmpegVideoDemuxer(): { write(ts: Uint8Array): void; readonly delivered: DeliveredPicture[] } {
  const { Demuxer } = loadJsmpeg();
  const demuxer = new Demuxer.TS();
  const delivered: DeliveredPicture[] = [];
  // The buffers are views into the bytes being parsed: copy them at once.
  demuxer.connect(Demuxer.TS.STREAM.VIDEO_1, { write: (pts, buffers) => delivered.push({ pts, data: Buffer.concat(buffers) }) });
  return { write: (ts) => demuxer.write(ts), delivered };
}
