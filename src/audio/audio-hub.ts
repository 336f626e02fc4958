import { asyncScheduler, concatWith, defer, finalize, type Observable, share, type SchedulerLike, tap, throwError, timeout } from 'rxjs';
import { retryWithBackoff, type BackoffOptions } from '../operators/retry-with-backoff';
import type { SpawnFn } from '../process/child-process';
import type { AudioCodec, AudioPacket } from './audio-codec';
import { encodeAudio } from './encode-audio';
import type { PcmChunk } from './pcm';

/** The sound's counters, for `/healthz` and `/metrics` (a plain object, updated in place). */
export interface AudioStats {
  /** `off`: nobody listens (no encoder runs); `running`; `restarting`: failed, waiting out the backoff. */
  state: 'off' | 'running' | 'restarting';
  /** Capture or encoder failures (all time). */
  restarts: number;
  /** Failures in a row (the backoff grows with them). */
  failures: number;
  /** The last failure's message, until sound comes again. */
  lastError: string | undefined;
  /** Frames encoded, per codec id. */
  readonly packets: Record<string, number>;
}

export interface AudioHubOptions {
  /** The capture: spawned when the first encoder starts, stopped after the last (shared by every codec). */
  readonly capture: Observable<PcmChunk>;
  /** What it is, for people: `'test tone'`, `'ALSA plughw:1,0 (USB Audio)'`. */
  readonly label: string;
  readonly ffmpeg: string;
  /** kbit/s for every codec (each snaps it to what it allows). */
  readonly bitrateKbps: number;
  /** Restart after a failure, as the camera's. */
  readonly restart: BackoffOptions;
  /** No frame for this long counts as a failure (a capture that hangs). */
  readonly watchdogMs: number;
  readonly scheduler?: SchedulerLike;
  readonly spawn?: SpawnFn;
  /** The encoders read the PCM as WAV in small packets (the binary's WAV demuxer takes `-max_size`). */
  readonly wavInput?: boolean;
  /** Told each failure as its restart is scheduled (for the log). */
  readonly onRestart?: (error: unknown, failures: number, delayMs: number) => void;
}

/** One capture, encoded once per codec that someone needs. */
export interface AudioHub {
  /**
   * The codec's frames, shared: its ffmpeg (and the capture, when it is the first) starts with the first subscriber
   * and stops with the last. It never errors nor completes: a failing capture or encoder is restarted with backoff
   * behind it, and the failure shows in `stats`, so video that merges it never stops for sound.
   */
  packets(codec: AudioCodec): Observable<AudioPacket>;
  readonly label: string;
  /** Every codec's bitrate, kbit/s (what a publish target that must encode the sound again uses too). */
  readonly bitrateKbps: number;
  readonly stats: Readonly<AudioStats>;
}

/**
 * Builds the hub of sound: the capture shared by every encoder (`share`, reset when the last leaves), one encoder per
 * codec on demand, each restarted after a failure with the project's backoff ({@link retryWithBackoff}) and watched
 * by a watchdog, so an unplugged microphone becomes `restarting` and comes back on its own when it is plugged in.
 *
 * @example
 * const audio = createAudioHub({ capture: testTone(), label: 'test tone', ffmpeg, bitrateKbps: 64, restart, watchdogMs: 5000 });
 * audio.packets(mp2).subscribe((frame) => …);
 */
export function createAudioHub(options: AudioHubOptions): AudioHub {
  const scheduler = options.scheduler ?? asyncScheduler;
  const stats: AudioStats = { state: 'off', restarts: 0, failures: 0, lastError: undefined, packets: {} };
  const capture$ = options.capture.pipe(share({ resetOnError: true, resetOnComplete: true, resetOnRefCountZero: true }));
  let running = 0;
  const byCodec = new Map<string, Observable<AudioPacket>>();
  const encoded = (codec: AudioCodec): Observable<AudioPacket> =>
    defer(() =>
      capture$.pipe(
        encodeAudio(codec, { ffmpeg: options.ffmpeg, bitrateKbps: options.bitrateKbps, spawn: options.spawn, wavInput: options.wavInput }),
      ),
    ).pipe(
      concatWith(throwError(() => new Error('the sound capture ended'))),
      timeout({
        each: options.watchdogMs,
        scheduler,
        with: () => throwError(() => new Error(`no sound for ${options.watchdogMs} ms: microphone or encoder stalled`)),
      }),
      tap(() => {
        stats.packets[codec.id] = (stats.packets[codec.id] ?? 0) + 1;
        stats.state = 'running';
        stats.lastError = undefined;
      }),
      retryWithBackoff({
        ...options.restart,
        scheduler,
        onRetry: ({ error, failures, delayMs }) => {
          stats.restarts++;
          stats.failures = failures;
          stats.state = 'restarting';
          stats.lastError = error instanceof Error ? error.message : String(error);
          options.onRestart?.(error, failures, delayMs);
        },
        onHealthy: () => (stats.failures = 0),
      }),
    );
  return {
    label: options.label,
    bitrateKbps: options.bitrateKbps,
    stats,
    packets: (codec) => {
      let packets$ = byCodec.get(codec.id);
      if (!packets$) {
        packets$ = defer(() => {
          running++;
          if (stats.state === 'off') stats.state = 'running';
          return encoded(codec);
        }).pipe(
          finalize(() => {
            running--;
            if (running === 0) Object.assign(stats, { state: 'off', failures: 0, lastError: undefined });
          }),
          share({ resetOnRefCountZero: true }),
        );
        byCodec.set(codec.id, packets$);
      }
      return packets$;
    },
  };
}
