import {
  asyncScheduler,
  concatWith,
  connect,
  defer,
  finalize,
  ignoreElements,
  merge,
  ReplaySubject,
  retry,
  share,
  Subject,
  switchMap,
  take,
  takeUntil,
  tap,
  throwError,
  timeout,
  timer,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { encodeMpeg1 } from './encoder/encode-mpeg1';
import { createEncoderCounters, type EncoderCounters, type EncoderOptions } from './encoder/encoder-options';
import type { Frame } from './frame';
import { gopCache, replayGop } from './operators/gop-cache';
import type { MuxedPicture, Picture } from './picture';
import { toMpegTs } from './transport/mpegts';

export interface HubOptions {
  /** The frames to encode: any `Observable<Frame>` (a camera source, the test pattern, your own). */
  readonly source: Observable<Frame>;
  /** Encoder settings (size and fps must match the source's frames). */
  readonly encoder: Omit<EncoderOptions, 'counters'>;
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
  /** Replaces `encodeMpeg1(encoder)` (tests, or another encoder). */
  readonly encode?: OperatorFunction<Frame, Picture>;
  /** Replaces `toMpegTs()`: the per-picture wire framing made once for every viewer. */
  readonly mux?: OperatorFunction<Picture, MuxedPicture>;
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
  /** Bytes of wire framing (MPEG-TS) produced. */
  bytes: number;
}

export interface Hub {
  /**
   * The shared pictures, each with its MPEG-TS bytes. Every subscriber starts with the current GOP (from its
   * keyframe, at once); the source and encoder start with the first subscriber and stop `graceMs` after the last.
   */
  readonly pictures$: Observable<MuxedPicture>;
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
 * One source and one encoder for any number of viewers (DESIGN §1, §6). `share()` owns the encoder's life: it
 * starts on the first subscriber and stops a grace period after the last. Failures (the encoder or camera
 * exiting for any reason, or no picture for `watchdogMs`) restart the pipeline with exponential backoff while subscribers stay
 * subscribed; they resume at the next keyframe.
 *
 * @example
 * const hub = createHub({ source: testPattern(), encoder: { width: 640, height: 480, fps: 24 } });
 * hub.pictures$.subscribe((p) => console.log(p.type, p.ts.length));
 */
export function createHub(options: HubOptions): Hub {
  const {
    source,
    encoder,
    graceMs = 5000,
    watchdogMs = 5000,
    scheduler = asyncScheduler,
    mux = toMpegTs(),
  } = options;
  const initialDelayMs = options.restart?.initialDelayMs ?? 500;
  const maxDelayMs = options.restart?.maxDelayMs ?? 10_000;
  const healthyMs = options.restart?.healthyMs ?? 60_000;
  // The encoder counts frames in and dropped (only it sees them); pictures are counted here, where they come out
  // of whatever `encode` is, so the stats hold with an injected encoder too.
  const encoderCounters = createEncoderCounters();
  const stats: HubStats = {
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
    bytes: 0,
  };
  const encode = options.encode ?? encodeMpeg1({ ...encoder, counters: encoderCounters });

  // One run of the pipeline, from spawning the source and encoder to their failure.
  const run$ = defer(() => {
    stats.running = true;
    stats.state = 'running';
    stats.nextAttemptAt = undefined;
    // A live pipeline has no natural end: the camera or encoder exiting, even with status 0, is a failure
    // to restart from (DESIGN §6). Only close() and the last viewer leaving stop it.
    return source.pipe(
      encode,
      concatWith(throwError(() => new Error('the source or encoder ended'))),
    );
  }).pipe(
    timeout({
      each: watchdogMs,
      scheduler,
      with: () => throwError(() => new Error(`no picture for ${watchdogMs} ms: camera or encoder stalled`)),
    }),
    // A run that has delivered pictures for `healthyMs` (the watchdog guarantees they kept coming) has proved
    // itself: forget earlier failures. Not on the first picture (retry's resetOnSuccess), or an encoder that
    // crashes right after its first picture would restart every initialDelayMs forever.
    connect((pictures) =>
      merge(
        pictures,
        pictures.pipe(
          take(1),
          switchMap(() => timer(healthyMs, scheduler)),
          tap(() => (stats.failures = 0)),
          ignoreElements(),
        ),
      ),
    ),
  );

  const closing$ = new Subject<void>();
  const gop$ = defer(() => {
    // Each start (first viewer, or back after the grace period) begins with a clean slate.
    stats.failures = 0;
    return run$.pipe(
      retry({
        delay: (error: unknown) => {
          stats.failures++;
          const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (stats.failures - 1));
          stats.restarts++;
          stats.lastError = error instanceof Error ? error.message : String(error);
          stats.state = 'restarting';
          stats.nextAttemptAt = scheduler.now() + delayMs;
          options.onRestart?.(error, stats.failures, delayMs);
          return timer(delayMs, scheduler);
        },
      }),
    );
  }).pipe(
    // Muxed once here, after the restart point, so continuity counters run on across encoder restarts.
    mux,
    tap((picture) => {
      stats.pictures++;
      stats.lastPictureAt = scheduler.now();
      stats.lastError = undefined;
      stats.bytes += picture.ts.length;
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

  const pictures$ = defer(() => {
    stats.subscribers++;
    return gop$.pipe(
      replayGop(),
      finalize(() => {
        stats.subscribers--;
      }),
    );
  });

  return {
    pictures$,
    stats,
    width: encoder.width,
    height: encoder.height,
    fps: encoder.fps,
    keepAlive: () => gop$.subscribe({ error: () => undefined }),
    close: () => closing$.next(),
  };
}
