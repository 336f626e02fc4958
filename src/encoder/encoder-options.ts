import type { ChildProcess } from 'node:child_process';
import { assertFrameSize } from '../frame';
import type { SpawnFn } from '../sources/child-process';

/** The picture rates MPEG-1 has codes for (ISO/IEC 11172-2 picture_rate 1–8). */
export const MPEG1_FRAME_RATES = [24000 / 1001, 24, 25, 30000 / 1001, 30, 50, 60000 / 1001, 60] as const;

export interface EncoderOptions {
  readonly width: number;
  readonly height: number;
  /** Frames per second of the input; MPEG-1 codes 23.976–60 only, unless `allowNonstandardFps`. */
  readonly fps: number;
  /** Target bitrate in kbit/s (default 800, as the original). Ignored when `quality` is set. */
  readonly bitrate?: number;
  /** Fixed quantiser 2 (best) … 31 instead of a bitrate: steady quality, variable bandwidth. */
  readonly quality?: number;
  /** Pictures per GOP: a new viewer can only start at an I picture. Default: fps rounded (one a second). */
  readonly gop?: number;
  /** Encoder slice threads. Default: ffmpeg's choice (one per core). */
  readonly threads?: number;
  /** Input is full-range YUV (Pi cameras): convert to the limited range JSMpeg's shader expects (costs CPU). */
  readonly fullRange?: boolean;
  /** Allow rates below 23.976 with ffmpeg's unofficial MPEG-1 frame rate codes (JSMpeg plays them). */
  readonly allowNonstandardFps?: boolean;
  /** Path of the ffmpeg binary. Default: `resolveFfmpeg()` (PISTREAM_FFMPEG, PATH, @ffmpeg-installer). */
  readonly ffmpeg?: string;
  /** Injected spawn (tests). */
  readonly spawn?: SpawnFn;
  /** Called with the ffmpeg child right after it starts. */
  readonly onSpawn?: (child: ChildProcess) => void;
  /** Counters to update (shared with the hub's stats). */
  readonly counters?: EncoderCounters;
}

/** Counters the encoder keeps, for stats and metrics. */
export interface EncoderCounters {
  /** Frames offered to the encoder. */
  framesIn: number;
  /** Frames dropped because ffmpeg had not taken the previous one yet (latest wins: no queue). */
  framesDropped: number;
  /** Pictures the encoder produced. */
  pictures: number;
}

export function createEncoderCounters(): EncoderCounters {
  return { framesIn: 0, framesDropped: 0, pictures: 0 };
}

/** Throws an error naming the option when the encoder options cannot work. */
export function validateEncoderOptions(o: EncoderOptions): void {
  assertFrameSize(o.width, o.height, 'encoder');
  const minFps = o.allowNonstandardFps ? 1 : 23.976;
  if (!(Number.isFinite(o.fps) && o.fps >= minFps && o.fps <= 60)) {
    throw new RangeError(
      o.allowNonstandardFps
        ? `encoder fps must be from 1 to 60, got ${o.fps}`
        : `encoder fps must be from 23.976 to 60 (the rates MPEG-1 can code), got ${o.fps}; ` +
            'allow lower rates with allowNonstandardFps (--allow-nonstandard-fps)',
    );
  }
  if (o.bitrate !== undefined && !(Number.isFinite(o.bitrate) && o.bitrate >= 16 && o.bitrate <= 100_000)) {
    throw new RangeError(`encoder bitrate must be 16–100000 kbit/s, got ${o.bitrate}`);
  }
  if (o.quality !== undefined && !(Number.isInteger(o.quality) && o.quality >= 2 && o.quality <= 31)) {
    throw new RangeError(`encoder quality must be a whole number from 2 to 31, got ${o.quality}`);
  }
  if (o.gop !== undefined && !(Number.isInteger(o.gop) && o.gop >= 1 && o.gop <= 600)) {
    throw new RangeError(`encoder gop must be a whole number from 1 to 600, got ${o.gop}`);
  }
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1 && o.threads <= 16)) {
    throw new RangeError(`encoder threads must be a whole number from 1 to 16, got ${o.threads}`);
  }
}

/**
 * ffmpeg's argument array for our encoder (DESIGN §4): raw I420 on stdin, MPEG-1 out in `mpjpeg` framing so each
 * picture's end is known the moment it is written.
 * @param fpsMode whether the binary knows `-fps_mode` (ffmpeg ≥ 5.1); older ones spell it `-vsync`.
 */
export function encoderArgs(o: EncoderOptions, fpsMode: boolean): string[] {
  const gop = o.gop ?? Math.max(1, Math.round(o.fps));
  return [
    '-hide_banner', '-nostats', '-loglevel', 'warning',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${o.width}x${o.height}`,
    '-framerate', String(o.fps), '-i', 'pipe:0',
    '-an',
    ...(o.fullRange ? ['-vf', 'scale=in_range=full:out_range=limited'] : []),
    '-c:v', 'mpeg1video',
    // JSMpeg cannot show B pictures, and without them pictures leave in input order: the n-th picture out
    // is the n-th frame in, which is how capture times travel through ffmpeg.
    '-bf', '0',
    '-g', String(gop),
    // low_delay removes the encoder's one-picture hold-back (same bytes out); MPEG-1 needs strict ≤ unofficial
    // for it, which also admits the non-standard frame rate codes.
    '-flags', '+low_delay', '-strict', 'unofficial',
    ...(o.quality !== undefined ? ['-q:v', String(o.quality)] : ['-b:v', `${o.bitrate ?? 800}k`]),
    ...(o.threads !== undefined ? ['-threads', String(o.threads)] : []),
    // Passthrough: ffmpeg neither drops nor duplicates frames to fit the declared rate.
    ...(fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    // mpjpeg writes each picture with a Content-length header and flushes it at once.
    '-flush_packets', '1',
    '-f', 'mpjpeg', 'pipe:1',
  ];
}
