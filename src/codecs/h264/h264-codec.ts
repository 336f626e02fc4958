import type { Codec } from '../codec';
import { encodeH264 } from './encode-h264';
import { H264_DEFAULT_BITRATE, h264DefaultGop } from './encoder-args';
import type { H264Picture } from './h264-picture';
import { h264Settings } from './h264-settings';

/**
 * The H.264 codec: libx264 with one-frame-in, one-unit-out settings for frames from the test pattern, V4L2 and
 * files; the Pi cameras encode it themselves (`src/sources/camera-h264.ts`). Decoded in the page by WebCodecs;
 * carried by the `h264` wire format.
 */
export const h264: Codec<H264Picture> = {
  id: 'h264',
  label: 'H.264',
  defaultBitrate: H264_DEFAULT_BITRATE,
  defaultGop: h264DefaultGop,
  settings: h264Settings,
  encode: encodeH264,
};
