import { execFile } from 'node:child_process';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';

export interface Mpeg1StreamOptions {
  /** Number of pictures. */
  readonly frames: number;
  /** GOP length (`-g`): every `gop`-th picture is a sequence header + I picture. Default 12. */
  readonly gop?: number;
  readonly width?: number;
  readonly height?: number;
  /** Must be a rate MPEG-1 has a code for (24, 25, 30, …). Default 24. */
  readonly fps?: number;
  /** Fixed quantizer (`-q:v`). Default 4. */
  readonly quality?: number;
}

const cache = new Map<string, Promise<Buffer>>();

/** The ffmpeg arguments that make a `testsrc2` MPEG-1 elementary stream on stdout, encoded as the server does. */
export function mpeg1StreamArgs(options: Mpeg1StreamOptions): string[] {
  const { frames, gop = 12, width = 640, height = 480, fps = 24, quality = 4 } = options;
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`],
    ...['-frames:v', String(frames), '-an', '-c:v', 'mpeg1video', '-bf', '0', '-g', String(gop), '-q:v', String(quality)],
    ...['-flags', '+low_delay', '-strict', 'unofficial', '-f', 'mpeg1video', 'pipe:1'],
  ];
}

/**
 * A real MPEG-1 video elementary stream made by ffmpeg (found with `resolveFfmpeg()`), for tests: sequence header
 * + GOP header + I picture every `gop` pictures, P pictures between. Cached per options within the test process;
 * the process has exited by the time the promise resolves.
 *
 * @example
 * const stream = await mpeg1Stream({ frames: 48, gop: 12 });
 */
export function mpeg1Stream(options: Mpeg1StreamOptions): Promise<Buffer> {
  const args = mpeg1StreamArgs(options);
  const key = args.join(' ');
  let stream = cache.get(key);
  if (!stream) {
    const ffmpeg = resolveFfmpeg().path;
    stream = new Promise<Buffer>((resolve, reject) => {
      execFile(ffmpeg, args, { encoding: 'buffer', maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${ffmpeg} ${key} failed: ${err.message}\n${stderr.toString('utf8')}`));
        else resolve(stdout);
      });
    });
    cache.set(key, stream);
    stream.catch(() => cache.delete(key));
  }
  return stream;
}

/** ffmpeg's decoding of an MPEG-1 elementary stream into raw I420 pictures of `width`x`height`, one per picture. */
export async function decodeMpeg1(stream: Buffer, width: number, height: number): Promise<Buffer[]> {
  const ffmpeg = resolveFfmpeg().path;
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const child = execFile(
      ffmpeg,
      ['-v', 'error', '-f', 'mpegvideo', '-i', 'pipe:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'],
      { encoding: 'buffer', maxBuffer: 1 << 30 },
      (err, stdout, stderr) => (err ? reject(new Error(`decoding MPEG-1 failed: ${err.message}\n${stderr.toString()}`)) : resolve(stdout)),
    );
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(stream);
  });
  const bytes = (width * height * 3) / 2;
  const frames: Buffer[] = [];
  for (let at = 0; at + bytes <= raw.length; at += bytes) frames.push(raw.subarray(at, at + bytes));
  return frames;
}
