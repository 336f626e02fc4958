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
  /**
   * Hands `data` back to the source that made it, to be filled with a later frame (see {@link FramePool}). Only a
   * frame's one consumer may call it, once, when nothing will read `data` again: pistream's encoders do, as soon as
   * ffmpeg has the bytes. A consumer that never calls it keeps the bytes for ever, as with any frame; if you send
   * a source's frames to other consumers as well as an encoder, give the encoder frames without `release`.
   */
  readonly release?: () => void;
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

/**
 * Frame buffers of one size, used again once their consumer is done with them. A raw source makes a frame's worth
 * of bytes for every frame (460 KB at 640x480, 11 MB/s at 24 fps); fresh buffers for each would be memory outside
 * V8's heap that only garbage collection gives back, and V8 answers that much of it with a full mark-compact every
 * second or so, whose cost grows with everything else on the heap: with a thousand viewers connected, that was the
 * largest part of pistream's CPU per viewer (bench/README.md, "Where the time goes"). A buffer comes back only
 * through its frame's `release()`, so a frame nobody releases is never overwritten.
 *
 * @example
 * const pool = new FramePool(yuv420Size(640, 480));
 * const data = pool.take();             // a free buffer, else a new one
 * const frame = { data, width: 640, height: 480, seq, capturedAt, release: pool.releaser(data) };
 */
export class FramePool {
  private readonly free: Buffer[] = [];

  constructor(
    /** Bytes in each buffer. */
    readonly size: number,
    /** Released buffers kept for reuse; any more are left to the garbage collector. */
    readonly keep = 4,
  ) {}

  /** A buffer of `size` bytes (old contents: overwrite all of it). */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** The `release` for a frame holding `buffer`: gives it back once, however often it is called. */
  releaser(buffer: Buffer): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.free.length < this.keep) this.free.push(buffer);
    };
  }

  /** Buffers waiting to be used again. */
  get available(): number {
    return this.free.length;
  }
}
