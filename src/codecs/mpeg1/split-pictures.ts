import { asyncScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { FrameMeta } from '../../frame';
import { MPEG1_ID, type Mpeg1Picture } from './mpeg1-picture';
import { ChunkBuffer, cutChunks } from '../../operators/chunk-buffer';
import { scanStartCodes } from '../common/start-code';
import { START_CODE, describePicture } from './start-codes';

/**
 * MPEG-1 bytes whose end the encoder's framing vouches for: `data` ends exactly where a picture ends (e.g. one
 * `mpjpeg` part, whose `Content-length` says so). It may continue a picture begun in earlier input and may hold
 * several pictures. The last of them is emitted at once instead of when the next one begins: MPEG-1 has no
picture length, so a splitter alone learns of a picture's end only when the next one starts, a whole frame later.
 * `meta`, when given, is the frame that last picture encodes; it wins over {@link SplitPicturesOptions.meta}.
 */
export interface Chunk {
  readonly data: Buffer;
  readonly meta?: FrameMeta;
}

export interface SplitPicturesOptions {
  /**
   * The frame the `index`-th picture (from 0, counting every picture in the stream) encodes. With `-bf 0` the
   * n-th picture is the n-th frame the encoder accepted, and the encoder owns that queue.
   * Default: `{ seq: index, capturedAt: scheduler.now() }`.
   */
  readonly meta?: (index: number) => FrameMeta;
  /** Clock for the default `capturedAt`, in ms since the epoch (default `asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
  /** Frame size for pictures that come before any sequence header (otherwise they are dropped). */
  readonly width?: number;
  readonly height?: number;
}

/** Starts a new picture, unless the open picture has not reached its picture header yet. */
function isPictureHeaderCode(code: number): boolean {
  return code === START_CODE.sequenceHeader || code === START_CODE.group || code === START_CODE.picture;
}

/**
 * Cuts an MPEG-1 video elementary stream, chunked anyhow, into coded pictures. Pure and synchronous.
 *
 * A picture runs from its first header start code (sequence header `B3`, GOP `B8`, or picture `00` when no header
 * precedes it) to the first header of the next picture, or through a sequence end code (`B7`), which closes it.
 * Bytes before the first header (and between a sequence end and the next header) are dropped: they are no
 * picture, so a decoder could not use them. So is a run of headers that ends with no picture header in it.
 * Every buffer returned holds a picture start code.
 *
 * Each byte is scanned once (a scan offset carries over chunks, with at most 3 bytes of a split start code kept
 * back), and bytes are copied only when a picture spans chunks (a {@link ChunkBuffer}): otherwise it is a
 * `subarray` of its chunk.
 *
 * @example
 * const splitter = new PictureSplitter();
 * for (const chunk of chunks) for (const picture of splitter.push(chunk)) send(picture);
 * for (const picture of splitter.flush()) send(picture); // the last picture ends with the stream
 */
export class PictureSplitter {
  /** Unconsumed input, kept from the open picture's first byte (or the last 3 bytes, when none is open). */
  private readonly bytes = new ChunkBuffer();
  /** Start codes beginning before this absolute offset have been handled (or cannot exist). */
  private scanPos = 0;
  /** Absolute offset of the open picture's first header, or -1 when no picture is open. */
  private openAt = -1;
  /** The open picture has passed its picture start code, so the next header starts the next picture. */
  private seenPicture = false;
  private out: Buffer[] = [];
  private readonly found = (at: number): void => this.onStartCode(at, this.bytes.byteAt(at + 3));

  /** Adds bytes; returns the pictures they complete, in stream order. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    const { bytes } = this;
    bytes.append(chunk);
    // A start code at p is known once p + 3, its code byte, has arrived.
    this.scanPos = scanStartCodes(bytes, chunk, this.scanPos, bytes.end - 4, this.found);
    // Keep the open picture, or (when none is open) the last 3 bytes, which may begin a start code.
    bytes.trim(this.openAt >= 0 ? this.openAt : bytes.end - 3);
    return this.take();
  }

  /** The stream (or the encoder's framing) says the open picture ends here: returns it, if it has a picture. */
  flush(): Buffer[] {
    const { bytes } = this;
    if (this.openAt >= 0 && this.seenPicture) this.out.push(bytes.slice(this.openAt, bytes.end));
    this.openAt = -1;
    this.seenPicture = false;
    // Nothing before this point can belong to a later picture, not even the tail of a start code prefix.
    bytes.clear();
    this.scanPos = bytes.end;
    return this.take();
  }

  private onStartCode(at: number, code: number): void {
    if (this.openAt < 0) {
      if (isPictureHeaderCode(code)) this.open(at, code);
    } else if (code === START_CODE.sequenceEnd) {
      // The end code belongs to the picture it closes: the picture goes now, not when the next sequence begins.
      if (this.seenPicture) this.out.push(this.bytes.slice(this.openAt, at + 4));
      this.openAt = -1;
      this.seenPicture = false;
    } else if (!this.seenPicture) {
      // Sequence and GOP headers lead up to the picture header of the same picture.
      if (code === START_CODE.picture) this.seenPicture = true;
    } else if (isPictureHeaderCode(code)) {
      this.out.push(this.bytes.slice(this.openAt, at));
      this.open(at, code);
    }
  }

  private open(at: number, code: number): void {
    this.openAt = at;
    this.seenPicture = code === START_CODE.picture;
  }

  private take(): Buffer[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/**
 * Turns MPEG-1 video (`-f mpeg1video` output, chunked anyhow) into {@link Mpeg1Picture}s, each emitted as soon as its
 * end is known: when the next picture's header begins, when a {@link Chunk} says the encoder's framing ended it,
 * or when the source completes. Type and keyframe come from the picture's headers; width and height from the
 * last sequence header seen (or the options' defaults; pictures of unknown size are dropped, as a decoder could
 * not start there anyway); `seq` and `capturedAt` from the chunk's `meta`, else `options.meta(index)`.
 * On error the unfinished picture is discarded.
 *
 * @example
 * const frames: FrameMeta[] = []; // the encoder pushes each frame it accepts
 * encoderStdout$.pipe(splitPictures({ meta: (i) => frames[i]! })).subscribe((picture) => hub.next(picture));
 */
export function splitPictures(options: SplitPicturesOptions = {}): OperatorFunction<Buffer | Chunk, Mpeg1Picture> {
  const { meta, scheduler = asyncScheduler } = options;
  return cutChunks(() => {
    const splitter = new PictureSplitter();
    let index = 0;
    let width = options.width;
    let height = options.height;

    const toPictures = (buffers: Buffer[], lastMeta?: FrameMeta): Mpeg1Picture[] => {
      const pictures: Mpeg1Picture[] = [];
      buffers.forEach((data, k) => {
        // Every picture counts, kept or not, so that index n stays the n-th frame the encoder accepted.
        const i = index++;
        const info = describePicture(data);
        if (info?.width !== undefined) {
          width = info.width;
          height = info.height;
        }
        if (info === undefined || width === undefined || height === undefined) return;
        const frame = (k === buffers.length - 1 ? lastMeta : undefined) ?? meta?.(i) ?? { seq: i, capturedAt: scheduler.now() };
        const { seq, capturedAt } = frame;
        pictures.push({ data, codec: MPEG1_ID, type: info.type, keyframe: info.keyframe, seq, capturedAt, width, height });
      });
      return pictures;
    };

    return {
      push: (input) =>
        Buffer.isBuffer(input)
          ? toPictures(splitter.push(input))
          : toPictures([...splitter.push(input.data), ...splitter.flush()], input.meta),
      // The stream's end is the last picture's end.
      flush: () => toPictures(splitter.flush()),
    };
  });
}
