import { map } from 'rxjs';
import type { AudioPacket } from '../audio/audio-codec';
import { opus } from '../audio/opus';
import { PCM } from '../audio/pcm';
import { h264 } from '../codecs/h264/h264-codec';
import type { H264Picture } from '../codecs/h264/h264-picture';
import type { MuxedPicture, Picture } from '../picture';
import { protocol } from '../protocol';
import type { MuxedSound, WireFormat } from './wire-format';

const { UNIT_VERSION, UNIT_FLAG_KEY, UNIT_FIXED_SIZE, SOUND_KIND, SOUND_FIXED_SIZE } = protocol;

/**
 * One `/h264` message: the header public/protocol.js defines (version, key flag, size, seq, capture time, and on
 * key units the codec string), then the access unit as it is (Annex B). One allocation and one copy per
 * picture, made once for every viewer.
 * @example
 * unitMessage(au).subarray(0, 20); // 01 01 00 1f 02 80 01 e0 …: a key unit, header of 31 bytes, 640x480
 */
export function unitMessage(picture: H264Picture): Buffer {
  const codec = picture.keyframe ? picture.codecString : '';
  const size = UNIT_FIXED_SIZE + codec.length;
  const message = Buffer.allocUnsafe(size + picture.data.length);
  message.writeUInt8(UNIT_VERSION, 0);
  message.writeUInt8(picture.keyframe ? UNIT_FLAG_KEY : 0, 1);
  message.writeUInt16BE(size, 2);
  message.writeUInt16BE(picture.width, 4);
  message.writeUInt16BE(picture.height, 6);
  message.writeUInt32BE(picture.seq >>> 0, 8);
  message.writeDoubleBE(picture.capturedAt, 12);
  message.write(codec, UNIT_FIXED_SIZE, 'latin1');
  picture.data.copy(message, size);
  return message;
}

/**
 * One sound message of an `/h264` socket: the header public/protocol.js defines (kind, channels, size, sample rate,
 * capture time, codec string), then the coded frame as it is. Made once per frame for every viewer that listens.
 * @example
 * soundMessage(packet).subarray(0, 4); // 02 01 00 14: a sound frame, mono, header of 20 bytes ("opus")
 */
export function soundMessage(packet: AudioPacket, codecString: string = opus.codecString): Buffer {
  const size = SOUND_FIXED_SIZE + codecString.length;
  const message = Buffer.allocUnsafe(size + packet.data.length);
  message.writeUInt8(SOUND_KIND, 0);
  message.writeUInt8(PCM.channels, 1);
  message.writeUInt16BE(size, 2);
  message.writeUInt32BE(PCM.sampleRate, 4);
  message.writeDoubleBE(packet.capturedAt, 8);
  message.write(codecString, SOUND_FIXED_SIZE, 'latin1');
  packet.data.copy(message, size);
  return message;
}

/** The format's id (its socket path's name), not the codec's. */
const H264_UNITS_ID = 'h264';

/**
 * H.264 for WebCodecs, at `/h264`: one binary message per access unit (header + Annex B), so the page hands
 * each message to `VideoDecoder.decode()` as it arrives. Every viewer starts at a key unit, which carries the
 * codec string to configure the decoder with (and a changed one when the camera's configuration changes).
 * Sound (Opus, the encoder WebRTC viewers share) comes only to a viewer that asks for it, as messages of its own,
 * each sent as soon as it is encoded: a muted page gets no sound bytes and a picture never waits for sound.
 */
export const h264Units: WireFormat = {
  id: H264_UNITS_ID,
  label: 'H.264 access units (WebCodecs)',
  path: '/h264',
  codecs: [h264.id],
  audio: opus,
  soundOnRequest: true,
  muxSound: () =>
    map((packet: AudioPacket): MuxedSound => ({ wire: soundMessage(packet), capturedAt: packet.capturedAt, format: H264_UNITS_ID })),
  mux: () => map((picture: Picture): MuxedPicture => ({ ...picture, wire: unitMessage(picture as H264Picture), format: H264_UNITS_ID })),
};
