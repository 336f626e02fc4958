import type { HeaderFramedCodec } from './audio-codec';
import { AudioFrameSplitter } from './audio-frames';

/**
 * AAC-LC in ADTS frames: what MSE (`mp4a.40.2`), MP4 files and RTMP engines take. ffmpeg's native `aac` encoder,
 * 1024 samples a frame (21.3 ms at 48 kHz), with 1024 samples of priming (its first packet's timestamp is −1024).
 */
export const aac: HeaderFramedCodec = {
  id: 'aac',
  label: 'AAC-LC',
  codecString: 'mp4a.40.2',
  samplesPerFrame: 1024,
  encoderDelay: 1024,
  encoderArgs: (kbps) => ['-c:a', 'aac', '-profile:a', 'aac_low', '-b:a', `${kbps}k`, '-f', 'adts'],
  frameLength: (bytes, at) => {
    if (bytes.length < at + 7) return undefined;
    if (bytes[at] !== 0xff || (bytes[at + 1]! & 0xf6) !== 0xf0) throw new Error(`no ADTS header at byte ${at}`);
    const length = ((bytes[at + 3]! & 0x03) << 11) | (bytes[at + 4]! << 3) | (bytes[at + 5]! >> 5);
    if (length < 7) throw new Error(`ADTS header at byte ${at} has a frame length of ${length}`);
    return length;
  },
  splitter() {
    return new AudioFrameSplitter(this);
  },
  mpegts: { streamType: 0x0f, streamId: 0xc0 },
};
