import { readFileSync } from 'node:fs';
import type { Observable } from 'rxjs';
import type { Frame } from '../frame';
import { fromChildProcess } from '../process/child-process';
import { alignUp, rawFrames } from './raw-frames';
import { checkSourceOptions, childOptions, type Checked, type ProcessSourceOptions, type SourceOptions } from './source-options';

export interface RpicamOptions extends SourceOptions, ProcessSourceOptions {
  /** The program: `'rpicam-vid'` (default; Bookworm and later) or `'libcamera-vid'` (Bullseye), or a path. */
  readonly command?: string;
  /** Which camera, when there are several (`--camera N`). */
  readonly camera?: number;
  /** A Pi 5 pads rows to 128 bytes, older models to 64. Default: read from the device tree. */
  readonly pi5?: boolean;
  /** Bytes per luma row the camera writes, when you know better than the model rule. */
  readonly stride?: number;
}

/** True on a Raspberry Pi 5 (its device tree names the BCM2712), false elsewhere or when unreadable. */
export function isPi5(compatiblePath = '/proc/device-tree/compatible'): boolean {
  try {
    // NUL-separated list, most specific first, e.g. "raspberrypi,5-model-b\0brcm,bcm2712\0".
    return readFileSync(compatiblePath, 'latin1').split('\0').includes('brcm,bcm2712');
  } catch {
    return false;
  }
}

/**
 * Bytes per luma row rpicam-vid writes for `width`: the ISP aligns the Y stride to 64 bytes on a Pi 0–4 and to
 * 128 on a Pi 5 (so its chroma rows stay 64-byte aligned); the padding is passed through untouched.
 * @example
 * rpicamStride(780, false); // 832
 */
export function rpicamStride(width: number, pi5: boolean): number {
  return alignUp(width, pi5 ? 128 : 64);
}

/** The argument list for rpicam-vid / libcamera-vid writing raw I420 to stdout. */
export function rpicamArgs(options: RpicamOptions): string[] {
  const { width, height, fps, hflip, vflip, rotation, camera } = options;
  return [
    '-n', // no preview window: saves the GPU work and needs no display
    '-t',
    '0', // run until killed (the default is 5 s)
    '--codec',
    'yuv420',
    '--width',
    String(width),
    '--height',
    String(height),
    '--framerate',
    String(fps),
    // Without it each frame's tail waits in libc's stdout buffer until the next frame: one frame of latency.
    '--flush',
    ...(hflip ? ['--hflip'] : []),
    ...(vflip ? ['--vflip'] : []),
    ...(rotation === 180 ? ['--rotation', '180'] : []),
    ...(camera !== undefined ? ['--camera', String(camera)] : []),
    '-o',
    '-',
  ];
}

/**
 * A Raspberry Pi camera through `rpicam-vid` (or `libcamera-vid`, same flags): spawns it on subscribe, crops the
 * ISP's row padding and emits tightly packed frames; kills it on unsubscribe. Only one process can own the camera
 * at a time, so share the result rather than subscribing twice. The frames are full-range YUV.
 *
 * @example
 * rpicam({ width: 640, height: 480, fps: 24, rotation: 180 }).subscribe((frame) => …);
 */
export function rpicam(options: RpicamOptions): Observable<Frame> {
  return checkedRpicam(checkSourceOptions(options, options.command ?? 'rpicam-vid'));
}

/** {@link rpicam} for options already checked (by `detectSource`): no second check. */
export function checkedRpicam(options: Checked<RpicamOptions>): Observable<Frame> {
  const command = options.command ?? 'rpicam-vid';
  if (options.camera !== undefined && (!Number.isInteger(options.camera) || options.camera < 0)) {
    throw new RangeError(`${command} camera must be a whole number from 0, got ${options.camera}`);
  }
  const stride = options.stride ?? rpicamStride(options.width, options.pi5 ?? isPi5());
  const toFrames = rawFrames({ width: options.width, height: options.height, stride, scheduler: options.scheduler });
  return fromChildProcess(command, rpicamArgs(options), childOptions(options)).pipe(toFrames);
}
