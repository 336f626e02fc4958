import {
  Observable,
  asyncScheduler,
  concatWith,
  defer,
  finalize,
  ReplaySubject,
  share,
  Subject,
  takeUntil,
  tap,
  throwError,
  timeout,
  timer,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { Codec, EncodeOptions } from './codecs/codec';
import { createEncoderCounters, type EncoderCounters } from './codecs/codec';
import { mpeg1 } from './codecs/mpeg1/mpeg1-codec';
import { DEFAULTS } from './defaults';
import { FORMATS } from './formats';
import { carries, type MuxedSound, type WireFormat } from './formats/wire-format';
import type { Frame } from './frame';
import { counted } from './operators/counted';
import { gopCache, replayGop, type Gop } from './operators/gop-cache';
import { retryWithBackoff } from './operators/retry-with-backoff';
import type { MuxedPicture, Picture } from './picture';
import type { AudioHub } from './audio/audio-hub';

export interface HubOptions {
  /** The frames to encode: any `Observable<Frame>` (a camera source, the test pattern, your own). */
  readonly source?: Observable<Frame>;
  /**
   * Instead of `source`: pictures from a camera that encodes by itself (the Pi's hardware H.264 encoder), already
   * the codec's. Spawned on the first subscriber and killed after the last, restarted on failure, like `source`
   * and the encoder; `encoder` still describes the stream (size, rate).
   */
  readonly encodedSource?: Observable<Picture>;
  /** The codec to encode with. Default: MPEG-1. */
  readonly codec?: Codec;
  /** Encoder settings (size and fps must match the source's frames), checked by the codec's schema; `spawn`/`onSpawn` for tests. */
  readonly encoder: Omit<EncodeOptions, 'counters'>;
  /** The wire formats viewers may ask for. Default: every format that carries the codec. */
  readonly formats?: readonly WireFormat[];
  /** How long the source and encoder keep running after the last subscriber leaves. Default 5000 ms. */
  readonly graceMs?: number;
  /**
   * A restart waits `initialDelayMs`, doubling per consecutive failure up to `maxDelayMs`. The count of consecutive
   * failures goes back to zero only after `healthyMs` of pictures without a failure, so a pipeline that crashes a
   * moment after each start still backs off. Defaults 500, 10 000 and 60 000 ms.
   */
  readonly restart?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number; readonly healthyMs?: number };
  /** No picture for this long while running counts as a failure (a frozen camera or encoder). Default 5000 ms. */
  readonly watchdogMs?: number;
  /** Told about each failure before the restart: the error, the consecutive failure count (1, 2, …), the delay. */
  readonly onRestart?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Scheduler for the grace period, backoff and watchdog (a TestScheduler in marble tests). */
  readonly scheduler?: SchedulerLike;
  /** Replaces `codec.encode(encoder)` (tests, or a camera that encodes by itself). */
  readonly encode?: OperatorFunction<Frame, Picture>;
  /** Sound: each format that carries audio gets its codec's frames from here, encoded while the format has viewers. */
  readonly audio?: AudioHub;
}

/** One pipeline failure, as {@link Hub.restarts$} tells it. */
export interface HubRestart {
  readonly error: unknown;
  /** Failures in a row, 1 for the first. */
  readonly attempt: number;
  readonly delayMs: number;
}

/** Live counters of a hub (a plain object, updated in place). */
export interface HubStats extends EncoderCounters {
  /** Subscribers (viewers) now. */
  subscribers: number;
  /** Whether the pipeline is on (source and encoder running, or waiting to restart after a failure). */
  running: boolean;
  /** `idle`: off (nobody watching); `running`: started; `restarting`: failed, waiting until `nextAttemptAt`. */
  state: 'idle' | 'running' | 'restarting';
  /** Pipeline restarts after a failure (all time). */
  restarts: number;
  /** Consecutive failures: 0 once the pipeline has run `healthyMs` without one. The backoff grows with it. */
  failures: number;
  /** While `restarting`: when the next attempt starts (`scheduler.now()`), else undefined. */
  nextAttemptAt: number | undefined;
  /** The last failure's message, until the next picture. */
  lastError: string | undefined;
  /** When the last picture came out of the encoder (`scheduler.now()`: ms since the epoch), or 0. */
  lastPictureAt: number;
  /** Bytes muxed per wire format (only formats that had viewers muxed anything). */
  readonly wireBytes: Record<string, number>;
}

export interface Hub {
  /**
   * The shared pictures, codec-level. Every subscriber starts with the current GOP (from its keyframe, at once);
   * the source and encoder start with the first subscriber and stop `graceMs` after the last.
   */
  readonly pictures$: Observable<Picture>;
  /**
   * The shared pictures with their bytes in one wire format, muxed once per picture for all its viewers, only
   * while the format has viewers. Starts at the current GOP's keyframe, like `pictures$`. Throws for a format
   * the hub was not given.
   */
  stream(format: WireFormat | string): Observable<MuxedPicture>;
  /**
   * The same pictures as GOP updates (the current GOP after each picture, shared by all viewers of the format): what a
   * per-viewer operator such as `deliver()` reads, so the replay on join and the decisions per picture happen in one
   * subscriber. Counts as a subscriber like `stream`.
   */
  gops(format: WireFormat | string): Observable<Gop<MuxedPicture>>;
  /**
   * The format's sound frames, each as a message of its own (muxed once for all its viewers, encoded while any
   * listens), for a format that sends sound apart from pictures (`WireFormat.muxSound`) on a hub with sound;
   * otherwise undefined (the sound, if any, rides in the pictures' messages).
   */
  sound(format: WireFormat | string): Observable<MuxedSound> | undefined;
  /** The codec pictures come from. */
  readonly codec: Codec;
  /** The wire formats viewers may ask for. */
  readonly formats: readonly WireFormat[];
  /** The sound, when the server has any (the formats with an `audio` codec carry it). */
  readonly audio?: AudioHub;
  /** Each pipeline failure, as it is about to be restarted (for logs). Completes never. */
  readonly restarts$: Observable<HubRestart>;
  readonly stats: Readonly<HubStats>;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Keeps the pipeline running without viewers (always-on) until the subscription is unsubscribed. */
  keepAlive(): Subscription;
  /**
   * Stops the source and encoder now (no grace period) and completes every subscriber. Later subscribers
   * start it again. For shutdown.
   */
  close(): void;
}

/**
 * One source and one encoder for any number of viewers. `share()` owns the encoder's life: it
 * starts on the first subscriber and stops a grace period after the last. Failures (the encoder or camera
 * exiting for any reason, or no picture for `watchdogMs`) restart the pipeline with exponential backoff while subscribers stay
 * subscribed; they resume at the next keyframe. Each wire format's bytes are made once per picture, in a
 * stream of its own that runs while that format has viewers.
 *
 * @example
 * const hub = createHub({ source: testPattern(), encoder: { width: 640, height: 480, fps: 24 } });
 * hub.stream('mpegts').subscribe((p) => socket.send(p.wire));
 */
export function createHub(options: HubOptions): Hub {
  const { source, encodedSource, codec = mpeg1, scheduler = asyncScheduler } = options;
  const formats = servedFormats(codec, options.formats);
  // The encoder counts frames in and dropped (only it sees them); pictures are counted here, where they come out
  // of whatever `encode` is, so the stats hold with an injected encoder too.
  const encoderCounters = createEncoderCounters();
  const stats = createHubStats(formats, encoderCounters);
  if ((source === undefined) === (encodedSource === undefined))
    throw new Error('a hub needs either a source of frames or an encoded source');
  // Checked now, so bad settings fail at creation rather than at the first viewer.
  const encode = encodedSource ? undefined : (options.encode ?? codec.encode({ ...options.encoder, counters: encoderCounters }));
  const pictures = (): Observable<Picture> => encodedSource ?? source!.pipe(encode!);
  const restarts = new Subject<HubRestart>();
  const closing$ = new Subject<void>();
  const run$ = watchedRun(pictures, options.watchdogMs ?? DEFAULTS.watchdogMs, scheduler, stats);
  const gop$ = sharedGops(
    restarting(run$, options, scheduler, stats, restarts),
    options.graceMs ?? DEFAULTS.graceMs,
    scheduler,
    stats,
    closing$,
  );
  const formatGops = formatGopStreams(gop$, formats, options.encoder.fps, stats, options.audio);
  const formatSound = formatSoundStreams(formats, stats, options.audio);
  const gopsOf = (format: WireFormat | string): Observable<Gop<MuxedPicture>> => {
    const id = typeof format === 'string' ? format : format.id;
    const gops$ = formatGops.get(id);
    if (!gops$) throw new Error(`this hub serves no wire format ${id} (it has ${formats.map((f) => f.id).join(', ')})`);
    return gops$;
  };

  return {
    pictures$: counted(gop$.pipe(replayGop()), stats),
    stream: (format) => counted(gopsOf(format).pipe(replayGop()), stats),
    gops: (format) => counted(gopsOf(format), stats),
    sound: (format) => formatSound.get(typeof format === 'string' ? format : format.id),
    codec,
    formats,
    ...(options.audio ? { audio: options.audio } : {}),
    restarts$: restarts.asObservable(),
    stats,
    width: options.encoder.width,
    height: options.encoder.height,
    fps: options.encoder.fps,
    keepAlive: () => gop$.subscribe({ error: () => undefined }),
    close: () => closing$.next(),
  };
}

/**
 * Per format that sends sound apart: its codec's frames muxed once into messages, shared by its viewers while any
 * listens (the encoder runs as long; `AudioHub.packets` shares it with other formats of the same codec).
 */
function formatSoundStreams(
  formats: readonly WireFormat[],
  stats: HubStats,
  audio: AudioHub | undefined,
): Map<string, Observable<MuxedSound>> {
  const streams = new Map<string, Observable<MuxedSound>>();
  if (!audio) return streams;
  for (const format of formats) {
    if (!format.audio || !format.muxSound) continue;
    streams.set(
      format.id,
      audio.packets(format.audio).pipe(
        format.muxSound(),
        tap((sound) => (stats.wireBytes[format.id]! += sound.wire.length)),
        share({ resetOnRefCountZero: true }),
      ),
    );
  }
  return streams;
}

/** The formats a hub serves: those given (each must carry the codec), or every format that carries it. */
function servedFormats(codec: Codec, given: readonly WireFormat[] | undefined): readonly WireFormat[] {
  const formats = given ?? FORMATS.filter((format) => carries(format, codec.id));
  for (const format of formats) {
    if (!carries(format, codec.id)) throw new Error(`wire format ${format.id} cannot carry ${codec.label} pictures`);
  }
  return formats;
}

/** A hub's stats before its first start; frames in and dropped are read through from the encoder's counters. */
function createHubStats(formats: readonly WireFormat[], encoderCounters: EncoderCounters): HubStats {
  return {
    get framesIn() {
      return encoderCounters.framesIn;
    },
    get framesDropped() {
      return encoderCounters.framesDropped;
    },
    pictures: 0,
    subscribers: 0,
    running: false,
    state: 'idle',
    restarts: 0,
    failures: 0,
    nextAttemptAt: undefined,
    lastError: undefined,
    lastPictureAt: 0,
    wireBytes: Object.fromEntries(formats.map((format) => [format.id, 0])),
  };
}

/**
 * One run of the pipeline, from spawning the source and encoder to their failure. A live pipeline has no natural
 * end: the camera or encoder exiting, even with status 0, is a failure to restart from, and so is no picture for
 * `watchdogMs` (a frozen camera or encoder). Only close() and the last viewer leaving stop it.
 */
function watchedRun(
  pictures: () => Observable<Picture>,
  watchdogMs: number,
  scheduler: SchedulerLike,
  stats: HubStats,
): Observable<Picture> {
  return defer(() => {
    stats.running = true;
    stats.state = 'running';
    stats.nextAttemptAt = undefined;
    return pictures().pipe(concatWith(throwError(() => new Error('the source or encoder ended'))));
  }).pipe(
    timeout({
      each: watchdogMs,
      scheduler,
      with: () => throwError(() => new Error(`no picture for ${watchdogMs} ms: camera or encoder stalled`)),
    }),
  );
}

/**
 * The run restarted after each failure with backoff ({@link retryWithBackoff}), each failure told to the stats,
 * `onRestart` and `restarts$` as its restart is scheduled. A run that has delivered pictures for `healthyMs` (the
 * watchdog guarantees they kept coming) has proved itself: earlier failures are forgotten.
 */
function restarting(
  run$: Observable<Picture>,
  options: HubOptions,
  scheduler: SchedulerLike,
  stats: HubStats,
  restarts: Subject<HubRestart>,
): Observable<Picture> {
  const backoff = { ...DEFAULTS.restart, ...options.restart };
  return defer(() => {
    // Each start (first viewer, or back after the grace period) begins with a clean slate.
    stats.failures = 0;
    return run$.pipe(
      retryWithBackoff({
        ...backoff,
        scheduler,
        onRetry: ({ error, failures, delayMs }) => {
          stats.failures = failures;
          stats.restarts++;
          stats.lastError = error instanceof Error ? error.message : String(error);
          stats.state = 'restarting';
          stats.nextAttemptAt = scheduler.now() + delayMs;
          options.onRestart?.(error, failures, delayMs);
          restarts.next({ error, attempt: failures, delayMs });
        },
        onHealthy: () => (stats.failures = 0),
      }),
    );
  });
}

/**
 * The codec's pictures as GOP updates, counted, shared by every subscriber: started by the first, stopped `graceMs`
 * after the last, or at once by `closing$`.
 */
function sharedGops(
  pictures$: Observable<Picture>,
  graceMs: number,
  scheduler: SchedulerLike,
  stats: HubStats,
  closing$: Observable<void>,
): Observable<Gop<Picture>> {
  return pictures$.pipe(
    tap(() => {
      stats.pictures++;
      stats.lastPictureAt = scheduler.now();
      stats.lastError = undefined;
    }),
    gopCache(),
    // Completing (rather than unsubscribing) resets the share at once, skipping the grace period.
    takeUntil(closing$),
    finalize(() => {
      stats.running = false;
      stats.state = 'idle';
      stats.nextAttemptAt = undefined;
    }),
    share({
      connector: () => new ReplaySubject(1),
      resetOnError: true,
      resetOnComplete: true,
      resetOnRefCountZero: () => timer(graceMs, scheduler),
    }),
  );
}

/**
 * Per format: the codec's GOP replayed into a fresh muxer (after the restart point, so a stateful muxer's
 * counters run on across encoder restarts), cached and shared like the codec's, and reset as soon as the
 * format's last viewer leaves: nobody's format is muxed for nobody. The codec's grace period still applies.
 */
function formatGopStreams(
  gop$: Observable<Gop<Picture>>,
  formats: readonly WireFormat[],
  fps: number,
  stats: HubStats,
  audio: AudioHub | undefined,
): Map<string, Observable<Gop<MuxedPicture>>> {
  const streams = new Map<string, Observable<Gop<MuxedPicture>>>();
  for (const format of formats) {
    // The format's sound is encoded while the format has viewers: the muxer subscribes to it with the pictures (or,
    // for a format that sends it apart, each viewer subscribes to its sound stream: the muxer only declares it).
    const sound = audio && format.audio ? (format.muxSound ? { soundTrack: true } : { audio: audio.packets(format.audio) }) : {};
    streams.set(
      format.id,
      gop$.pipe(
        replayGop(),
        format.mux({ fps, ...sound }),
        tap((picture) => (stats.wireBytes[format.id]! += picture.wire.length)),
        gopCache(),
        share({ connector: () => new ReplaySubject(1), resetOnError: true, resetOnComplete: true, resetOnRefCountZero: true }),
      ),
    );
  }
  return streams;
}
