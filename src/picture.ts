/**
 * One coded picture of any codec, as a decoder needs it: the headers a decoder must have before it (MPEG-1's
 * sequence and GOP headers, H.264's SPS and PPS) are part of `data`, so a picture with `keyframe: true` is a
 * place where a decoder can start. A codec adds its own facts by extending this (see `Mpeg1Picture`).
 */
export interface Picture {
  /** The coded bytes. */
  readonly data: Buffer;
  /** Which codec made it: the `id` of a {@link Codec} value (`'mpeg1'`). */
  readonly codec: string;
  /** A decoder can start here. */
  readonly keyframe: boolean;
  /** Source frame number of the frame this picture encodes. */
  readonly seq: number;
  /** Capture time (ms since the epoch) of the frame this picture encodes. */
  readonly capturedAt: number;
  readonly width: number;
  readonly height: number;
}

/**
 * A picture with its bytes in one wire format, made once for every viewer of that format before the hub shares
 * it: `wire` is what a viewer's socket sends for this picture (e.g. whole MPEG-TS packets, or the raw picture).
 */
export type MuxedPicture<P extends Picture = Picture> = P & {
  /** The bytes one WebSocket message carries for this picture. */
  readonly wire: Buffer;
  /** The wire format's `id` (`'mpegts'`, `'jsmp'`). */
  readonly format: string;
};
