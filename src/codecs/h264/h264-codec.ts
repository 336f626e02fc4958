import type { Codec } from '../codec';
import { encodeH264 } from './encode-h264';
import { H264_DEFAULT_BITRATE, h264DefaultGop } from './encoder-args';
import { H264_ID, type H264Picture } from './h264-picture';
import { h264Settings, h264SettingsHelp } from './h264-settings';
import { ACCESS_UNIT_DELIMITER } from './nal';

/**
 * The H.264 codec: libx264 with one-frame-in, one-unit-out settings for frames from the test pattern, V4L2 and
 * files; the Pi cameras encode it themselves (`src/sources/camera-h264.ts`). Decoded in the page by WebCodecs or
 * MSE; carried by the `h264` and `fmp4` wire formats; old players get MPEG-1 through a transcode.
 */
export const h264: Codec<H264Picture> = {
  id: H264_ID,
  label: 'H.264',
  defaultBitrate: H264_DEFAULT_BITRATE,
  defaultGop: h264DefaultGop,
  settings: h264Settings,
  settingsHelp: h264SettingsHelp,
  encode: encodeH264,
  pipeInput: {
    demuxer: 'h264',
    // No probing: the parameter sets come with the first key unit (the hub replays from one).
    live: ['-probesize', '32', '-analyzeduration', '0'],
    // As little held back as ffmpeg allows: one decoder thread (frame threads hold a picture per thread: about 3
    // pictures on 2 cores) and low delay (our streams never reorder). Measured with ffmpeg 4.1 (the bundled one):
    // with these, a picture leaves one unit after it came in (its decoder holds one); `-fflags nobuffer` made it
    // twelve, so it is not used.
    decode: ['-flags', 'low_delay', '-c:v', 'h264', '-threads', '1'],
    // The delimiter after each unit ends it for ffmpeg's parser at once (else each picture waits for the next).
    bytes: (unit) => Buffer.concat([unit.data, ACCESS_UNIT_DELIMITER]),
  },
  // FLV (RTMP), RTSP/RTP and MPEG-TS (SRT) all carry H.264 as it is.
  publishMuxers: ['flv', 'rtsp', 'mpegts'],
  recordAs: 'fmp4',
  mpeg1Transcode: true,
  codecString: (picture) => picture.codecString,
};
