import { existsSync } from 'node:fs';
import { catchError, defer, throwError, type Observable } from 'rxjs';
import type { Frame } from '../frame';
import { which } from '../process/ffmpeg-path';
import { ChildProcessError, fromChildProcess } from '../process/child-process';
import { alignUp, rawFrames } from './raw-frames';
import { checkSourceOptions, childOptions, type Checked, type ProcessSourceOptions, type SourceOptions } from './source-options';

export interface RaspividOptions extends SourceOptions, ProcessSourceOptions {
  /** The program (default `'raspividyuv'`), or a path to it. */
  readonly command?: string;
  /**
   * The `stdbuf` that unbuffers raspividyuv's stdout (default: `stdbuf` on `PATH`), or `false` to run it bare.
   */
  readonly stdbuf?: string | false;
  /** Where to look for programs (default `process.env.PATH`). */
  readonly pathEnv?: string;
}

/**
 * The padded frame raspividyuv writes for `width × height`: the MMAL buffer's rows are 32-byte aligned and its
 * height is a multiple of 16.
 * @example
 * raspividPadding(1000, 500); // { stride: 1024, paddedHeight: 512 }
 */
export function raspividPadding(width: number, height: number): { stride: number; paddedHeight: number } {
  return { stride: alignUp(width, 32), paddedHeight: alignUp(height, 16) };
}

/** The argument list for raspividyuv writing raw I420 to stdout. */
export function raspividArgs(options: SourceOptions): string[] {
  const { width, height, fps, hflip, vflip, rotation } = options;
  return [
    '-n',
    '-t',
    '0',
    '-w',
    String(width),
    '-h',
    String(height),
    '-fps',
    String(fps),
    ...(hflip ? ['-hf'] : []),
    ...(vflip ? ['-vf'] : []),
    ...(rotation === 180 ? ['-rot', '180'] : []),
    '-o',
    '-',
  ];
}

/**
 * A Raspberry Pi camera on the legacy (MMAL) stack through `raspividyuv`: spawns it on subscribe, crops its
 * padding and emits tightly packed frames; kills it on unsubscribe.
 *
 * @example
 * raspivid({ width: 640, height: 480, fps: 24, hflip: true }).subscribe((frame) => …);
 */
export function raspivid(options: RaspividOptions): Observable<Frame> {
  return checkedRaspivid(checkSourceOptions(options, options.command ?? 'raspividyuv'));
}

/** {@link raspivid} for options already checked (by `detectSource`): no second check. */
export function checkedRaspivid(options: Checked<RaspividOptions>): Observable<Frame> {
  const command = options.command ?? 'raspividyuv';
  const { stride, paddedHeight } = raspividPadding(options.width, options.height);
  const { width, height, scheduler } = options;
  const toFrames = rawFrames({ width, height, stride, paddedHeight, scheduler });
  const args = raspividArgs(options);
  return defer(() => {
    const pathEnv = options.pathEnv ?? process.env.PATH ?? '';
    // Look the program up ourselves: stdbuf would report a missing one as its own exit 127.
    const program = command.includes('/') ? (existsSync(command) ? command : undefined) : which(command, pathEnv);
    if (program === undefined) {
      const message = `${command}: program not found (is it installed and on PATH?)`;
      return throwError(() => new ChildProcessError(message, command, null, null, []));
    }
    const stdbuf = options.stdbuf ?? which('stdbuf', pathEnv) ?? false;
    if (stdbuf === false) return fromChildProcess(program, args, childOptions(options)).pipe(toFrames);
    // raspividyuv fwrite()s each frame to stdout and never flushes, and has no option to: on a pipe glibc
    // holds the frame's last partial block until the next frame, one frame of latency. `stdbuf -o0` makes
    // its stdout unbuffered (it preloads a library that calls setvbuf before main).
    return fromChildProcess(stdbuf, ['-o0', program, ...args], childOptions(options)).pipe(
      // Name the camera program, not stdbuf, in exit errors: that is the one that failed.
      catchError((err: unknown) =>
        throwError(() =>
          err instanceof ChildProcessError && err.message.startsWith(stdbuf)
            ? new ChildProcessError(command + err.message.slice(stdbuf.length), command, err.exitCode, err.signal, err.stderr)
            : err,
        ),
      ),
      toFrames,
    );
  });
}
