import { defer, type Observable } from 'rxjs';
import type { Frame } from '../frame';
import { resolveFfmpeg } from '../process/ffmpeg-path';
import { fromChildProcess } from '../process/child-process';
import { rawFrames } from './raw-frames';
import {
  checkSourceOptions,
  childOptions,
  type Checked,
  orientation,
  type ProcessSourceOptions,
  type SourceOptions,
} from './source-options';

/** What the ffmpeg-backed sources (V4L2 device, file) take beyond {@link SourceOptions}. */
export interface FfmpegSourceOptions extends SourceOptions, ProcessSourceOptions {
  /** The ffmpeg binary (default: {@link resolveFfmpeg}'s choice). */
  readonly ffmpeg?: string;
}

export interface V4l2Options extends FfmpegSourceOptions {
  /** Default `/dev/video0`. */
  readonly device?: string;
  /** The device's pixel format to ask for, e.g. `'yuyv422'` (no decode) or `'mjpeg'` (default: ffmpeg's pick). */
  readonly inputFormat?: string;
  /** Replaces the ffmpeg input arguments (`-f v4l2 … -i DEVICE`) altogether, e.g. with a lavfi source in tests. */
  readonly input?: readonly string[];
}

/**
 * The ffmpeg output arguments every ffmpeg-backed source shares: scaled to `width × height`, flipped as asked,
 * tightly packed I420 on stdout, each frame written out as soon as it is made.
 */
export function rawVideoOutputArgs(options: SourceOptions): string[] {
  const { hflip, vflip } = orientation(options);
  const filters = [`scale=${options.width}:${options.height}`];
  if (hflip) filters.push('hflip');
  if (vflip) filters.push('vflip');
  return ['-an', '-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-flush_packets', '1', '-'];
}

/** The ffmpeg arguments for a V4L2 device (a USB webcam) as raw I420 on stdout. */
export function v4l2Args(options: V4l2Options): string[] {
  const { device = '/dev/video0', inputFormat, width, height, fps } = options;
  const input = options.input ?? [
    '-f',
    'v4l2',
    ...(inputFormat ? ['-input_format', inputFormat] : []),
    '-video_size',
    `${width}x${height}`,
    '-framerate',
    String(fps),
    '-i',
    device,
  ];
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', ...input, ...rawVideoOutputArgs(options)];
}

/**
 * A V4L2 video device (USB webcam, or a camera behind a V4L2 driver) read through ffmpeg, scaled to the requested
 * size: spawns ffmpeg on subscribe, kills it on unsubscribe.
 *
 * @example
 * v4l2({ device: '/dev/video0', width: 640, height: 480, fps: 30, inputFormat: 'yuyv422' }).subscribe(…);
 */
export function v4l2(options: V4l2Options): Observable<Frame> {
  return checkedV4l2(checkSourceOptions(options, 'v4l2'));
}

/** {@link v4l2} for options already checked (by `detectSource`): no second check. */
export function checkedV4l2(options: Checked<V4l2Options>): Observable<Frame> {
  const args = v4l2Args(options);
  const toFrames = rawFrames({ width: options.width, height: options.height, scheduler: options.scheduler });
  // Resolve ffmpeg on subscribe, so a missing one arrives as the stream's error like any other start failure.
  return defer(() => fromChildProcess(resolveFfmpeg(options.ffmpeg).path, args, childOptions(options))).pipe(toFrames);
}
