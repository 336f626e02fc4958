import { asyncScheduler, defer, mergeMap, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { assertFrameSize, FramePool, yuv420Size, type Frame } from '../frame';

/** `n` rounded up to a multiple of `alignment`. */
export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

export interface RawFramesOptions {
  readonly width: number;
  readonly height: number;
  /** Bytes per luma row in the stream (default `width`); chroma rows are `stride / 2`. */
  readonly stride?: number;
  /** Luma rows per frame in the stream (default `height`); chroma planes have `paddedHeight / 2` rows. */
  readonly paddedHeight?: number;
  /** Whose `now()` gives each frame's `capturedAt` (default `asyncScheduler`). */
  readonly scheduler?: Pick<SchedulerLike, 'now'>;
}

/** One plane of the padded layout: where it starts in the stream, how its rows are laid out, where it goes. */
interface Plane {
  readonly start: number;
  readonly stride: number;
  readonly rows: number;
  readonly width: number;
  readonly out: number;
}

/**
 * The pure part of {@link rawFrames}: takes the byte stream in whatever chunks it comes and returns the frames
 * each chunk completes. Bytes are copied straight from the chunks into the frame (padding skipped), never
 * gathered in an intermediate buffer first, and into the buffer of a frame released earlier when there is one.
 */
export class FrameAssembler {
  /** Bytes of one frame as the source writes it, padding included. */
  readonly paddedSize: number;
  private readonly size: number;
  private readonly padded: boolean;
  private readonly planes: readonly Plane[];
  /** How many bytes of the current frame (padded offsets) have arrived. */
  private filled = 0;
  private current: Buffer | undefined;
  private seq = 0;
  /** Buffers of released frames (the encoder has written them), filled again instead of allocating. */
  private readonly pool: FramePool;

  constructor(
    private readonly width: number,
    private readonly height: number,
    stride = width,
    paddedHeight = height,
    private readonly scheduler: Pick<SchedulerLike, 'now'> = asyncScheduler,
  ) {
    assertFrameSize(width, height, 'raw frames');
    if (!Number.isInteger(stride) || stride < width || stride % 2 !== 0) {
      throw new RangeError(`stride must be an even whole number of at least the width (${width}), got ${stride}`);
    }
    if (!Number.isInteger(paddedHeight) || paddedHeight < height || paddedHeight % 2 !== 0) {
      throw new RangeError(`paddedHeight must be an even whole number of at least the height (${height}), got ${paddedHeight}`);
    }
    const ySize = stride * paddedHeight;
    const cSize = (stride / 2) * (paddedHeight / 2);
    const yOut = width * height;
    const cOut = (width / 2) * (height / 2);
    this.planes = [
      { start: 0, stride, rows: height, width, out: 0 },
      { start: ySize, stride: stride / 2, rows: height / 2, width: width / 2, out: yOut },
      { start: ySize + cSize, stride: stride / 2, rows: height / 2, width: width / 2, out: yOut + cOut },
    ];
    this.paddedSize = ySize + 2 * cSize;
    this.size = yuv420Size(width, height);
    this.padded = this.paddedSize !== this.size;
    this.pool = new FramePool(this.size);
  }

  /** Feeds one chunk; returns the frames whose last byte was in it (often none, sometimes several). */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (!this.padded && this.filled === 0 && chunk.length - at >= this.size) {
        // The common camera case (width a multiple of the stride alignment): the frame is already tightly
        // packed and whole in this chunk, so it is a view of the chunk, not a copy.
        frames.push(this.emit(chunk.subarray(at, at + this.size)));
        at += this.size;
        continue;
      }
      const take = Math.min(this.paddedSize - this.filled, chunk.length - at);
      this.current ??= this.pool.take();
      this.copyKept(chunk, at, this.filled, this.filled + take, this.current);
      at += take;
      this.filled += take;
      if (this.filled === this.paddedSize) {
        frames.push(this.emit(this.current, this.pool.releaser(this.current)));
        this.current = undefined;
        this.filled = 0;
      }
    }
    return frames;
  }

  /** A frame of `data`; one copied into a buffer of ours can hand it back with `release` (a view of a chunk cannot). */
  private emit(data: Buffer, release?: () => void): Frame {
    const frame = { data, width: this.width, height: this.height, seq: this.seq++, capturedAt: this.scheduler.now() };
    return release ? { ...frame, release } : frame;
  }

  /**
   * Copies the kept part (not padding) of the padded frame bytes `[from, to)`, which sit in `chunk` at `at`,
   * into `out` at their tightly packed places.
   */
  private copyKept(chunk: Buffer, at: number, from: number, to: number, out: Buffer): void {
    if (!this.padded) {
      chunk.copy(out, from, at, at + to - from);
      return;
    }
    for (const p of this.planes) {
      const lo = Math.max(from, p.start);
      const hi = Math.min(to, p.start + p.stride * p.rows);
      if (lo >= hi) continue;
      const lastRow = Math.floor((hi - 1 - p.start) / p.stride);
      for (let row = Math.floor((lo - p.start) / p.stride); row <= lastRow; row++) {
        const rowStart = p.start + row * p.stride;
        const keepLo = Math.max(lo, rowStart);
        const keepHi = Math.min(hi, rowStart + p.width);
        if (keepLo < keepHi) {
          chunk.copy(out, p.out + row * p.width + (keepLo - rowStart), at + keepLo - from, at + keepHi - from);
        }
      }
    }
  }
}

/**
 * Turns a raw planar I420 byte stream, chunked anyhow (a camera's stdout), into {@link Frame}s, cropping the row
 * padding a camera adds: a padded frame is Y `stride × paddedHeight`, then U and V `stride/2 × paddedHeight/2`
 * each. Frames are numbered from 0 and stamped with `scheduler.now()` when their last byte arrives. A partial frame left
 * when the stream completes is dropped (the camera stopped mid-frame).
 *
 * @example
 * fromChildProcess('rpicam-vid', args).pipe(rawFrames({ width: 780, height: 480, stride: 832 }));
 */
export function rawFrames(options: RawFramesOptions): OperatorFunction<Buffer, Frame> {
  const { width, height, stride, paddedHeight, scheduler } = options;
  // Validate eagerly, so a bad size throws where the pipeline is built rather than on subscribe.
  void new FrameAssembler(width, height, stride, paddedHeight, scheduler);
  return (source) =>
    defer(() => {
      const assembler = new FrameAssembler(width, height, stride, paddedHeight, scheduler);
      return source.pipe(mergeMap((chunk) => assembler.push(chunk)));
    });
}
