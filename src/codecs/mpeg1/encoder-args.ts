import type { EncoderSettings } from '../codec';
import { rawInputArgs } from '../raw-input';

/** The original pistreaming's bitrate, in kbit/s: ffmpeg's own default (200) is far too low for 640x480. */
export const MPEG1_DEFAULT_BITRATE = 800;

/** One keyframe a second: a viewer who loses a picture recovers within a second (joining is instant anyway). */
export function mpeg1DefaultGop(fps: number): number {
  return Math.max(1, Math.round(fps));
}

export { rawInputArgs } from '../raw-input';

/**
 * ffmpeg's argument array for our MPEG-1 encoder: raw I420 on stdin (or what `input` says: a transcoder's
 * H.264), MPEG-1 out in `mpjpeg` framing so each picture's end is known the moment it is written.
 * @param fpsMode whether the binary knows `-fps_mode` (ffmpeg ≥ 5.1); older ones spell it `-vsync`.
 */
export function encoderArgs(o: EncoderSettings, fpsMode: boolean, input: readonly string[] = rawInputArgs(o)): string[] {
  const gop = o.gop ?? mpeg1DefaultGop(o.fps);
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'warning',
    ...input,
    '-an',
    ...(o.fullRange ? ['-vf', 'scale=in_range=full:out_range=limited'] : []),
    '-c:v',
    'mpeg1video',
    // JSMpeg cannot show B pictures, and without them pictures leave in input order: the n-th picture out
    // is the n-th frame in, which is how capture times travel through ffmpeg.
    '-bf',
    '0',
    '-g',
    String(gop),
    // low_delay removes the encoder's one-picture hold-back (same bytes out); MPEG-1 needs strict ≤ unofficial
    // for it, which also admits the non-standard frame rate codes.
    '-flags',
    '+low_delay',
    '-strict',
    'unofficial',
    ...(o.quality !== undefined ? ['-q:v', String(o.quality)] : ['-b:v', `${o.bitrate ?? MPEG1_DEFAULT_BITRATE}k`]),
    ...(o.threads !== undefined ? ['-threads', String(o.threads)] : []),
    // Passthrough: ffmpeg neither drops nor duplicates frames to fit the declared rate.
    ...(fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    // mpjpeg writes each picture with a Content-length header and flushes it at once.
    '-flush_packets',
    '1',
    '-f',
    'mpjpeg',
    'pipe:1',
  ];
}
