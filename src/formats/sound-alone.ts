import { map, type OperatorFunction } from 'rxjs';
import { mp2 } from '../audio/mp2';
import { h264 } from '../codecs/h264/h264-codec';
import type { MuxedPicture, Picture } from '../picture';
import { AUDIO_PID } from './mpegts';
import { toTsSound } from './ts-audio';
import type { WireFormat } from './wire-format';

/** What a picture of this format carries: nothing (it only paces the viewer's delivery). */
const NO_BYTES = Buffer.alloc(0);

/**
 * The server's sound alone, at `/sound`: MP2 frames in MPEG-TS, each a message of its own the moment it is encoded
 * (as on `/stream`), for a page whose picture player's own sound is slow: the MSE player's `<video>` starts sound only
 * with 200 ms of it buffered (Chromium's audio renderer), and a `<video>` holds its pictures back with its sound. So
 * that page plays `/fmp4` muted at the live edge and this through JSMpeg's MP2 decoder (its JavaScript one; no
 * secure context needed, unlike WebCodecs' AudioDecoder) into its WebAudio graph. Its pictures carry no bytes and are
 * not sent: they pace the viewer like any other's (its sound starts with its first keyframe, and is dropped while its
 * socket is backed up or lagging). Without sound on the server it sends nothing.
 */
export const soundAlone: WireFormat = {
  id: 'sound',
  label: 'MP2 sound alone in MPEG-TS (for MSE pages)',
  path: '/sound',
  codecs: [h264.id],
  audio: mp2,
  mux: (): OperatorFunction<Picture, MuxedPicture> => map((picture): MuxedPicture => ({ ...picture, wire: NO_BYTES, format: 'sound' })),
  muxSound: () => toTsSound({ ...mp2.mpegts!, pid: AUDIO_PID }, 'sound'),
};
