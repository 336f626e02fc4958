import type { SchedulerLike } from 'rxjs';
import type { ChildProcess } from 'node:child_process';
import { assertFrameSize } from '../frame';
import type { ChildProcessOptions, SpawnFn } from '../process/child-process';

/** What every source takes: the frame size and rate it must deliver, and the picture's orientation. */
export interface SourceOptions {
  readonly width: number;
  readonly height: number;
  /** Frames per second. */
  readonly fps: number;
  /** Mirror left–right. */
  readonly hflip?: boolean;
  /** Mirror top–bottom. */
  readonly vflip?: boolean;
  /**
   * 0 or 180 only: the Pi cameras can only flip (180° is both flips). Rotate by 90° in the page's CSS, where it
   * costs nothing.
   */
  readonly rotation?: 0 | 180;
}

/** The effects a process-backed source lets tests and hosts inject. */
export interface ProcessSourceOptions {
  /** Injected `spawn` (default: node's). */
  readonly spawn?: SpawnFn;
  /** Called with the child right after spawn (e.g. to learn its PID). */
  readonly onSpawn?: (child: ChildProcess) => void;
  /** Whose `now()` gives each frame's `capturedAt`, in ms since the epoch (default `asyncScheduler`). */
  readonly scheduler?: Pick<SchedulerLike, 'now'>;
  /** How long after SIGTERM to send SIGKILL (default 2000 ms). */
  readonly killTimeoutMs?: number;
}

/**
 * Throws a clear error unless the options describe a frame size, rate and orientation every source can deliver.
 * @param what names the source, for the message (e.g. `'rpicam-vid'`).
 * @example
 * assertSourceOptions({ width: 640, height: 480, fps: 24, rotation: 90 as 0 }, 'rpicam-vid'); // throws
 */
export function assertSourceOptions(options: SourceOptions, what: string): void {
  assertFrameSize(options.width, options.height, what);
  if (typeof options.fps !== 'number' || !Number.isFinite(options.fps) || options.fps <= 0 || options.fps > 240) {
    throw new RangeError(`${what} fps must be a number above 0 and at most 240, got ${options.fps}`);
  }
  const rotation = options.rotation ?? 0;
  if (rotation !== 0 && rotation !== 180) {
    throw new RangeError(
      `${what} rotation must be 0 or 180 (the camera can only flip; rotate by 90 in the page's CSS), got ${String(rotation)}`,
    );
  }
}

declare const CHECKED: unique symbol;

/**
 * Source options {@link checkSourceOptions} has checked. A source's public function checks its options once, at
 * its edge; the inner function it calls (and that `detectSource` calls after its own check) takes these and does
 * not check again.
 */
export type Checked<O extends SourceOptions> = O & { readonly [CHECKED]: true };

/**
 * {@link assertSourceOptions}, giving the options back typed as checked.
 * @example
 * const checked = checkSourceOptions({ width: 640, height: 480, fps: 24 }, 'source');
 */
export function checkSourceOptions<O extends SourceOptions>(options: O, what: string): Checked<O> {
  assertSourceOptions(options, what);
  return options as Checked<O>;
}

/** The flips that make up the requested orientation: rotation 180 is a horizontal plus a vertical flip. */
export function orientation(options: SourceOptions): { hflip: boolean; vflip: boolean } {
  const half = (options.rotation ?? 0) === 180;
  return { hflip: Boolean(options.hflip) !== half, vflip: Boolean(options.vflip) !== half };
}

/** The part of a source's options that {@link fromChildProcess} takes. */
export function childOptions(options: ProcessSourceOptions): ChildProcessOptions {
  const { spawn, onSpawn, killTimeoutMs } = options;
  return { spawn, onSpawn, killTimeoutMs };
}
