import type { EncoderSettings } from '../codec';
import { rawInputArgs } from '../raw-input';
import { h264Level } from './levels';

/**
 * kbit/s when neither bitrate nor quality is given: MPEG-1's nominal rate. x264's fastest preset (which the
 * latency needs) reaches MPEG-1's SSIM on the test pattern only at about 740 kbit/s at 640x480, and 390 on
 * ffmpeg's testsrc2 (`npm run bench -- --parts 6`); MPEG-1's "800" actually sends 880–1800. So at the same
 * default H.264 looks at least as good and sends less; lower it where the picture allows.
 */
export const H264_DEFAULT_BITRATE = 800;

/** One keyframe a second, as for MPEG-1: a slow viewer resumes, and a publishing target gets keys, within a second. */
export function h264DefaultGop(fps: number): number {
  return Math.max(1, Math.round(fps));
}

/**
 * ffmpeg's argument array for our H.264 encoder: raw I420 on stdin, libx264 tuned for one frame in, one access
 * unit out (`ultrafast`, `zerolatency`: no B-frames, no lookahead, sliced threads), constrained baseline at the
 * lowest level that covers the stream (every browser and phone decodes it), each access unit in `mpjpeg`
 * framing so its end is known the moment it is written. Without a global header x264 repeats SPS and PPS
 * before every IDR, so every key unit is a place a decoder can start.
 * @param fpsMode whether the binary knows `-fps_mode` (ffmpeg ≥ 5.1); older ones spell it `-vsync`.
 */
export function h264EncoderArgs(o: EncoderSettings, fpsMode: boolean): string[] {
  const gop = o.gop ?? h264DefaultGop(o.fps);
  const bitrate = o.quality === undefined ? (o.bitrate ?? H264_DEFAULT_BITRATE) : undefined;
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'warning',
    ...rawInputArgs(o),
    '-an',
    ...(o.fullRange ? ['-vf', 'scale=in_range=full:out_range=limited'] : []),
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-profile:v',
    'baseline',
    '-level:v',
    h264Level({ width: o.width, height: o.height, fps: o.fps, ...(bitrate ? { bitrate } : {}) }).name,
    // zerolatency already means no B-frames; said again because pictures must leave in input order: the n-th
    // access unit out is the n-th frame in, which is how capture times travel through ffmpeg.
    '-bf',
    '0',
    '-g',
    String(gop),
    // A bitrate is held over one second (VBV), so a keyframe cannot burst far past the link's rate.
    ...(bitrate !== undefined
      ? ['-b:v', `${bitrate}k`, '-maxrate', `${bitrate}k`, '-bufsize', `${bitrate}k`]
      : ['-crf', String(o.quality)]),
    ...(o.threads !== undefined ? ['-threads', String(o.threads)] : []),
    ...(fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    '-flush_packets',
    '1',
    '-f',
    'mpjpeg',
    'pipe:1',
  ];
}
