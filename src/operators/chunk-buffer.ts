import {
  concatWith,
  connect,
  defer,
  endWith,
  ignoreElements,
  merge,
  mergeMap,
  takeUntil,
  type Observable,
  type OperatorFunction,
} from 'rxjs';

/**
 * The bytes of a stream that arrives in chunks (a pipe's reads), kept as the chunks themselves, addressed by
 * absolute stream offset: a parser cuts units out of it without first joining the chunks. A unit that lies in
 * one chunk comes out as a view of it; only a unit that spans chunks is copied, once. Each chunk may carry a tag
 * (the time it arrived).
 *
 * @example
 * const bytes = new ChunkBuffer<number>();
 * bytes.append(chunk, now);
 * const unit = bytes.slice(start, end); // a view, or one copy when it spans chunks
 * bytes.trim(end);                      // forget the chunks wholly before `end`
 */
export class ChunkBuffer<Tag = undefined> {
  private bufs: Buffer[] = [];
  private tags: Tag[] = [];
  private first = 0;
  private past = 0;

  /** Absolute offset of the first byte still held. */
  get start(): number {
    return this.first;
  }

  /** Absolute offset just past the last byte appended (every byte ever appended counts). */
  get end(): number {
    return this.past;
  }

  /** How many chunks are held (a chunk goes once every byte of it is trimmed). */
  get chunks(): number {
    return this.bufs.length;
  }

  /** Adds a chunk at the end (an empty one is ignored). */
  append(chunk: Buffer, tag?: Tag): void {
    if (chunk.length === 0) return;
    this.bufs.push(chunk);
    this.tags.push(tag as Tag);
    this.past += chunk.length;
  }

  /** The byte at an absolute offset that is still held; searched from the end, where parsers look. */
  byteAt(at: number): number {
    let end = this.past;
    for (let k = this.bufs.length - 1; k >= 0; k--) {
      const buf = this.bufs[k]!;
      const start = end - buf.length;
      if (at >= start) return buf[at - start]!;
      end = start;
    }
    throw new RangeError(`byte ${at} is no longer buffered`);
  }

  /** The tag of the chunk holding an absolute offset (the last chunk's for an offset past the end). */
  tagAt(at: number): Tag | undefined {
    let start = this.first;
    for (let k = 0; k < this.bufs.length; k++) {
      const length = this.bufs[k]!.length;
      if (at < start + length) return this.tags[k];
      start += length;
    }
    return this.tags[this.tags.length - 1];
  }

  /** Bytes [from, to) as one buffer: a view when they lie in one chunk, else one copy. */
  slice(from: number, to: number): Buffer {
    const pieces: Buffer[] = [];
    let start = this.first;
    for (const buf of this.bufs) {
      const end = start + buf.length;
      if (end > from && start < to) pieces.push(buf.subarray(Math.max(from, start) - start, Math.min(to, end) - start));
      if (end >= to) break;
      start = end;
    }
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, to - from);
  }

  /** Forgets the chunks that end at or before `keepFrom`. */
  trim(keepFrom: number): void {
    let drop = 0;
    while (drop < this.bufs.length && this.first + this.bufs[drop]!.length <= keepFrom) {
      this.first += this.bufs[drop]!.length;
      drop++;
    }
    if (drop > 0) {
      this.bufs.splice(0, drop);
      this.tags.splice(0, drop);
    }
  }

  /** Forgets everything held: what follows starts afresh (offsets keep counting). */
  clear(): void {
    this.bufs = [];
    this.tags = [];
    this.first = this.past;
  }
}

/**
 * A parser that cuts a chunked stream into units: one per subscription, holding its bytes (in a
 * {@link ChunkBuffer}) between chunks. `push` returns the units a chunk completes, `flush` those the end of the
 * stream completes. Where a unit's end can only be guessed from a pause, `quiet` says when the input is silent
 * (from the chunks, by a scheduler) and `idle` returns what the silence completes.
 */
export interface ChunkCutter<T, U> {
  push(chunk: T): readonly U[];
  flush(): readonly U[];
  quiet?(chunks$: Observable<T>): Observable<unknown>;
  idle?(): readonly U[];
}

/**
 * Cuts a chunked byte stream into units with a fresh {@link ChunkCutter} per subscription: each chunk's units as
 * soon as it completes them, then (on completion) what the end of the stream completes; with `quiet` and `idle`,
 * also what a silence completes, until the source ends. Errors pass through, and the unfinished unit goes with
 * the cutter. Nothing is buffered here beyond what the cutter keeps, so no picture waits for an operator.
 *
 * @example
 * stdout$.pipe(cutChunks(() => {
 *   const splitter = new PictureSplitter();
 *   return { push: (chunk) => splitter.push(chunk), flush: () => splitter.flush() };
 * }));
 */
export function cutChunks<T, U>(create: () => ChunkCutter<T, U>): OperatorFunction<T, U> {
  return (source) =>
    defer(() => {
      const cutter = create();
      const cut$: Observable<U> =
        cutter.quiet && cutter.idle
          ? source.pipe(
              // connect: both branches see every chunk, the first (which cuts) before the second (which re-arms).
              connect((chunks$) =>
                merge(
                  chunks$.pipe(mergeMap((chunk) => cutter.push(chunk))),
                  cutter.quiet!(chunks$).pipe(
                    takeUntil(chunks$.pipe(ignoreElements(), endWith(0))),
                    mergeMap(() => cutter.idle!()),
                  ),
                ),
              ),
            )
          : source.pipe(mergeMap((chunk) => cutter.push(chunk)));
      // The stream's end is the last unit's end.
      return cut$.pipe(concatWith(defer(() => cutter.flush())));
    });
}
