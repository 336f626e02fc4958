import { join } from 'node:path';
import { asyncScheduler, interval, NEVER, timer, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { MAX_HELD_AUDIO, type AudioPacket } from '../audio/audio-codec';
import type { AudioHub } from '../audio/audio-hub';
import { DEFAULTS } from '../defaults';
import { gatherBetween } from '../operators/gather-between';
import type { Picture } from '../picture';
import { nodeRecorderFs, type RecorderFs } from './recorder-fs';
import { segmentsToDelete, type SegmentInfo } from './retention';
import { segmentFormatFor } from './segment-muxer';
import { parseSegmentName } from './segment-name';
import { SegmentWriter, type OpenSegment } from './segment-writer';
import { labelList, RECORDABLE } from '../codecs';

export interface RecorderOptions {
  /** The directory segments go into (created if missing). */
  readonly dir: string;
  /** A segment is cut at the first keyframe this long (ms of capture time) after its start. Default 60 s. */
  readonly segmentMs?: number;
  /** Delete segments whose last picture is older than this. Default: keep any age. */
  readonly keepMs?: number;
  /** Delete the oldest segments while all of them take more than this. Default: any size. */
  readonly maxBytes?: number;
  /** fsync the open segment this often (ms) while it gets pictures; 0: only when it closes. Default 2000. */
  readonly syncMs?: number;
  /**
   * Delete the oldest segments while the disk has less free than this: bytes, or a percentage of the disk
   * (`'5%'`); 0: no floor. Default `DEFAULTS.recordMinFree`.
   */
  readonly minFree?: number | string;
  /** While writing fails, try again this often. Default `DEFAULTS.recordRetryMs`. */
  readonly retryMs?: number;
  /** How often retention runs besides at each cut. Default `DEFAULTS.recordRetentionCheckMs`. */
  readonly retentionCheckMs?: number;
  /** Bytes waiting for the disk at most; beyond, pictures are dropped up to the next keyframe. */
  readonly maxQueuedBytes?: number;
  /** The stream's frame rate: a segment lasts until its last picture's capture time plus one frame. Default 24. */
  readonly fps?: number;
  /** Retry and retention timers, and `now` for the age of segments (a virtual-time scheduler in tests). */
  readonly scheduler?: SchedulerLike;
  /** The disk (tests inject failures). Default `node:fs/promises`. */
  readonly fs?: RecorderFs;
  /** One line per event: recording stopped (and why), resumed. */
  readonly log?: (level: 'info' | 'warn', message: string, details?: object) => void;
}

type Defaulted = 'segmentMs' | 'syncMs' | 'minFree' | 'retryMs' | 'retentionCheckMs' | 'maxQueuedBytes' | 'fps';

/** {@link RecorderOptions} with the defaults applied. */
type RecorderSettings = Required<Pick<RecorderOptions, Defaulted>>;

/**
 * The recorder's defaults, applied once, where a host constructs one (the plugin passes every value its schema
 * validated; a host using `Recorder` directly may leave them out).
 */
function recorderSettings(options: RecorderOptions): RecorderSettings {
  return {
    segmentMs: options.segmentMs ?? DEFAULTS.recordSegmentMs,
    syncMs: options.syncMs ?? DEFAULTS.recordSyncMs,
    minFree: options.minFree ?? DEFAULTS.recordMinFree,
    retryMs: options.retryMs ?? DEFAULTS.recordRetryMs,
    retentionCheckMs: options.retentionCheckMs ?? DEFAULTS.recordRetentionCheckMs,
    maxQueuedBytes: options.maxQueuedBytes ?? DEFAULTS.recordMaxQueuedBytes,
    fps: options.fps ?? DEFAULTS.fps,
  };
}

/** What a hub must offer to be recorded. */
export interface RecordableHub {
  readonly pictures$: Observable<Picture>;
  /** The server's sound: recorded beside the pictures, in the container's codec (`SegmentFormat.audio`). */
  readonly audio?: AudioHub;
  readonly codec: { readonly id: string; readonly label: string };
}

/** One recording, as `GET /recordings` lists it. */
export interface RecordingEntry extends SegmentInfo {
  /** Being written now: readable and playable up to its last complete picture. */
  readonly open: boolean;
}

/** Counters of a recorder (a plain object, updated in place). */
export interface RecorderStats {
  /** Segments opened (all time). */
  segments: number;
  /** Bytes written (all time). */
  bytes: number;
  /** Pictures not recorded because the disk fell behind (each drop lasts to the next keyframe). */
  dropped: number;
  /** Times writing failed and recording stopped (a retry that fails again does not count). */
  failures: number;
}

/**
 * The free-space floor in bytes on a disk of `total` bytes: `minFree` bytes, or its percentage of the disk.
 * @example
 * minFreeBytes('5%', 32e9); // 1.6e9
 */
export function minFreeBytes(minFree: number | string, total: number): number {
  if (typeof minFree === 'number') return minFree;
  return Math.ceil((total * Number(minFree.replace('%', ''))) / 100);
}

function reasonOf(err: unknown): string {
  // Duck-typed: errors of node:fs may come from another realm (vm contexts), where `instanceof Error` fails.
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

/**
 * Records a hub's pictures as they are (no second encode) in keyframe-aligned segments under `dir`: MPEG-TS for
 * MPEG-1, fragmented MP4 for H.264, named after the UTC capture time of their first picture.
 *
 * - **Never blocks the hub.** It is one more subscriber of `pictures$` (which keeps the camera on while it
 *   records); each picture is muxed at once and its bytes handed to a queue of asynchronous writes, one write per
 *   picture, so a file always ends on a whole picture. When more than `maxQueuedBytes` wait for the disk, it drops
 *   pictures up to the next keyframe rather than queue without bound.
 * - **Nothing written is lost.** A segment is fsynced and closed (and its directory fsynced) when the next one
 *   starts and on {@link stop}; the open one plays up to its last picture after a crash.
 * - **A failing disk degrades, never stops the stream.** The first failed write (ENOSPC, EACCES, EROFS, …) stops
 *   recording with one log line and {@link problem} says why (`/healthz` says `degraded`); every `retryMs` it tries
 *   again at the next keyframe, with a new segment, and says once that it resumed.
 * - **Retention** (`keepMs`, `maxBytes`, and the free-space floor `minFree`) deletes the oldest segments after each
 *   cut and every `retentionCheckMs`; never the open one.
 * - **A power cut loses little**: the open segment is fsynced every `syncMs` (2 s) while it gets pictures.
 *
 * @example
 * const recorder = new Recorder(hub, { dir: '/var/lib/pistream', segmentMs: 60_000, keepMs: 7 * 86_400_000 });
 * recorder.start();
 * // … on shutdown:
 * await recorder.stop();
 */
export class Recorder {
  readonly stats: RecorderStats = { segments: 0, bytes: 0, dropped: 0, failures: 0 };
  /** The options with every default applied, once, here (the plugin passes its validated values). */
  private readonly settings: RecorderSettings;
  private readonly frameMs: number;
  private readonly scheduler: SchedulerLike;
  private readonly fs: RecorderFs;
  private readonly subscriptions: Subscription[] = [];
  /** Segment files: the queue of disk operations, fsync-on-close, the open handles. */
  private readonly writer: SegmentWriter;
  private segment: OpenSegment | undefined;
  /** After a drop (or at the start): the next picture recorded is a keyframe. */
  private skipping = true;
  /** Skipping because the disk fell behind (those pictures count as dropped). */
  private behind = false;
  private failure: string | undefined;
  private retryDue = false;
  private retryTimer: Subscription | undefined;
  private retention: Promise<void> | undefined;
  private stopped = false;
  /** The open segment got bytes since its last fsync. */
  private unsynced = false;
  /** The container's sound frames, when the server has sound. */
  private readonly sound: Observable<AudioPacket> | undefined;

  constructor(
    private readonly hub: RecordableHub,
    private readonly options: RecorderOptions,
  ) {
    const format = segmentFormatFor(hub.codec);
    if (!format) throw new Error(`recording: pistream cannot record ${hub.codec.label} (it records ${labelList(RECORDABLE)})`);
    this.settings = recorderSettings(options);
    this.frameMs = 1000 / this.settings.fps;
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.fs = options.fs ?? nodeRecorderFs;
    const withSound = hub.audio !== undefined;
    this.sound = hub.audio?.packets(format.audio);
    const files = withSound ? { ...format, create: () => format.create(true) } : format;
    this.writer = new SegmentWriter(this.fs, options.dir, files, (err) => this.fail(err));
  }

  /** Why recording is stopped (the disk error, and that it retries), or undefined while it records. */
  get problem(): string | undefined {
    return this.failure === undefined
      ? undefined
      : `recording stopped: ${this.failure}; retrying every ${Math.round(this.retryMs / 100) / 10} s`;
  }

  /** The segment being written, if any. */
  get openSegment(): string | undefined {
    return this.segment?.file ? this.segment.name : undefined;
  }

  /** Full path of a segment name this recorder could have made (see {@link parseSegmentName}), else undefined. */
  pathOf(name: string): string | undefined {
    return parseSegmentName(name) ? join(this.options.dir, name) : undefined;
  }

  /** Subscribes to the hub's pictures (starting the camera, keeping it on) and starts the retention timer. */
  start(): void {
    if (this.subscriptions.length || this.stopped) return;
    this.subscriptions.push(
      this.hub.pictures$.pipe(gatherBetween(this.sound ?? NEVER, MAX_HELD_AUDIO)).subscribe({
        next: ({ value, side }) => this.record(value, side),
        // The hub's pictures end only when the hub closes (shutdown): finish the segment.
        error: () => this.closeOpenSegment(),
        complete: () => this.closeOpenSegment(),
      }),
    );
    const { retentionCheckMs, syncMs } = this.settings;
    if (this.hasRetention) this.subscriptions.push(interval(retentionCheckMs, this.scheduler).subscribe(() => void this.retain()));
    if (syncMs > 0) this.subscriptions.push(interval(syncMs, this.scheduler).subscribe(() => this.syncOpenSegment()));
  }

  /** Stops recording: unsubscribes, fsyncs and closes the open segment. Resolves when every file is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    this.retryTimer?.unsubscribe();
    this.closeOpenSegment();
    await this.settled();
  }

  /** Resolves once every disk operation queued so far (and a retention pass under way) has finished. */
  async settled(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.writer.tail;
      await tail;
      await this.retention;
    } while (tail !== this.writer.tail);
  }

  /** Every segment in the directory, oldest first (also those of earlier runs). */
  async list(): Promise<RecordingEntry[]> {
    const { dir } = this.options;
    let names: string[];
    try {
      names = await this.fs.readdir(dir);
    } catch {
      return [];
    }
    const entries: RecordingEntry[] = [];
    for (const name of names) {
      const parsed = parseSegmentName(name);
      if (!parsed) continue;
      try {
        const stat = await this.fs.stat(join(dir, name));
        if (!stat.isFile()) continue;
        const open = this.segment?.name === name && this.segment.file !== undefined;
        const endMs = open ? this.segment!.endMs : (this.writer.ends.get(name) ?? Math.max(parsed.startMs, stat.mtimeMs));
        entries.push({ name, startMs: parsed.startMs, endMs, size: stat.size, open });
      } catch {
        // Deleted while we looked.
      }
    }
    return entries.sort((a, b) => a.startMs - b.startMs);
  }

  private get retryMs(): number {
    return this.settings.retryMs;
  }

  /** One picture from the hub: decide (synchronously, cheaply), mux, queue the write. */
  private record(picture: Picture, audio: readonly AudioPacket[]): void {
    if (this.stopped) return;
    // Stopped by a failure: nothing until the retry timer says to try again (in a new segment).
    if (this.failure !== undefined && !this.retryDue && !this.segment) return;
    if (this.skipping && !picture.keyframe) {
      if (this.behind) this.stats.dropped++;
      return;
    }
    if (this.writer.queued + picture.data.length > this.settings.maxQueuedBytes) {
      // The disk is behind: drop this picture and everything up to the next keyframe (a decoder cannot use a
      // picture whose reference is missing), instead of letting the queue grow.
      this.stats.dropped++;
      this.skipping = true;
      this.behind = true;
      return;
    }
    const segment = this.segment;
    if (!segment || (picture.keyframe && picture.capturedAt - segment.startMs >= this.settings.segmentMs)) {
      if (segment) this.closeSegment(segment);
      this.openSegmentAt(picture);
    }
    this.skipping = false;
    this.behind = false;
    const open = this.segment!;
    const bytes = open.muxer.mux(picture, audio);
    open.endMs = picture.capturedAt + this.frameMs;
    this.writer.write(open, bytes, () => {
      this.stats.bytes += bytes.length;
      this.unsynced = true;
      if (this.failure !== undefined) {
        this.failure = undefined;
        this.options.log?.('info', `recording resumed: writing ${join(this.options.dir, open.name)}`, { segment: open.name });
      }
    });
  }

  private openSegmentAt(first: Picture): void {
    this.segment = this.writer.open(first);
    this.retryDue = false;
    this.stats.segments++;
  }

  /** fsyncs the open segment if it got bytes since the last time (queued behind its writes). */
  private syncOpenSegment(): void {
    if (!this.segment || !this.unsynced) return;
    this.unsynced = false;
    this.writer.sync(this.segment);
  }

  private closeSegment(segment: OpenSegment): void {
    if (this.segment === segment) this.segment = undefined;
    this.writer.close(segment, () => {
      if (!this.stopped) void this.retain();
    });
  }

  private closeOpenSegment(): void {
    if (this.segment) this.closeSegment(this.segment);
  }

  /**
   * Writing failed: stop recording with one log line (not again while retrying), keep what the file holds, and
   * try again every `retryMs` at the next keyframe, in a new segment.
   */
  private fail(err: unknown): void {
    this.writer.abandon();
    this.skipping = true;
    this.behind = false;
    this.segment = undefined;
    if (this.failure === undefined) {
      this.stats.failures++;
      this.failure = reasonOf(err);
      this.options.log?.('warn', `${this.problem} (streaming goes on)`, { dir: this.options.dir, error: this.failure });
    }
    this.retryDue = false;
    this.retryTimer?.unsubscribe();
    if (!this.stopped) this.retryTimer = timer(this.retryMs, this.scheduler).subscribe(() => (this.retryDue = true));
  }

  private get hasRetention(): boolean {
    return this.options.keepMs !== undefined || this.options.maxBytes !== undefined || (this.fs.statfs !== undefined && this.minFree !== 0);
  }

  private get minFree(): number | string {
    return this.settings.minFree;
  }

  /** How many bytes the disk is short of its free-space floor (0 when not, or when it cannot tell). */
  private async shortfall(): Promise<number> {
    if (!this.fs.statfs || this.minFree === 0) return 0;
    try {
      const { free, total } = await this.fs.statfs(this.options.dir);
      return Math.max(0, minFreeBytes(this.minFree, total) - free);
    } catch {
      return 0;
    }
  }

  /** Deletes what the retention policy and the free-space floor say, oldest first (one pass at a time). */
  private retain(): Promise<void> {
    const { keepMs, maxBytes, dir } = this.options;
    if (!this.hasRetention) return Promise.resolve();
    this.retention ??= (async () => {
      try {
        const reclaim = await this.shortfall();
        const policy = { keepMs, maxBytes, ...(reclaim > 0 ? { reclaimBytes: reclaim } : {}) };
        const doomed = segmentsToDelete(await this.list(), this.scheduler.now(), policy, this.segment?.name);
        for (const segment of doomed) {
          await this.fs.unlink(join(dir, segment.name)).catch(() => undefined);
          this.writer.ends.delete(segment.name);
        }
      } finally {
        this.retention = undefined;
      }
    })();
    return this.retention;
  }
}
