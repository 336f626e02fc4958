import type { Writable } from 'node:stream';
import {
  asyncScheduler,
  filter,
  map,
  throwError,
  timeout,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { pipeBytes } from '../codecs/pipe-input';
import { DEFAULTS } from '../defaults';
import { LatestWins } from '../operators/latest-wins';
import type { AudioPacket } from '../audio/audio-codec';
import type { Picture } from '../picture';
import { fromChildProcess, type SpawnFn } from '../process/child-process';
import { PUBLISH_STDERR_NOISE, publishArgs } from './publish-args';
import type { PublishTarget } from './publish-target';
import { redactIn } from './url-secrets';
import { supervise, type BackoffOptions, type Supervised } from './supervise';

/** Sound bytes ffmpeg may leave unread before frames are dropped: about 2 s of AAC at 64 kbit/s. */
const MAX_UNREAD_SOUND_BYTES = 16 * 1024;

/** A publisher's state: `starting` (ffmpeg spawned, connecting), `publishing` (bytes flow), `retrying` (backing off). */
export type PublishState = 'stopped' | 'starting' | 'publishing' | 'retrying';

/** Live counters of one target (a plain object, updated in place); `target` is the redacted URL. */
export interface PublisherStats {
  readonly target: string;
  state: PublishState;
  /** Bytes ffmpeg has sent to the target, over all its runs (ffmpeg's own `total_size`). */
  bytes: number;
  /** Pictures written to ffmpeg. */
  pictures: number;
  /** Pictures skipped because ffmpeg had not taken the previous one yet (the target fell behind), until a keyframe. */
  skipped: number;
  /** ffmpeg restarts after a failure (all time). */
  restarts: number;
  /** Failures in a row: 0 once a run has published for `healthyMs`. */
  failures: number;
  /** The last failure (ffmpeg's exit and last stderr lines, with the URL redacted), until the next healthy spell. */
  lastError: string | undefined;
  /** While `retrying`: when the next attempt starts (the scheduler's clock). */
  nextAttemptAt: number | undefined;
}

type Log = (level: 'info' | 'warn', message: string, details?: object) => void;

export interface PublisherOptions {
  readonly target: PublishTarget;
  /** The hub's pictures (`hub.pictures$`): each run subscribes anew, so it starts at the current GOP's keyframe. */
  readonly pictures$: Observable<Picture>;
  /**
   * The server's sound as AAC (ADTS) frames, for the target's audio track instead of a silent one; each run writes
   * the frames captured from its first picture on to ffmpeg's fd 3. A run that starts while the sound fails
   * (`soundUp` false) gets the silent track, so a broken microphone never keeps a target from publishing.
   */
  readonly sound?: {
    readonly frames$: Observable<AudioPacket>;
    readonly up: () => boolean;
    /** Its bitrate, for a target that encodes it again (RTSP); default `DEFAULTS.audioBitrateKbps`. */
    readonly bitrateKbps?: number;
  };
  /** The hub's codec id and rate: what stdin carries. */
  readonly codec: string;
  readonly fps: number;
  /** The ffmpeg binary, asked at each start. */
  readonly ffmpeg: () => string;
  /** Backoff (defaults `DEFAULTS.publishRestart`: 1 s → 30 s, reset after 60 s publishing, 25 % jitter). */
  readonly restart?: Partial<BackoffOptions>;
  /** A run that has sent no new byte for this long (connecting included) has failed. Default `DEFAULTS.publishStallMs`. */
  readonly stallMs?: number;
  readonly random?: () => number;
  readonly scheduler?: SchedulerLike;
  readonly spawn?: SpawnFn;
  readonly log?: Log;
}

/** What ffmpeg's `-progress` reports: bytes written to the output so far (when it knows), and pictures sent. */
export interface Progress {
  /** `total_size`, or undefined where ffmpeg cannot count (RTSP sends through its own RTP sockets: `N/A`). */
  readonly bytes: number | undefined;
  readonly frames: number;
}

/**
 * ffmpeg's `-progress` text → its reports, emitted each time the bytes or the pictures sent grow: a sign of life
 * for the stall watchdog whichever of the two the output can count.
 */
export function progressReports(): OperatorFunction<Buffer, Progress> {
  return (chunks$) => {
    let partial = '';
    let bytes: number | undefined;
    let frames = 0;
    return chunks$.pipe(
      map((chunk) => {
        const lines = (partial + chunk.toString('latin1')).split('\n');
        partial = lines.pop() ?? '';
        let grew = false;
        for (const line of lines) {
          const size = /^total_size=(\d+)/.exec(line);
          if (size && Number(size[1]) > (bytes ?? 0)) {
            bytes = Number(size[1]);
            grew = true;
          }
          const frame = /^frame=(\d+)/.exec(line);
          if (frame && Number(frame[1]) > frames) {
            frames = Number(frame[1]);
            grew = true;
          }
        }
        return grew ? { bytes, frames } : undefined;
      }),
      filter((report): report is Progress => report !== undefined),
    );
  };
}

/** An error as one log line, with the URL and each secret piece of it (ffmpeg quotes them in its own shapes) hidden. */
function describe(error: unknown, target: PublishTarget): string {
  const text = error instanceof Error ? error.message : String(error);
  return redactIn(text, target.url).replace(/\s*\n\s*/g, ' | ');
}

/** `4 s`, `300 ms`. */
function wait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * One publish target: one ffmpeg (`-c copy`, see {@link publishArgs}) fed from the hub like a viewer, supervised
 * for as long as it is started. Pictures go to ffmpeg's stdin **latest wins**: a picture that finds the previous
 * one still unwritten is skipped, and so is every picture after it until the next keyframe (a picture without its
 * reference would be garbage), so a slow or stuck target never queues and never slows viewers or other targets.
 * ffmpeg does not reconnect by itself: when it exits, or sends nothing for `stallMs`, it is restarted with capped
 * exponential backoff and jitter ({@link supervise}). Each state change is logged once; the URL's secrets never
 * are (`target.label`).
 *
 * @example
 * const publisher = new Publisher({ target: publishTarget('rtmp://host/live/key'), pictures$: hub.pictures$,
 *   codec: 'h264', fps: 24, ffmpeg: () => '/usr/bin/ffmpeg' });
 * publisher.start();
 */
export class Publisher {
  readonly stats: PublisherStats;
  private subscription: Subscription | undefined;
  private readonly scheduler: SchedulerLike;

  constructor(private readonly options: PublisherOptions) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.stats = {
      target: options.target.label,
      state: 'stopped',
      bytes: 0,
      pictures: 0,
      skipped: 0,
      restarts: 0,
      failures: 0,
      lastError: undefined,
      nextAttemptAt: undefined,
    };
  }

  /** Starts publishing (and supervising) until {@link stop}. */
  start(): void {
    if (this.subscription) return;
    const { stallMs = DEFAULTS.publishStallMs } = this.options;
    const restart = { ...DEFAULTS.publishRestart, ...this.options.restart };
    this.subscription = supervise(() => this.run(stallMs), {
      ...restart,
      scheduler: this.scheduler,
      ...(this.options.random ? { random: this.options.random } : {}),
    }).subscribe((event) => this.on(event));
  }

  /** Stops ffmpeg (TERM, then KILL) and any wait. */
  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    if (this.stats.state !== 'stopped') this.change('stopped', 'info', `Publishing to ${this.stats.target}: stopped`);
    this.stats.nextAttemptAt = undefined;
  }

  /** What `/healthz` calls degraded about this target, or undefined while it publishes (or is stopped). */
  get problem(): string | undefined {
    const s = this.stats;
    if (s.state === 'retrying') {
      const next = s.nextAttemptAt !== undefined ? `; retrying in ${wait(Math.max(0, s.nextAttemptAt - this.scheduler.now()))}` : '';
      return `publish target ${s.target} failing: ${s.lastError ?? 'unknown error'}${next} (attempt ${s.failures})`;
    }
    if (s.state === 'starting' && s.failures > 0)
      return `publish target ${s.target} reconnecting (attempt ${s.failures}): ${s.lastError ?? ''}`.trim();
    return undefined;
  }

  private change(state: PublishState, level: 'info' | 'warn', message: string, details: object = {}): void {
    this.stats.state = state;
    this.options.log?.(level, message, { publishTarget: this.stats.target, state, ...details });
  }

  private on(event: Supervised<number>): void {
    const s = this.stats;
    switch (event.kind) {
      case 'starting':
        s.nextAttemptAt = undefined;
        this.change('starting', 'info', `Publishing to ${s.target}: connecting${event.failures ? ` (attempt ${event.failures + 1})` : ''}`);
        break;
      case 'up':
        this.change(
          'publishing',
          'info',
          `Publishing to ${s.target}: sending${event.failures ? ` again after ${event.failures} failure${event.failures > 1 ? 's' : ''}` : ''}`,
        );
        break;
      case 'healthy':
        s.failures = 0;
        s.lastError = undefined;
        break;
      case 'retrying':
        s.failures = event.failures;
        s.restarts++;
        s.lastError = describe(event.error, this.options.target);
        s.nextAttemptAt = this.scheduler.now() + event.delayMs;
        this.change(
          'retrying',
          'warn',
          `Publishing to ${s.target} failed: ${s.lastError}; retrying in ${wait(event.delayMs)} (attempt ${event.failures})`,
          {
            attempt: event.failures,
            delayMs: event.delayMs,
          },
        );
        break;
      case 'value':
        break;
    }
  }

  /** One ffmpeg run: its progress (bytes sent so far in this run), erroring when it exits or stalls. */
  private run(stallMs: number): Observable<number> {
    const { target, codec, fps, pictures$, sound } = this.options;
    const stats = this.stats;
    const withSound = sound !== undefined && target.audio === 'silent' && sound.up();
    const base = stats.bytes;
    const fed: RunFeed = { bytes: 0 };
    const soundBitrate = sound?.bitrateKbps !== undefined ? { soundBitrateKbps: sound.bitrateKbps } : {};
    const args = publishArgs(target, { codec, fps, soundOnPipe3: withSound, ...soundBitrate }, DEFAULTS.publishIoTimeoutMs);
    return fromChildProcess(this.options.ffmpeg(), args, {
      stdin: pictureFeeder(pictures$, pipeBytes(codec), stats, fed),
      stderrNoise: PUBLISH_STDERR_NOISE,
      ...(withSound ? { extraInput: soundFeeder(sound.frames$, fed) } : {}),
      ...(this.options.spawn ? { spawn: this.options.spawn } : {}),
    }).pipe(
      progressReports(),
      timeout({
        each: stallMs,
        scheduler: this.scheduler,
        with: () => throwError(() => new Error(`sent nothing for ${wait(stallMs)}`)),
      }),
      map((progress) => {
        const sent = progress.bytes ?? fed.bytes;
        stats.bytes = base + sent;
        return sent;
      }),
    );
  }
}

/** What one run's two feeders share: the bytes given to ffmpeg so far, and the first picture's capture time. */
interface RunFeed {
  /** The byte count for outputs whose size ffmpeg does not report (RTSP). */
  bytes: number;
  /** Sound goes from then on, so both tracks start at 0 together. */
  firstPictureAt?: number;
}

/**
 * Writes the hub's pictures to ffmpeg's stdin: the current GOP, replayed during subscribe, whole (at most a GOP
 * waits in the pipe, once); from then on the latest wins while ffmpeg has not taken the previous one (counted as
 * skipped), resuming at a keyframe.
 */
function pictureFeeder(
  pictures$: Observable<Picture>,
  bytesOf: (picture: Picture) => Buffer,
  stats: PublisherStats,
  fed: RunFeed,
): (stdin: Writable, fail: (err: unknown) => void) => () => void {
  return (stdin, fail) => {
    let writing = false;
    // The hub replays from a keyframe; waiting for one anyway keeps a start after a skip honest.
    const latest = new LatestWins({ dependent: true, awaitingKey: true });
    let replaying = true;
    const onDrain = (): void => {
      writing = false;
    };
    stdin.on('drain', onDrain);
    const subscription = pictures$.subscribe({
      next: (picture) => {
        // A queued picture is written too: the stream's buffer is the queue.
        const step = latest.step(writing, picture.keyframe, replaying);
        if (step === 'drop' || step === 'skip') {
          stats.skipped++;
          return;
        }
        stats.pictures++;
        fed.firstPictureAt ??= picture.capturedAt;
        const bytes = bytesOf(picture);
        fed.bytes += bytes.length;
        writing = !stdin.write(bytes);
      },
      error: fail,
      complete: () => fail(new Error('the hub stopped')),
    });
    replaying = false;
    return () => {
      subscription.unsubscribe();
      stdin.off('drain', onDrain);
    };
  };
}

/** Writes the sound's frames captured from the run's first picture on to ffmpeg's fd 3, dropping what it cannot take. */
function soundFeeder(frames$: Observable<AudioPacket>, fed: RunFeed): (pipe: Writable) => () => void {
  return (pipe) => {
    const subscription = frames$.subscribe((frame) => {
      if (fed.firstPictureAt === undefined || frame.capturedAt < fed.firstPictureAt) return;
      // A target that stopped reading: sound is dropped rather than queued (its pictures are skipped the same way).
      if (pipe.writableLength > MAX_UNREAD_SOUND_BYTES) return;
      pipe.write(frame.data);
    });
    return () => subscription.unsubscribe();
  };
}

/** The first problem of any target (for `/healthz`'s `degraded`), or undefined when all publish. */
export function publishProblem(publishers: readonly Publisher[]): string | undefined {
  for (const publisher of publishers) {
    const problem = publisher.problem;
    if (problem) return problem;
  }
  return undefined;
}
