import type { H264Picture } from '../codecs/h264/h264-picture';
import { codecById } from '../codecs';
import type { Codec } from '../codecs/codec';
import { fmp4, Fmp4Muxer } from '../formats/fmp4';
import { mpegts, MpegTsMuxer } from '../formats/mpegts';
import type { Picture } from '../picture';
import { aac } from '../audio/aac';
import type { AudioCodec, AudioPacket } from '../audio/audio-codec';
import { mp2 } from '../audio/mp2';
import { PCM } from '../audio/pcm';
import type { SegmentExtension } from './segment-name';

/**
 * Turns the pictures of one segment file into its bytes: what a file needs first comes with the first picture;
 * with sound, the audio frames captured since the previous picture come with each picture.
 */
export interface SegmentMuxer {
  mux(picture: Picture, audio?: readonly AudioPacket[]): Buffer;
}

/** The container of a codec's recordings: its file extension and a fresh muxer per segment. */
export interface SegmentFormat {
  readonly ext: SegmentExtension;
  /** The sound codec its files carry when the server has sound (the one its wire format's players take). */
  readonly audio: AudioCodec;
  /** A muxer for one new segment (continuity counters, decode times and headers start afresh in each file). */
  create(withSound?: boolean): SegmentMuxer;
}

/** Top-level MP4 boxes at the start of `bytes` whose type is in `drop` are cut off (an init segment: ftyp, moov). */
function withoutLeadingBoxes(bytes: Buffer, drop: ReadonlySet<string>): Buffer {
  let at = 0;
  while (at + 8 <= bytes.length) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (!drop.has(type) || size < 8) break;
    at += size;
  }
  return at === 0 ? bytes : bytes.subarray(at);
}

const INIT_BOXES: ReadonlySet<string> = new Set(['ftyp', 'moov']);

/**
 * MPEG-TS with MPEG-1 video, as the `/stream` viewers get it: each segment a fresh {@link MpegTsMuxer}, so its
 * first picture (a keyframe) brings PAT and PMT and the continuity counters start at 0. Plays in VLC, mpv, ffmpeg.
 */
export const mpeg1Segments: SegmentFormat = {
  ext: 'ts',
  // MP2, as /stream carries it: one encode for both, and every player of .ts files plays it.
  audio: mp2,
  create: (withSound) => new MpegTsMuxer(withSound ? { audio: mp2.mpegts! } : {}),
};

/**
 * Fragmented MP4 with H.264, from the `/fmp4` format's {@link Fmp4Muxer}: one init segment (`ftyp` + `moov`) at
 * the start of the file, then a `moof` + `mdat` per picture. The muxer puts an init segment before every key
 * unit (for viewers joining there); inside one file the first is enough, and a second `moov` is something
 * players warn about, so later ones are cut off.
 */
export const h264Segments: SegmentFormat = {
  ext: 'mp4',
  audio: aac,
  create: (withSound) => {
    const sound = { sampleRate: PCM.sampleRate, channels: PCM.channels, samplesPerFrame: aac.samplesPerFrame };
    const muxer = new Fmp4Muxer(undefined, withSound ? sound : undefined);
    let first = true;
    return {
      mux: (picture, audio) => {
        const bytes = muxer.mux(picture as H264Picture, audio);
        if (first) {
          first = false;
          return bytes;
        }
        return picture.keyframe ? withoutLeadingBoxes(bytes, INIT_BOXES) : bytes;
      },
    };
  },
};

/** The segment containers, by the wire format whose muxer writes them (what a codec's `recordAs` names). */
const SEGMENT_FORMATS: ReadonlyMap<string, SegmentFormat> = new Map([
  [mpegts.id, mpeg1Segments],
  [fmp4.id, h264Segments],
]);

/**
 * The recording container of a codec (by value, or by id in the registry), or undefined when pistream cannot
 * record it: the codec names the wire format whose muxer writes its segments (`Codec.recordAs`).
 * @example
 * segmentFormatFor('h264')?.ext; // 'mp4'
 */
export function segmentFormatFor(codec: string | Pick<Codec, 'id' | 'recordAs'>): SegmentFormat | undefined {
  const found = typeof codec === 'string' ? codecById(codec) : codec;
  return found?.recordAs === undefined ? undefined : SEGMENT_FORMATS.get(found.recordAs);
}
