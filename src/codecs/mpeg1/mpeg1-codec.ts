import type { Codec } from '../codec';
import { encodeMpeg1 } from './encode-mpeg1';
import { MPEG1_DEFAULT_BITRATE, mpeg1DefaultGop } from './encoder-args';
import { MPEG1_ID, type Mpeg1Picture } from './mpeg1-picture';
import { mpeg1Settings, mpeg1SettingsHelp } from './mpeg1-settings';

/**
 * The MPEG-1 codec: ffmpeg's mpeg1video with the low-delay flags, decoded in every browser by JSMpeg. Carried by
 * the `mpegts` and `jsmp` wire formats.
 */
export const mpeg1: Codec<Mpeg1Picture> = {
  id: MPEG1_ID,
  label: 'MPEG-1',
  defaultBitrate: MPEG1_DEFAULT_BITRATE,
  defaultGop: mpeg1DefaultGop,
  settings: mpeg1Settings,
  settingsHelp: mpeg1SettingsHelp,
  encode: encodeMpeg1,
  pipeInput: {
    // `mpeg1video` is only the muxer's name; the demuxer is `mpegvideo`.
    demuxer: 'mpegvideo',
    live: [],
    decode: [],
    // A picture ends where the next start code begins, and each picture's data ends before it: nothing to add.
    bytes: (picture) => picture.data,
  },
  // Of the publishing containers only MPEG-TS (SRT) carries MPEG-1 video; FLV and RTSP here carry H.264 only.
  publishMuxers: ['mpegts'],
  recordAs: 'mpegts',
};
