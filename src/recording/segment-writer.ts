import { join } from 'node:path';
import type { Picture } from '../picture';
import type { RecorderFs, SegmentFile } from './recorder-fs';
import type { SegmentFormat, SegmentMuxer } from './segment-muxer';
import { segmentName } from './segment-name';

/** A segment of this run: its muxer, what the listing says of it, and its file while open. */
export interface OpenSegment {
  name: string;
  readonly startMs: number;
  endMs: number;
  size: number;
  readonly muxer: SegmentMuxer;
  file?: SegmentFile;
}

/**
 * The recorder's disk side: one queue of asynchronous operations (create, write, fsync and close) run one after
 * another, in order, so a file always ends on a whole picture and a segment is fsynced and closed (and its
 * directory fsynced) before it counts as written. The first failed operation goes to `onError`; {@link abandon}
 * then skips everything queued before it.
 */
export class SegmentWriter {
  /** The end of the chain of disk operations: they run one after another, in order. */
  private chain: Promise<void> = Promise.resolve();
  private waiting = 0;
  /** Bumped on each failure: operations queued before it are skipped. */
  private generation = 0;
  /** End times of segments written in this run (a segment from an earlier run ends at its mtime). */
  readonly ends = new Map<string, number>();
  /** Segments with an open file handle (more than one only while a cut's close waits behind writes). */
  private readonly files = new Set<OpenSegment>();

  constructor(
    private readonly fs: RecorderFs,
    private readonly dir: string,
    private readonly format: SegmentFormat,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The last disk operation queued so far: it settles after all the others. */
  get tail(): Promise<void> {
    return this.chain;
  }

  /** Bytes waiting for the disk. */
  get queued(): number {
    return this.waiting;
  }

  /** A new segment starting at `first`; its file is created (in `dir`, made if missing) in turn. */
  open(first: Picture): OpenSegment {
    const segment: OpenSegment = {
      name: segmentName(first.capturedAt, this.format.ext),
      startMs: first.capturedAt,
      endMs: first.capturedAt,
      size: 0,
      muxer: this.format.create(),
    };
    this.enqueue(0, async () => {
      await this.fs.mkdir(this.dir);
      // A clock set back (a Pi without a real-time clock, before NTP) can meet an earlier run's name: never
      // overwrite footage, take the next free millisecond instead.
      for (let bump = 1; ; bump++) {
        try {
          segment.file = await this.fs.create(join(this.dir, segment.name));
          this.files.add(segment);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || bump > 1000) throw err;
          segment.name = segmentName(segment.startMs + bump, this.format.ext);
        }
      }
    });
    return segment;
  }

  /** Appends one picture's bytes to the segment's file, then calls `written`. */
  write(segment: OpenSegment, bytes: Buffer, written: () => void): void {
    this.enqueue(bytes.length, async () => {
      await segment.file!.write(bytes);
      segment.size += bytes.length;
      written();
    });
  }

  /** fsyncs the segment's file as it is (the open segment, every few seconds: a power cut loses at most that). */
  sync(segment: OpenSegment): void {
    this.enqueue(0, async () => {
      await segment.file?.sync();
    });
  }

  /** fsyncs and closes the segment's file and fsyncs the directory, then calls `closed`. */
  close(segment: OpenSegment, closed: () => void): void {
    this.enqueue(0, async () => {
      if (!segment.file) return;
      const file = segment.file;
      await file.sync();
      await file.close();
      segment.file = undefined;
      this.files.delete(segment);
      this.ends.set(segment.name, segment.endMs);
      // The new file's directory entry, too (best effort: not every file system can fsync a directory).
      await this.fs.syncDir(this.dir).catch(() => undefined);
      closed();
    });
  }

  /**
   * After a failure: skips every operation queued so far and closes every handle, keeping what the files hold
   * (a file that got nothing is deleted).
   */
  abandon(): void {
    this.generation++;
    // Every handle is closed here: the operations that would have closed them were queued before the failure and
    // are skipped. Closing keeps what was written; a file that got nothing (a retry on a full disk) is litter.
    for (const segment of this.files) {
      const { file } = segment;
      segment.file = undefined;
      this.files.delete(segment);
      this.chain = this.chain.then(() =>
        file!
          .close()
          .catch(() => undefined)
          .then(() => (segment.size === 0 ? this.fs.unlink(join(this.dir, segment.name)) : void this.ends.set(segment.name, segment.endMs)))
          .catch(() => undefined),
      );
    }
  }

  /** Queues a disk operation behind the others; a failure goes to `onError` (see {@link abandon}). */
  private enqueue(bytes: number, operation: () => Promise<void>): void {
    const generation = this.generation;
    this.waiting += bytes;
    this.chain = this.chain.then(async () => {
      try {
        if (generation === this.generation) await operation();
      } catch (err) {
        if (generation === this.generation) this.onError(err);
      } finally {
        this.waiting -= bytes;
      }
    });
  }
}
