import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { MultipartParser } from '../../src/codecs/multipart-parts';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';

export interface X264StreamOptions {
  readonly frames: number;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  /** `baseline` (default), `main` or `high`. */
  readonly profile?: string;
  /** Keyframe interval (`-g`), default 12. */
  readonly gop?: number;
  /**
   * Encoder threads, default 2. With `zerolatency` x264 uses sliced threads: one slice per thread, so each picture
   * has this many slices (the second and later behind 3-byte start codes), whatever the machine's core count.
   */
  readonly threads?: number;
  /** More ffmpeg output options, before the format (e.g. `['-flags', '+ildct']` for interlaced coding). */
  readonly extra?: readonly string[];
}

function x264Args(o: X264StreamOptions, format: 'h264' | 'mpjpeg'): string[] {
  const { frames, width = 320, height = 240, fps = 24, profile = 'baseline', gop = 12, threads = 2, extra = [] } = o;
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`],
    ...['-frames:v', String(frames), '-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
    ...['-bf', '0', '-profile:v', profile, '-g', String(gop), '-pix_fmt', 'yuv420p', '-threads', String(threads), ...extra],
    ...['-f', format, 'pipe:1'],
  ];
}

const cache = new Map<string, Promise<Buffer>>();

/** Runs the bundled (or configured) ffmpeg; resolves with its stdout. `input` goes to its stdin. */
export function runFfmpeg(args: readonly string[], input?: Buffer): Promise<Buffer> {
  const ffmpeg = resolveFfmpeg().path;
  return new Promise<Buffer>((resolve, reject) => {
    const child = execFile(ffmpeg, args, { encoding: 'buffer', maxBuffer: 512 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ffmpeg ${args.join(' ')} failed: ${err.message}\n${stderr.toString('utf8')}`));
      else resolve(stdout);
    });
    if (input) child.stdin!.end(input);
  });
}

function cached(args: string[]): Promise<Buffer> {
  const key = args.join(' ');
  let out = cache.get(key);
  if (!out) {
    out = runFfmpeg(args);
    cache.set(key, out);
  }
  return out;
}

/**
 * A real H.264 Annex B stream from libx264 (`testsrc2`, `ultrafast`/`zerolatency`, no B-frames), made at test
 * time and cached per options within the test process.
 * @example
 * const stream = await x264Stream({ frames: 24, width: 1920, height: 1080, profile: 'high' });
 */
export function x264Stream(options: X264StreamOptions): Promise<Buffer> {
  return cached(x264Args(options, 'h264'));
}

/** The same encode as {@link x264Stream}, as ffmpeg's own packets (one access unit each, framed by `mpjpeg`). */
export async function x264Packets(options: X264StreamOptions): Promise<Buffer[]> {
  const multipart = await cached(x264Args(options, 'mpjpeg'));
  return new MultipartParser().push(multipart);
}

/** ffmpeg's decoding of an Annex B stream into raw I420 pictures of `width`x`height` (one per access unit). */
export async function decodeH264Frames(stream: Buffer, width: number, height: number): Promise<Buffer[]> {
  const raw = await runFfmpeg(
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'h264',
      '-i',
      'pipe:0',
      '-vsync',
      'passthrough',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      'pipe:1',
    ],
    stream,
  );
  const bytes = (width * height * 3) / 2;
  const frames: Buffer[] = [];
  for (let at = 0; at + bytes <= raw.length; at += bytes) frames.push(raw.subarray(at, at + bytes));
  return frames;
}

/** What ffmpeg decodes an Annex B stream to: the md5 of the raw I420 and the number of pictures. */
export async function decodeH264(stream: Buffer, width: number, height: number): Promise<{ md5: string; pictures: number }> {
  const frames = await decodeH264Frames(stream, width, height);
  const md5 = createHash('md5');
  for (const frame of frames) md5.update(frame);
  return { md5: md5.digest('hex'), pictures: frames.length };
}
