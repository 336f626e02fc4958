import { asyncScheduler, mergeMap, of, switchMap, timer, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { ChunkBuffer, cutChunks } from '../../operators/chunk-buffer';
import { scanStartCodes } from '../common/start-code';
import { NAL_TYPE, annexB, isVcl } from './nal';

/** One coded picture with its parameter sets, as {@link accessUnits} emits it. */
export interface AccessUnit {
  /** Annex B, a 4-byte start code before each NAL unit. */
  readonly data: Buffer;
  /** Scheduler time (ms) at which the unit's first byte arrived. */
  readonly arrivedAt: number;
}

export interface AccessUnitsOptions {
  /**
   * How long (ms) the input must stay silent, after bytes that plausibly end a picture, for the picture to be
   * emitted without waiting for the next one. Default {@link DEFAULT_IDLE_MS}.
   */
  readonly idleMs?: number;
  /** Clock for the idle timer and `arrivedAt` (default `asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
  /**
   * A chunk this long filled the reader's buffer, so more bytes were waiting: no idle flush after it. Default
   * 65536, the size of Node's pipe reads (and of a Linux pipe).
   */
  readonly fullChunkBytes?: number;
}

/**
 * 4 ms: a Pi writes each picture with one `fwrite` + `fflush`, so its bytes arrive within a fraction of a ms
 * of each other, while pictures are ≥ 16 ms apart (60 fps). The cost is 4 ms of latency per picture.
 */
export const DEFAULT_IDLE_MS = 4;

/** A NAL unit of the open access unit: `at` is its header byte, `end` its end (-1 while unknown). */
interface NalSpan {
  readonly at: number;
  end: number;
  /** Preceded by a 4-byte start code (`00 00 00 01`). */
  readonly long: boolean;
  readonly vcl: boolean;
}

/**
 * Does a NAL of this header (and first payload byte) begin a new access unit, after VCL data of the open one?
 * The simplified H.264 §7.4.1.2.3 rule: an AUD, SPS, PPS, SEI or a type 14–18 NAL does; a slice (or partition A)
 * does when it is a picture's first, `first_mb_in_slice` 0 — a `ue(v)` 0 is the single bit `1`, so the byte after
 * the header has its top bit set. (A Pi never uses arbitrary slice order, where this would not hold.)
 */
function startsAccessUnit(header: number, next: number): boolean {
  const type = header & 0x1f;
  if (type === NAL_TYPE.slice || type === NAL_TYPE.sliceDataA || type === NAL_TYPE.idr) return (next & 0x80) !== 0;
  return (type >= NAL_TYPE.sei && type <= NAL_TYPE.aud) || (type >= 14 && type <= 18);
}

/**
 * Cuts an H.264 Annex B byte stream, chunked anyhow, into access units. Pure and synchronous: {@link accessUnits}
 * is its RxJS face and owns the idle timer.
 *
 * A unit ends when the next begins (by {@link startsAccessUnit}), when the producer pauses after what plausibly
 * ends a picture ({@link idle}), or with the stream ({@link flush}). NAL units before a unit's first slice
 * (a Pi's SPS + PPS, written on their own before each IDR) belong to that unit. Units without a slice are
 * dropped at the end, as are bytes before the first start code.
 *
 * Each byte is scanned once; bytes are copied only when a unit spans chunks or needs its start codes made
 * 4 bytes long (x264 writes 3-byte ones before a picture's second and later slices); otherwise a unit is a view.
 *
 * @example
 * const assembler = new AccessUnitAssembler();
 * for (const chunk of chunks) for (const au of assembler.push(chunk, Date.now())) send(au.data);
 * for (const au of assembler.flush()) send(au.data);
 */
export class AccessUnitAssembler {
  /** Unconsumed input, each chunk tagged with the time it arrived. */
  private readonly bytes = new ChunkBuffer<number>();
  /** Start code prefixes beginning before this offset have been handled. */
  private scanPos = 0;
  private nals: NalSpan[] = [];
  private hasVcl = false;
  private arrivedAt = 0;
  private lastChunkFull = false;
  private out: AccessUnit[] = [];
  private readonly fullChunkBytes: number;
  private readonly found = (p: number): void => this.onStartCode(p);

  constructor(options: Pick<AccessUnitsOptions, 'fullChunkBytes'> = {}) {
    this.fullChunkBytes = options.fullChunkBytes ?? 65536;
  }

  /** Adds bytes that arrived at `now`; returns the units they complete, in stream order. */
  push(chunk: Buffer, now = 0): AccessUnit[] {
    if (chunk.length === 0) return [];
    const { bytes } = this;
    bytes.append(chunk, now);
    this.lastChunkFull = chunk.length >= this.fullChunkBytes;
    // A prefix at p is handled once p + 4, the byte after the NAL header, has arrived (first_mb_in_slice).
    this.scanPos = scanStartCodes(bytes, chunk, this.scanPos, bytes.end - 5, this.found);
    const open = this.nals[0];
    bytes.trim(open ? open.at - 4 : bytes.end - 5);
    return this.take();
  }

  /**
   * The input has been silent for a while: emits the open unit if the bytes so far plausibly end a picture.
   * That means all of: the unit has slice data; the last chunk did not fill the reader's buffer (a full read
   * says the writer had more: a picture larger than the pipe arrives in pieces, with a pause between them when
   * the reader is slow); no start code is still pending (its NAL header not in yet); and the last byte is not
   * zero (a NAL never ends in `00`: that is the start of a start code or of `cabac_zero_words`). A slice's end
   * cannot be told from its bytes without decoding it, so these rules narrow the risk, not remove it. Should
   * they misjudge, the rest of that picture is dropped up to the next start code, and the decoder conceals it.
   */
  idle(): AccessUnit[] {
    const { bytes } = this;
    if (!this.hasVcl || this.lastChunkFull || bytes.byteAt(bytes.end - 1) === 0) return [];
    for (let p = this.scanPos; p + 2 < bytes.end; p++) {
      if (bytes.byteAt(p) === 0 && bytes.byteAt(p + 1) === 0 && bytes.byteAt(p + 2) === 1) return [];
    }
    this.nals[this.nals.length - 1]!.end = bytes.end;
    this.emit();
    this.reset();
    return this.take();
  }

  /** The stream ended: emits the open unit if it has slice data. */
  flush(): AccessUnit[] {
    const open = this.nals[this.nals.length - 1];
    if (open) open.end = this.trimZeros(open.at, this.bytes.end);
    if (this.hasVcl) this.emit();
    this.nals = [];
    this.hasVcl = false;
    this.reset();
    return this.take();
  }

  private onStartCode(p: number): void {
    const { bytes } = this;
    const header = bytes.byteAt(p + 3);
    const open = this.nals[this.nals.length - 1];
    if (open) open.end = this.trimZeros(open.at, p);
    if (this.hasVcl && startsAccessUnit(header, bytes.byteAt(p + 4))) this.emit();
    const long = p - 1 >= Math.max(bytes.start, open ? open.end : 0) && bytes.byteAt(p - 1) === 0;
    if (this.nals.length === 0) this.arrivedAt = bytes.tagAt(long ? p - 1 : p) ?? 0;
    const vcl = isVcl(header & 0x1f);
    this.nals.push({ at: p + 3, end: -1, long, vcl });
    this.hasVcl ||= vcl;
  }

  /** Emits the open unit (its last NAL's end must be known) and starts an empty one. */
  private emit(): void {
    const spans = this.nals.filter((n) => n.end > n.at);
    this.nals = [];
    this.hasVcl = false;
    if (spans.length === 0) return;
    const first = spans[0]!;
    const lastSpan = spans[spans.length - 1]!;
    const contiguous = spans.every((n, k) => n.long && (k === 0 || n.at - 4 === spans[k - 1]!.end));
    const data = contiguous ? this.bytes.slice(first.at - 4, lastSpan.end) : annexB(spans.map((n) => this.bytes.slice(n.at, n.end)));
    this.out.push({ data, arrivedAt: this.arrivedAt });
  }

  /** Forgets everything buffered: what follows starts afresh. */
  private reset(): void {
    this.bytes.clear();
    this.scanPos = this.bytes.end;
  }

  /** End of the NAL that starts at `at` and is followed by a start code at `to`: trailing zeros dropped. */
  private trimZeros(at: number, to: number): number {
    let end = to;
    while (end > at && this.bytes.byteAt(end - 1) === 0) end--;
    return end;
  }

  private take(): AccessUnit[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/**
 * Turns raw H.264 Annex B (a camera's stdout, chunked anyhow) into access units, each emitted as soon as its end
 * is known: when the next unit begins by the NAL rules, or — so that no picture waits for the next one —
 * `idleMs` after the input falls silent on bytes that plausibly end a picture (see
 * {@link AccessUnitAssembler.idle}). Before the silence counts, a timer that fired late (by more than `idleMs`:
 * the event loop was busy, so bytes may sit unread in the pipe) gets one more turn of the loop. Errors pass
 * through (the open unit is discarded); on completion the open unit is emitted.
 *
 * @example
 * fromChildProcess('rpicam-vid', args).pipe(accessUnits(), ensureZeroReorder()).subscribe((au) => …);
 */
export function accessUnits(options: AccessUnitsOptions = {}): OperatorFunction<Buffer, AccessUnit> {
  const { idleMs = DEFAULT_IDLE_MS, scheduler = asyncScheduler } = options;
  return cutChunks(() => {
    const assembler = new AccessUnitAssembler(options);
    let lastByteAt = 0;
    const quiet = () =>
      timer(idleMs, scheduler).pipe(
        // A timer runs before the loop polls for I/O: a 0 ms timer set now runs after the next poll.
        mergeMap(() => (scheduler.now() - lastByteAt > 2 * idleMs ? timer(0, scheduler) : of(0))),
      );
    return {
      push: (chunk: Buffer) => {
        lastByteAt = scheduler.now();
        return assembler.push(chunk, lastByteAt);
      },
      flush: () => assembler.flush(),
      // Each chunk re-arms the silence timer (cutChunks calls push first).
      quiet: (chunks$) => chunks$.pipe(switchMap(quiet)),
      idle: () => assembler.idle(),
    };
  });
}
