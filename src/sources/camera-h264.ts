import {
  asyncScheduler,
  catchError,
  defer,
  first,
  map,
  mergeMap,
  of,
  scan,
  switchMap,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { describeAccessUnit } from '../codecs/h264/access-unit';
import { accessUnits } from '../codecs/h264/assemble';
import { H264_DEFAULT_BITRATE, h264DefaultGop } from '../codecs/h264/encoder-args';
import { H264_ID, type H264Picture } from '../codecs/h264/h264-picture';
import { ensureZeroReorder } from '../codecs/h264/zero-reorder';
import { fromChildProcess } from '../process/child-process';
import { isPi5 } from './rpicam';
import { assertSourceOptions, childOptions, type ProcessSourceOptions, type SourceOptions } from './source-options';

/** What a camera that encodes H.264 itself takes, besides the frame size, rate and orientation. */
export interface H264CameraOptions extends SourceOptions, ProcessSourceOptions {
  /** Target bitrate in kbit/s (default `H264_DEFAULT_BITRATE`, as for our own encoder). */
  readonly bitrate?: number;
  /** Pictures from one IDR to the next (default one second's worth: `h264DefaultGop(fps)`). */
  readonly gop?: number;
  /** Silence (ms) after which a picture is emitted without waiting for the next (see `accessUnits`). */
  readonly idleMs?: number;
  /** Clock for `capturedAt` and the idle timer (default `asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
}

export interface RpicamH264Options extends H264CameraOptions {
  /** The program: `'rpicam-vid'` (default) or `'libcamera-vid'`, or a path. */
  readonly command?: string;
  /** Which camera, when there are several (`--camera N`). */
  readonly camera?: number;
  /** A Pi 5 encodes with libx264 in software. Default: read from the device tree (`isPi5()`). */
  readonly pi5?: boolean;
  /**
   * Pass `--low-latency` (Pi 5 only: libx264 with `zerolatency`, no B-frames, sliced threads). Default: when
   * the program's `--help` lists it, asked once per subscription; older builds lack it and run without it.
   */
  readonly lowLatency?: boolean;
}

export interface RaspividH264Options extends H264CameraOptions {
  /** The program (default `'raspivid'`), or a path to it. */
  readonly command?: string;
}

/**
 * The `--level` for the Pi 0–4 hardware encoder, which accepts only 4, 4.1 and 4.2 (rpicam-apps
 * `h264_encoder.cpp`): 4.2 above 245760 macroblocks a second (e.g. 1920x1080 at more than 30 fps), else 4.1
 * above level 4's 20 Mbit/s, else 4.
 * @example
 * rpicamH264Level(1920, 1080, 30, 2000); // '4'
 */
export function rpicamH264Level(width: number, height: number, fps: number, bitrate: number): '4' | '4.1' | '4.2' {
  const mbPerSecond = Math.ceil(width / 16) * Math.ceil(height / 16) * fps;
  if (mbPerSecond > 245760) return '4.2';
  return bitrate > 20000 ? '4.1' : '4';
}

function settings(options: H264CameraOptions): { bits: string; gop: string } {
  const bitrate = options.bitrate ?? H264_DEFAULT_BITRATE;
  return { bits: String(Math.round(bitrate * 1000)), gop: String(options.gop ?? h264DefaultGop(options.fps)) };
}

/**
 * The argument list for rpicam-vid / libcamera-vid writing H.264 Annex B to stdout: SPS and PPS before every
 * IDR (`--inline`, so a viewer can join at any keyframe), each picture flushed as it is written (`--flush`:
 * otherwise its tail waits in libc's buffer for the next one), constrained baseline.
 */
export function rpicamH264Args(options: RpicamH264Options & { readonly lowLatency?: boolean }): string[] {
  const { width, height, fps, hflip, vflip, rotation, camera } = options;
  const { bits, gop } = settings(options);
  return [
    '-t',
    '0',
    '-n',
    '--codec',
    'h264',
    '--inline',
    '--flush',
    ...(options.lowLatency ? ['--low-latency'] : []),
    '--intra',
    gop,
    '--profile',
    'baseline',
    '--level',
    rpicamH264Level(width, height, fps, options.bitrate ?? H264_DEFAULT_BITRATE),
    '--bitrate',
    bits,
    '--width',
    String(width),
    '--height',
    String(height),
    '--framerate',
    String(fps),
    ...(hflip ? ['--hflip'] : []),
    ...(vflip ? ['--vflip'] : []),
    ...(rotation === 180 ? ['--rotation', '180'] : []),
    ...(camera !== undefined ? ['--camera', String(camera)] : []),
    '-o',
    '-',
  ];
}

/**
 * The argument list for raspivid (legacy MMAL stack) writing H.264 to stdout: inline headers (`-ih`), flushed
 * per buffer (`-fl`, so unlike raspividyuv it needs no `stdbuf`), baseline.
 */
export function raspividH264Args(options: H264CameraOptions): string[] {
  const { width, height, fps, hflip, vflip, rotation } = options;
  const { bits, gop } = settings(options);
  return [
    '-t',
    '0',
    '-n',
    '-ih',
    '-fl',
    '-g',
    gop,
    '-b',
    bits,
    '-w',
    String(width),
    '-h',
    String(height),
    '-fps',
    String(fps),
    '-pf',
    'baseline',
    ...(hflip ? ['-hf'] : []),
    ...(vflip ? ['-vf'] : []),
    ...(rotation === 180 ? ['-rot', '180'] : []),
    '-o',
    '-',
  ];
}

/**
 * A camera's raw H.264 (stdout chunks) to {@link H264Picture}s: access units cut without waiting for the next
 * picture (`accessUnits`), every SPS made to declare zero reordering (`ensureZeroReorder`), then described.
 * Pictures before the first keyframe are dropped (no decoder could start there); `seq` counts the pictures
 * emitted, from 0 per subscription; `capturedAt` is when the unit's first bytes arrived; `codecString` is the
 * one of the last SPS.
 */
export function h264Pictures(
  options: Pick<H264CameraOptions, 'width' | 'height' | 'idleMs' | 'scheduler'>,
): OperatorFunction<Buffer, H264Picture> {
  const { width, height, idleMs, scheduler = asyncScheduler } = options;
  return (chunks$) =>
    defer(() => {
      let seq = 0;
      let codecString: string | undefined;
      let started = false;
      return chunks$.pipe(
        accessUnits({ idleMs, scheduler }),
        ensureZeroReorder(),
        mergeMap((au): H264Picture[] => {
          const info = describeAccessUnit(au.data);
          if (info.codecString !== undefined) codecString = info.codecString;
          started ||= info.keyframe;
          if (!started || codecString === undefined) return [];
          return [
            { data: au.data, codec: H264_ID, codecString, keyframe: info.keyframe, seq: seq++, capturedAt: au.arrivedAt, width, height },
          ];
        }),
      );
    });
}

function checkOptions(options: H264CameraOptions, command: string): void {
  assertSourceOptions(options, command);
  const { bitrate, gop } = options;
  if (bitrate !== undefined && !(Number.isFinite(bitrate) && bitrate > 0)) {
    throw new RangeError(`${command} bitrate must be a number of kbit/s above 0, got ${bitrate}`);
  }
  if (gop !== undefined && !(Number.isInteger(gop) && gop >= 1)) {
    throw new RangeError(`${command} gop must be a whole number of pictures from 1, got ${gop}`);
  }
}

/** Whether `command --help` lists `flag`; false when it does not, or fails to run. */
function helpLists(command: string, flag: string, options: ProcessSourceOptions): Observable<boolean> {
  return fromChildProcess(command, ['--help'], childOptions(options)).pipe(
    map((chunk) => chunk.toString('latin1')),
    scan((text, chunk) => text + chunk, ''),
    first((text) => text.includes(flag), ''),
    map((text) => text.includes(flag)),
    catchError(() => of(false)),
  );
}

/**
 * A Raspberry Pi camera through `rpicam-vid` (or `libcamera-vid`) encoding H.264 itself: the Pi 0–4 hardware
 * encoder, or libx264 on a Pi 5 (with `--low-latency` when the program knows it). Spawns on subscribe, kills on
 * unsubscribe; no ffmpeg involved. Only one process can own the camera: share the result.
 *
 * @example
 * rpicamH264({ width: 1280, height: 720, fps: 30, bitrate: 2000, gop: 15 }).subscribe((picture) => …);
 */
export function rpicamH264(options: RpicamH264Options): Observable<H264Picture> {
  const command = options.command ?? 'rpicam-vid';
  checkOptions(options, command);
  if (options.camera !== undefined && (!Number.isInteger(options.camera) || options.camera < 0)) {
    throw new RangeError(`${command} camera must be a whole number from 0, got ${options.camera}`);
  }
  const pi5 = options.pi5 ?? isPi5();
  const lowLatency$ =
    options.lowLatency !== undefined || !pi5 ? of(pi5 && (options.lowLatency ?? false)) : helpLists(command, '--low-latency', options);
  return lowLatency$.pipe(
    switchMap((lowLatency) => fromChildProcess(command, rpicamH264Args({ ...options, lowLatency }), childOptions(options))),
    h264Pictures(options),
  );
}

/**
 * A Raspberry Pi camera on the legacy (MMAL) stack through `raspivid`, encoding H.264 in hardware. Spawns on
 * subscribe, kills on unsubscribe.
 *
 * @example
 * raspividH264({ width: 640, height: 480, fps: 24, bitrate: 1000 }).subscribe((picture) => …);
 */
export function raspividH264(options: RaspividH264Options): Observable<H264Picture> {
  const command = options.command ?? 'raspivid';
  checkOptions(options, command);
  return fromChildProcess(command, raspividH264Args(options), childOptions(options)).pipe(h264Pictures(options));
}
