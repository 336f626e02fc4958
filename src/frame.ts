/**
 * One raw camera frame: YUV 4:2:0 planar (I420), tightly packed — Y plane `width × height`, then U and V
 * planes of `width/2 × height/2` each, no row padding.
 */
export interface Frame {
  /** `width * height * 3 / 2` bytes of I420. */
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  /** Frame number at the source, counting from 0. */
  readonly seq: number;
  /** When the frame was captured, in ms since the Unix epoch. */
  readonly capturedAt: number;
}

/** Which source frame a picture encodes: what travels through an encoder beside the pixels. */
export type FrameMeta = Pick<Frame, 'seq' | 'capturedAt'>;

/** Size in bytes of one tightly packed I420 frame. */
export function yuv420Size(width: number, height: number): number {
  return width * height + 2 * ((width >> 1) * (height >> 1));
}

/**
 * Throws a clear error unless `width × height` is a size MPEG-1 and I420 can carry (even, 2…4094).
 * @param what names the thing being checked, for the message (e.g. `'test pattern'`).
 */
export function assertFrameSize(width: number, height: number, what = 'frame'): void {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 2 || v > 4094 || v % 2 !== 0) {
      throw new RangeError(`${what} ${name} must be an even whole number from 2 to 4094, got ${v}`);
    }
  }
}
