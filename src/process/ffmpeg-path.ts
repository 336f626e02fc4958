import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where the ffmpeg binary came from, for the startup log. */
export type FfmpegOrigin = 'option' | 'env' | 'path' | '@ffmpeg-installer/ffmpeg';

/** Each origin as the startup log says it: `ffmpeg 6.1.1 at /usr/bin/ffmpeg (found on PATH)`. */
export const FFMPEG_ORIGIN_LABELS: Readonly<Record<FfmpegOrigin, string>> = {
  option: 'from --ffmpeg/PISTREAM_FFMPEG, the encoder.ffmpeg option',
  env: 'from PISTREAM_FFMPEG',
  path: 'found on PATH',
  '@ffmpeg-installer/ffmpeg': 'the bundled @ffmpeg-installer/ffmpeg',
};

export interface ResolvedFfmpeg {
  readonly path: string;
  readonly origin: FfmpegOrigin;
}

/** A file (not a folder: those have the x bit too) that may be executed. */
function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on `PATH`, or undefined. */
export function which(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds ffmpeg: the explicit path (`--ffmpeg`), else `PISTREAM_FFMPEG`, else `ffmpeg` on `PATH`, else the binary
 * that the `@ffmpeg-installer/ffmpeg` package ships inside npm. Throws an error that says what was tried.
 */
export function resolveFfmpeg(explicit?: string, env: NodeJS.ProcessEnv = process.env): ResolvedFfmpeg {
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`ffmpeg not found or not executable at ${explicit} (from --ffmpeg)`);
    return { path: explicit, origin: 'option' };
  }
  const fromEnv = env.PISTREAM_FFMPEG;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`ffmpeg not found or not executable at ${fromEnv} (from PISTREAM_FFMPEG)`);
    return { path: fromEnv, origin: 'env' };
  }
  const onPath = which('ffmpeg', env.PATH ?? '');
  if (onPath) return { path: onPath, origin: 'path' };
  let installerError: string;
  try {
    // It throws a plain string at require() time on unsupported platforms or when the binary is missing.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
    if (isExecutable(installer.path)) return { path: installer.path, origin: '@ffmpeg-installer/ffmpeg' };
    installerError = `${installer.path} is not executable`;
  } catch (err) {
    installerError = String(err instanceof Error ? err.message : err);
  }
  throw new Error(
    `ffmpeg not found: pass --ffmpeg PATH or set PISTREAM_FFMPEG, install it (apt install ffmpeg), ` +
      `or reinstall with optional dependencies (@ffmpeg-installer/ffmpeg: ${installerError})`,
  );
}

/** What an ffmpeg binary can do, where versions differ. */
export interface FfmpegCapabilities {
  /** e.g. `'N-47683-g0e8eb07980-static'` or `'5.1.9-0+deb12u1'`. */
  readonly version: string;
  /** `-fps_mode` (ffmpeg ≥ 5.1); older builds only know `-vsync`. */
  readonly fpsMode: boolean;
  /**
   * The WAV demuxer's `-max_size` (packets read from a pipe of at most that many bytes; not in ffmpeg 4.1's): what
   * lets an encoder reading PCM from a pipe start on a few ms of sound instead of a whole 21 ms packet.
   */
  readonly wavMaxSize: boolean;
}

const probes = new Map<string, Promise<FfmpegCapabilities>>();

/** Asks the binary what it supports (once per path, cached): never assume from a version number. */
export function probeFfmpeg(path: string): Promise<FfmpegCapabilities> {
  let probe = probes.get(path);
  if (!probe) {
    probe = new Promise<FfmpegCapabilities>((resolve, reject) => {
      execFile(path, ['-hide_banner', '-h', 'long'], { maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
        if (err && !stdout) return reject(new Error(`ffmpeg at ${path} did not run: ${err.message}`));
        const text = `${stdout}\n${stderr}`;
        execFile(path, ['-hide_banner', '-version'], (err2, vout) => {
          if (err2) return reject(new Error(`ffmpeg at ${path} did not run: ${err2.message}`));
          const version = /ffmpeg version (\S+)/.exec(vout)?.[1] ?? 'unknown';
          // A demuxer's options are not in `-h long`: ask for the WAV demuxer's own (its help exits 0 either way).
          execFile(path, ['-hide_banner', '-h', 'demuxer=wav'], (_err3, wout) => {
            resolve({ version, fpsMode: /-fps_mode\b/.test(text), wavMaxSize: /-max_size\b/.test(wout ?? '') });
          });
        });
      });
    });
    probes.set(path, probe);
    probe.catch(() => probes.delete(path));
  }
  return probe;
}

const protocolProbes = new Map<string, Promise<readonly string[]>>();

/**
 * The protocols the binary can write to (`ffmpeg -protocols`, its "Output:" list; once per path, cached), e.g. to
 * learn whether it has `srt` (the bundled static 4.1 has not; Debian's ffmpeg has).
 * @example
 * (await probeOutputProtocols('/usr/bin/ffmpeg')).includes('srt');
 */
export function probeOutputProtocols(path: string): Promise<readonly string[]> {
  let probe = protocolProbes.get(path);
  if (!probe) {
    probe = new Promise<readonly string[]>((resolve, reject) => {
      execFile(path, ['-hide_banner', '-protocols'], { maxBuffer: 1 << 20 }, (err, stdout) => {
        if (err && !stdout) return reject(new Error(`ffmpeg at ${path} did not run: ${err.message}`));
        const output = stdout.split(/^Output:\s*$/m)[1] ?? '';
        resolve(output.split(/\s+/).filter((name) => /^[a-z0-9_]+$/.test(name)));
      });
    });
    protocolProbes.set(path, probe);
    probe.catch(() => protocolProbes.delete(path));
  }
  return probe;
}
