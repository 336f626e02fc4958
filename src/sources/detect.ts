import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Observable } from 'rxjs';
import type { Frame } from '../frame';
import { resolveFfmpeg, which } from '../process/ffmpeg-path';
import { checkedRaspivid } from './raspivid';
import { checkedRpicam } from './rpicam';
import { checkSourceOptions, type ProcessSourceOptions, type SourceOptions } from './source-options';
import { checkedV4l2 } from './v4l2';

import type { SourceKindId } from './source-kinds';

/** The kinds {@link detectSource} can choose (every registered kind but `auto` itself and `file`, which needs a path). */
export type SourceKind = Exclude<SourceKindId, 'auto' | 'file'>;

export interface DetectedSource {
  readonly source: Observable<Frame>;
  readonly kind: SourceKind;
  /** What it reads, for the startup log: the camera program's path or the V4L2 device (none for the test pattern). */
  readonly target?: string;
  /** Why each candidate tried before the chosen one was not chosen, e.g. `"rpicam-vid: not on PATH"`. */
  readonly reasons: string[];
}

export interface DetectSourceOptions extends SourceOptions, ProcessSourceOptions {
  /** Makes the fallback test pattern (the composition root passes `testPattern`). */
  readonly testPattern: (options: SourceOptions) => Observable<Frame>;
  /** Where to look for the camera programs (default `process.env.PATH`). */
  readonly pathEnv?: string;
  /** Whether a file exists (default `fs.existsSync`); asked about the V4L2 device. */
  readonly exists?: (path: string) => boolean;
  /** The V4L2 device to try (default `/dev/video0`). */
  readonly device?: string;
  /** ffmpeg for the V4L2 source (default: `resolveFfmpeg()`'s choice). */
  readonly ffmpeg?: string;
  /**
   * Asks a libcamera app whether a camera is connected (default: runs `PROGRAM --list-cameras`): resolves to
   * undefined when one is, else to the reason it is not usable. Raspberry Pi OS installs rpicam-apps even on
   * Pis without a camera, so being on PATH is not enough.
   */
  readonly listCameras?: (program: string) => Promise<string | undefined>;
  /** Passed to rpicam-vid / libcamera-vid. */
  readonly pi5?: boolean;
  readonly camera?: number;
}

/**
 * Runs `program --list-cameras` (rpicam-apps and libcamera-apps both have it) and reads its answer: it lists
 * cameras as lines like `0 : imx219 [3280x2464] (/base/soc/i2c0mux/i2c@1/imx219@10)`.
 */
export function listLibcameraCameras(program: string, timeoutMs = 10_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(program, ['--list-cameras'], { timeout: timeoutMs, windowsHide: true }, (err, stdout, stderr) => {
      const text = `${stdout}\n${stderr}`;
      if (/^\s*\d+\s*:/m.test(text)) return resolve(undefined);
      if (/no cameras available/i.test(text)) return resolve('no camera connected');
      resolve(err ? `--list-cameras failed: ${err.message.split('\n')[0]}` : 'no camera listed by --list-cameras');
    });
  });
}

/**
 * Picks the first source that can work here, in this order: `rpicam-vid`, `libcamera-vid`, `raspividyuv` (on
 * PATH), a V4L2 device (`/dev/video0`, through ffmpeg), else the test pattern; and says why the others were not
 * chosen, for the startup log.
 *
 * @example
 * const { source, kind, reasons } = await detectSource({ width: 640, height: 480, fps: 24, testPattern });
 * log.info({ kind, reasons }, `source: ${kind}`);
 */
export async function detectSource(options: DetectSourceOptions): Promise<DetectedSource> {
  // Checked once, here: the source chosen below takes the checked options as they are.
  const checked = checkSourceOptions(options, 'source');
  const {
    pathEnv = process.env.PATH ?? '',
    exists = existsSync,
    device = '/dev/video0',
    listCameras = (program: string) => listLibcameraCameras(program),
  } = options;
  const reasons: string[] = [];

  for (const [name, kind] of [
    ['rpicam-vid', 'rpicam'],
    ['libcamera-vid', 'libcamera'],
  ] as const) {
    const program = which(name, pathEnv);
    if (program === undefined) {
      reasons.push(`${name}: not on PATH`);
      continue;
    }
    const unusable = await listCameras(program);
    if (unusable !== undefined) {
      reasons.push(`${name}: ${unusable}`);
      continue;
    }
    return { source: checkedRpicam({ ...checked, command: program }), kind, target: program, reasons };
  }

  const raspividyuv = which('raspividyuv', pathEnv);
  if (raspividyuv !== undefined) {
    return { source: checkedRaspivid({ ...checked, command: raspividyuv, pathEnv }), kind: 'raspivid', target: raspividyuv, reasons };
  }
  reasons.push('raspividyuv: not on PATH');

  if (!exists(device)) {
    reasons.push(`v4l2: ${device} does not exist`);
  } else {
    try {
      const ffmpeg = resolveFfmpeg(options.ffmpeg).path;
      return { source: checkedV4l2({ ...checked, device, ffmpeg }), kind: 'v4l2', target: device, reasons };
    } catch (err) {
      reasons.push(`v4l2: ${device} exists but ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const { width, height, fps, hflip, vflip, rotation } = options;
  return { source: options.testPattern({ width, height, fps, hflip, vflip, rotation }), kind: 'test', reasons };
}
