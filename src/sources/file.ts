import { defer, type Observable } from 'rxjs';
import type { Frame } from '../frame';
import { resolveFfmpeg } from '../process/ffmpeg-path';
import { fromChildProcess } from '../process/child-process';
import { rawFrames } from './raw-frames';
import { assertSourceOptions, childOptions } from './source-options';
import { rawVideoOutputArgs, type FfmpegSourceOptions } from './v4l2';

export interface FileSourceOptions extends FfmpegSourceOptions {
  /** Any file ffmpeg can read. */
  readonly path: string;
  /** Start again at the end (default true). */
  readonly loop?: boolean;
}

/** The ffmpeg arguments that play `path` in real time as raw I420 on stdout. */
export function fileSourceArgs(options: FileSourceOptions): string[] {
  const { path, loop = true, fps } = options;
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    // Read at the file's own pace, as a camera would deliver, not as fast as the disk allows.
    '-re',
    ...(loop ? ['-stream_loop', '-1'] : []),
    '-i',
    path,
    // Whatever the file's rate, deliver the configured one (ffmpeg duplicates or drops frames to match).
    '-r',
    String(fps),
    ...rawVideoOutputArgs(options),
  ];
}

/**
 * A video file (anything ffmpeg reads) played in real time, looped by default, scaled to `width × height` at
 * `fps`: spawns ffmpeg on subscribe, kills it on unsubscribe. Completes at the end when not looping.
 *
 * @example
 * fileSource({ path: 'demo.mp4', width: 640, height: 480, fps: 24 }).subscribe((frame) => …);
 */
export function fileSource(options: FileSourceOptions): Observable<Frame> {
  assertSourceOptions(options, 'file source');
  if (typeof options.path !== 'string' || options.path === '') {
    throw new TypeError(`file source path must be a non-empty string, got ${String(options.path)}`);
  }
  const args = fileSourceArgs(options);
  const toFrames = rawFrames({ width: options.width, height: options.height, scheduler: options.scheduler });
  return defer(() => fromChildProcess(resolveFfmpeg(options.ffmpeg).path, args, childOptions(options))).pipe(toFrames);
}
