import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { FFMPEG_ORIGIN_LABELS, probeFfmpeg, resolveFfmpeg, which, type FfmpegOrigin, type ResolvedFfmpeg } from '../process/ffmpeg-path';
import { sourceText, type SourceSpec } from './open-source';
import { inCameraEncoder } from './in-camera';
import { CAMERA_PACKAGES, CAMERA_PROGRAMS, DEFAULT_DEVICE, isUrl } from './source-programs';

/**
 * What {@link checkSource} or {@link checkFfmpeg} found wrong before anything streamed: the source (`option:
 * 'source'`) or the ffmpeg binary (`option: 'ffmpeg'`). The message is one line for a host app
 * (`pistream: source file:/tmp/missing.mp4: no such file`); the CLI puts the flag or variable in front of
 * `given` instead and exits 2.
 */
export class SourceCheckError extends Error {
  constructor(
    /** Which setting is at fault. */
    readonly option: 'source' | 'ffmpeg',
    /** The value as configured (`file:/tmp/a.mp4`, `v4l2`, `/opt/ffmpeg`); undefined when none was (no ffmpeg found). */
    readonly given: string | undefined,
    /** What is wrong, e.g. `no such file`. */
    readonly problem: string,
    /** For ffmpeg: where `given` came from. */
    readonly origin?: FfmpegOrigin,
  ) {
    super(`pistream: ${SourceCheckError.subject(option, given, origin)}${problem}`);
    this.name = 'SourceCheckError';
  }

  private static subject(option: 'source' | 'ffmpeg', given: string | undefined, origin: FfmpegOrigin | undefined): string {
    if (given === undefined) return '';
    if (option === 'source') return `source ${given}: `;
    if (origin === 'option' || origin === undefined) return `encoder.ffmpeg ${given}: `;
    if (origin === 'env') return `PISTREAM_FFMPEG=${given}: `;
    return `ffmpeg ${given} (${FFMPEG_ORIGIN_LABELS[origin]}): `;
  }
}

/** An ffmpeg that was found and answered: where, how it was chosen, and its version. */
export interface CheckedFfmpeg extends ResolvedFfmpeg {
  /** As its `-version` says, e.g. `'6.1.1-3ubuntu5'`. */
  readonly version: string;
}

/** What {@link checkSource} found. */
export interface SourceCheck {
  /** The ffmpeg that will run, when one is needed (by a V4L2 or file source, or with `encoder: true`). */
  readonly ffmpeg?: CheckedFfmpeg;
}

export interface CheckSourceOptions {
  /** The ffmpeg binary (`--ffmpeg`, `encoder.ffmpeg`); default: {@link resolveFfmpeg}'s choice. */
  readonly ffmpeg?: string;
  /** The encoder runs ffmpeg too (every built-in codec does): check it whatever the source. Default false. */
  readonly encoder?: boolean;
  /**
   * The codec id. With one a named Pi camera encodes by itself (`inCameraEncoder`: H.264), that program is checked (raspivid rather
   * than raspividyuv on the legacy stack) and ffmpeg is not needed.
   */
  readonly codec?: string;
  /** `PATH` (for the camera programs and ffmpeg) and `PISTREAM_FFMPEG`. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Why an fs call failed, in a few words: `no such file`. */
function fsProblem(err: unknown, thing: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `no such ${thing}`;
  if (code === 'ENOTDIR') return `no such ${thing} (a part of its path is not a directory)`;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? String(err);
}

/** What stops `path` from being used as a `thing` that needs `mode` access, or undefined if nothing does. */
function pathProblem(path: string, thing: string, mode: number, kindOk: (stats: Stats) => string | undefined): string | undefined {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    return fsProblem(err, thing);
  }
  const wrongKind = kindOk(stats);
  if (wrongKind) return wrongKind;
  try {
    accessSync(path, mode);
    return undefined;
  } catch (err) {
    const problem = fsProblem(err, thing);
    return problem === 'permission denied' ? `not ${mode & constants.X_OK ? 'executable' : 'readable'} (permission denied)` : problem;
  }
}

/**
 * Finds ffmpeg as {@link resolveFfmpeg} does and runs it once ({@link probeFfmpeg}: cached, so the encoder does not
 * ask again), or throws a {@link SourceCheckError} saying what is wrong: not found, not executable, does not run,
 * or is not ffmpeg (ffprobe, say).
 * @example
 * const { path, origin, version } = await checkFfmpeg(); // e.g. '/usr/bin/ffmpeg', 'path', '6.1.1-3ubuntu5'
 */
export async function checkFfmpeg(explicit?: string, env: NodeJS.ProcessEnv = process.env): Promise<CheckedFfmpeg> {
  const given = explicit || env.PISTREAM_FFMPEG;
  const origin: FfmpegOrigin = explicit ? 'option' : 'env';
  const problem = given ? pathProblem(given, 'file', constants.X_OK, (s) => (s.isDirectory() ? 'is a directory' : undefined)) : undefined;
  if (given && problem) throw new SourceCheckError('ffmpeg', given, problem, origin);
  let found: ResolvedFfmpeg;
  try {
    found = resolveFfmpeg(explicit, env);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new SourceCheckError('ffmpeg', given || undefined, message, given ? origin : undefined);
  }
  let version: string;
  try {
    version = (await probeFfmpeg(found.path)).version;
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err))
      .replace(/^ffmpeg at .*? did not run: /, '')
      .split('\n')[0]!
      .trim();
    throw new SourceCheckError('ffmpeg', found.path, `does not run (${why})`, found.origin);
  }
  if (version === 'unknown') {
    throw new SourceCheckError('ffmpeg', found.path, 'is not ffmpeg (its -version does not start with "ffmpeg version")', found.origin);
  }
  return { ...found, version };
}

/**
 * Checks before anything streams what can be checked of a source without starting it: that the file exists and
 * is readable, that the V4L2 device exists and may be opened, that the camera program is on `PATH`, and that
 * ffmpeg is there and runs when the source (V4L2, file) or the encoder (`encoder: true`) needs it. `auto` and
 * `test` need nothing (`auto` falls back to the test pattern). Throws a {@link SourceCheckError}. The plugin runs
 * it at registration, so a host app fails there as the CLI does (which exits 2). URLs given as a file
 * (`file:rtsp://…`) are left to ffmpeg.
 * @example
 * await checkSource({ kind: 'file', path: '/tmp/missing.mp4' }); // throws: pistream: source file:/tmp/missing.mp4: no such file
 */
export async function checkSource(spec: SourceSpec, options: CheckSourceOptions = {}): Promise<SourceCheck> {
  const env = options.env ?? process.env;
  const given = sourceText(spec);
  const fail = (problem: string): never => {
    throw new SourceCheckError('source', given, problem);
  };
  switch (spec.kind) {
    case 'file': {
      if (!spec.path) fail('needs a path (file:PATH)');
      const path = spec.path!;
      if (isUrl(path)) break;
      const problem = pathProblem(path, 'file', constants.R_OK, (s) => (s.isDirectory() ? 'is a directory, not a video file' : undefined));
      if (problem) fail(problem);
      break;
    }
    case 'v4l2': {
      const device = spec.device ?? DEFAULT_DEVICE;
      const problem = pathProblem(device, 'device', constants.R_OK | constants.W_OK, (s) =>
        s.isCharacterDevice() ? undefined : 'is not a device',
      );
      if (problem === 'no such device') {
        fail(
          spec.device
            ? 'no such device (ls /dev/video* lists them)'
            : `no such device ${device} (ls /dev/video* lists them; name one as v4l2:/dev/videoN)`,
        );
      }
      if (problem?.includes('permission denied')) {
        fail(`permission denied on ${device}: add the user to the video group (sudo usermod -aG video $USER, then log in again)`);
      }
      if (problem) fail(spec.device ? problem : `${device} ${problem}`);
      break;
    }
    case 'rpicam':
    case 'libcamera':
    case 'raspivid': {
      const inCamera = inCameraEncoder(options.codec);
      const program = inCamera ? inCamera.programs[spec.kind] : CAMERA_PROGRAMS[spec.kind];
      if (which(program, env.PATH ?? '') === undefined) fail(`${program} is not on PATH (it comes with ${CAMERA_PACKAGES[spec.kind]})`);
      // The camera encodes by itself: no ffmpeg.
      if (inCamera) return {};
      break;
    }
    case 'auto':
    case 'test':
      break;
  }
  const needsFfmpeg = options.encoder === true || spec.kind === 'v4l2' || spec.kind === 'file';
  return needsFfmpeg ? { ffmpeg: await checkFfmpeg(options.ffmpeg, env) } : {};
}
