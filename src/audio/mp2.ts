import type { HeaderFramedCodec } from './audio-codec';
import { AudioFrameSplitter } from './audio-frames';

/** MPEG-1 Layer II bit rates by bitrate_index (kbit/s); 0 is "free format", 15 is forbidden. */
const MP2_BITRATES = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
/** MPEG-1 sampling_frequency codes. */
const MP2_RATES = [44_100, 48_000, 32_000];
/** What a mono MP2 stream may use (a mono Layer II stream allows 32–192 kbit/s). */
const MONO_BITRATES = MP2_BITRATES.filter((rate) => rate >= 32 && rate <= 192);

/** The mono MP2 bitrate nearest to `kbps` (MP2 has a fixed list). */
export function mp2Bitrate(kbps: number): number {
  return MONO_BITRATES.reduce((best, rate) => (Math.abs(rate - kbps) < Math.abs(best - kbps) ? rate : best));
}

/**
 * MPEG-1 Audio Layer II: what JSMpeg decodes, so `/stream` carries it beside MPEG-1 video (JSMpeg's own relay does
 * the same). 1152 samples a frame (24 ms at 48 kHz); ffmpeg's `mp2` encoder, raw frames out (`-f mp2`).
 */
export const mp2: HeaderFramedCodec = {
  id: 'mp2',
  label: 'MP2',
  codecString: 'mp2',
  samplesPerFrame: 1152,
  // Measured (spec/audio/audio-stream.spec.ts): ffmpeg's MP2 encoder and decoder together shift a beep's onset by
  // about 480 samples, the Layer II filter bank's delay; ffmpeg declares no priming for it.
  encoderDelay: 481,
  encoderArgs: (kbps) => ['-c:a', 'mp2', '-b:a', `${mp2Bitrate(kbps)}k`, '-f', 'mp2'],
  frameLength: (bytes, at) => {
    if (bytes.length < at + 4) return undefined;
    const b1 = bytes[at + 1]!;
    // sync (11 bits), version MPEG-1 ('11'), layer II ('10')
    if (bytes[at] !== 0xff || (b1 & 0xfe) !== 0xfc) throw new Error(`no MP2 frame header at byte ${at}`);
    const b2 = bytes[at + 2]!;
    const bitrate = MP2_BITRATES[b2 >> 4];
    const rate = MP2_RATES[(b2 >> 2) & 0x03];
    if (!bitrate || !rate) throw new Error(`MP2 frame header at byte ${at} has an unusable bitrate or rate`);
    return Math.floor((144_000 * bitrate) / rate) + ((b2 >> 1) & 1);
  },
  splitter() {
    return new AudioFrameSplitter(this);
  },
  mpegts: { streamType: 0x03, streamId: 0xc0 },
};
