/**
 * The sound track of fragmented MP4 (ISO/IEC 14496-12, 14496-14 for `esds`): AAC-LC from ADTS frames, track 2,
 * timescale 48 kHz, beside the H.264 track of mp4-boxes.ts. Used by recordings of H.264 (one `.mp4` file holds
 * picture and sound); its fragments are separate `moof`+`mdat` pairs, so the video fragments stay as they are.
 */
import type { AudioPacket } from '../audio/audio-codec';
import { box, fullBox } from './mp4-box';

/** The sound track's id (the video is 1). */
export const SOUND_TRACK_ID = 2;

const u8 = (...values: number[]) => Buffer.from(values);
function u16(value: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(value, 0);
  return b;
}
function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

/** An MPEG-4 descriptor: tag, length (one byte: ours are short), body. */
function descriptor(tag: number, ...body: readonly Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([u8(tag, payload.length), payload]);
}

/**
 * The AudioSpecificConfig of AAC-LC (object type 2) at `sampleRate` with `channels`: what an ADTS header says, in
 * the two bytes `esds` carries.
 * @example
 * aacSpecificConfig(48_000, 1); // <Buffer 11 88>
 */
export function aacSpecificConfig(sampleRate: number, channels: number): Buffer {
  const rates = [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8000, 7350];
  const index = rates.indexOf(sampleRate);
  if (index < 0) throw new RangeError(`AAC has no sampling frequency index for ${sampleRate} Hz`);
  return u16((2 << 11) | (index << 7) | (channels << 3));
}

/** The `mp4a` sample entry: AAC-LC at `sampleRate` with `channels`, its decoder configuration in `esds`. */
function mp4aSampleEntry(sampleRate: number, channels: number): Buffer {
  const esds = fullBox(
    'esds',
    0,
    0,
    descriptor(
      0x03, // ES_Descriptor
      u16(SOUND_TRACK_ID),
      u8(0),
      descriptor(
        0x04,
        u8(0x40 /* MPEG-4 audio */, 0x15 /* audio stream */, 0, 0, 0),
        u32(0),
        u32(0),
        descriptor(0x05, aacSpecificConfig(sampleRate, channels)),
      ),
      descriptor(0x06, u8(0x02)),
    ),
  );
  return box('mp4a', Buffer.alloc(6), u16(1), Buffer.alloc(8), u16(channels), u16(16), u16(0), u16(0), u32(sampleRate * 0x10000), esds);
}

/** The `trak` of the sound track: `mp4a` with its `esds`, no samples (they come in fragments). */
export function soundTrak(sampleRate: number, channels: number): Buffer {
  const empty = (type: string) => fullBox(type, 0, 0, u32(0));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), mp4aSampleEntry(sampleRate, channels)),
    empty('stts'),
    empty('stsc'),
    fullBox('stsz', 0, 0, u32(0), u32(0)),
    empty('stco'),
  );
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const minf = box('minf', fullBox('smhd', 0, 0, u32(0)), dinf, stbl);
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(sampleRate), u32(0), u16(0x55c4 /* 'und' */), u16(0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('soun', 'latin1'), Buffer.alloc(12), Buffer.from('SoundHandler\0', 'latin1'));
  const identity = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000].map(u32);
  // enabled, in movie; volume 1.0; no width or height
  const tkhd = fullBox(
    'tkhd',
    0,
    3,
    u32(0),
    u32(0),
    u32(SOUND_TRACK_ID),
    u32(0),
    u32(0),
    u32(0),
    u32(0),
    u16(0),
    u16(0),
    u16(0x0100),
    u16(0),
    ...identity,
    u32(0),
    u32(0),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
}

/** The `trex` of the sound track (for `mvex`). */
export function soundTrex(): Buffer {
  return fullBox('trex', 0, 0, u32(SOUND_TRACK_ID), u32(1), u32(0), u32(0), u32(0));
}

/** ADTS frame → raw AAC (MP4 samples carry no ADTS header: 7 bytes, or 9 with a CRC). */
export function adtsPayload(frame: Buffer): Buffer {
  const protectionAbsent = frame[1]! & 0x01;
  return frame.subarray(protectionAbsent ? 7 : 9);
}

/**
 * One `moof` + `mdat` of the sound track: `frames` (ADTS, consecutive), from `decodeTime` (in `sampleRate` ticks),
 * each lasting `samplesPerFrame`.
 */
export function soundFragment(sequence: number, decodeTime: number, samplesPerFrame: number, frames: readonly AudioPacket[]): Buffer {
  const samples = frames.map((frame) => adtsPayload(frame.data));
  const trun = fullBox('trun', 0, 0x000201 /* data offset, sizes */, u32(samples.length), u32(0), ...samples.map((s) => u32(s.length)));
  const tfhd = fullBox('tfhd', 0, 0x020008 /* default-base-is-moof, default duration */, u32(SOUND_TRACK_ID), u32(samplesPerFrame));
  const tfdt = fullBox('tfdt', 1, 0, u32(Math.floor(decodeTime / 2 ** 32)), u32(decodeTime % 2 ** 32));
  const moof = box('moof', fullBox('mfhd', 0, 0, u32(sequence)), box('traf', tfhd, tfdt, trun));
  // trun's data_offset: from the moof's first byte to the first sample, past the mdat header.
  const offsetAt = moof.length - (4 * samples.length + 4);
  moof.writeUInt32BE(moof.length + 8, offsetAt);
  return Buffer.concat([moof, box('mdat', ...samples)]);
}
