import { spawn } from 'node:child_process';
import { readBarcode } from '../../src/barcode';
import { probeFfmpeg, resolveFfmpeg } from '../../src/process/ffmpeg-path';

/** What a reader of a published stream saw. */
export interface ReadBack {
  /** The barcode frame number of each decoded picture, in order (undefined where unreadable). */
  readonly frames: readonly (number | undefined)[];
  /**
   * The presentation time (s, the stream's own timestamps as the reader got them) of each decoded picture, in the
   * order of `frames` (it may run a picture or two longer: ffmpeg's `showinfo` sees a picture before `-t` ends the
   * output).
   */
  readonly times: readonly number[];
  /** Presentation times (s) of the key packets. */
  readonly keyTimes: readonly number[];
  /** From ffmpeg's stream lines: `h264 640x480`, and the audio codec if any. */
  readonly video: { readonly codec: string; readonly width: number; readonly height: number } | undefined;
  readonly audio: string | undefined;
  readonly stderr: string;
}

/**
 * Plays `url` (rtmp://…) with ffmpeg for `seconds` of stream time: every picture decoded to luma (for the barcode)
 * and every video packet listed by `framecrc` (for key packets), both from one connection.
 */
export async function readStream(url: string, seconds: number, width: number, height: number): Promise<ReadBack> {
  const ffmpeg = resolveFfmpeg().path;
  // One picture out per picture in: without passthrough, ffmpeg pads an irregular timeline (a republished stream's
  // restart) with copies of pictures, which would read as a frame number seen twice.
  const passthrough = (await probeFfmpeg(ffmpeg)).fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
  const args = [
    '-hide_banner',
    '-nostats',
    '-rw_timeout',
    '8000000',
    '-i',
    url,
    // showinfo: each decoded picture's timestamp on stderr, in output order.
    '-map',
    '0:v:0',
    '-t',
    String(seconds),
    ...passthrough,
    '-vf',
    'showinfo',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'gray',
    'pipe:1',
    '-map',
    '0:v:0',
    '-t',
    String(seconds),
    '-c',
    'copy',
    '-f',
    'framecrc',
    'pipe:3',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const frameBytes = width * height;
    const frames: (number | undefined)[] = [];
    let pending: Buffer = Buffer.alloc(0);
    child.stdout!.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= frameBytes) {
        const frame = pending.subarray(0, frameBytes);
        frames.push(readBarcode((x, y) => frame[y * width + x]!)?.frame);
        pending = pending.subarray(frameBytes);
      }
    });
    let crc = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (crc += chunk.toString()));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Only a guard against a reader that never ends (a stream that stalls inside the read timeout): reading `seconds`
    // of a live stream takes about that long, but a machine busy with other work can starve ffmpeg several-fold (CI
    // saw more than 30 s for 10), so the guard is generous and stays below the specs' 120 s timeout.
    const killAfterMs = (seconds * 4 + 40) * 1000;
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      const said = stderr
        .split('\n')
        .filter((line) => !line.includes('Parsed_showinfo'))
        .join('\n');
      if (code !== 0) {
        const how = code === null ? `was killed after ${killAfterMs / 1000} s` : `exited ${code}`;
        return reject(new Error(`ffmpeg reading ${url} ${how}: ${said.slice(-800)}`));
      }
      const tb = /^#tb 0: (\d+)\/(\d+)/m.exec(crc);
      const scale = tb ? Number(tb[1]) / Number(tb[2]) : 1 / 1000;
      const keyTimes = crc
        .split('\n')
        .filter((line) => /^0,/.test(line) && !/F=0x/.test(line))
        .map((line) => Number(line.split(',')[2]) * scale);
      const v = /Stream #0:\d+.*: Video: (\w+)[^\n]*?, (\d+)x(\d+)/.exec(stderr);
      const a = /Stream #0:\d+.*: Audio: (\w+)/.exec(stderr);
      const times = [...stderr.matchAll(/\] n: *\d+ pts: *-?\d+ pts_time:(-?[\d.e+-]+)/g)].map((m) => Number(m[1]));
      resolve({
        frames,
        times,
        keyTimes,
        video: v ? { codec: v[1]!, width: Number(v[2]), height: Number(v[3]) } : undefined,
        audio: a?.[1],
        stderr,
      });
    });
  });
}
