/**
 * The ISO BMFF (MP4) boxes of fragmented MP4 for one H.264 video track, written by hand: an init segment per
 * decoder configuration and a `moof`+`mdat` per access unit (ISO/IEC 14496-12; `avcC` from 14496-15). Only what
 * MSE and ffmpeg need, nothing that makes a player wait: the movie has no duration (`mvhd` 0, no `mehd`), which
 * puts Chrome's renderer in its one-frame live mode.
 */

import { box, fullBox } from './mp4-box';
import { SOUND_TRACK_ID, soundTrak, soundTrex } from './mp4-sound';

/** A sound track beside the video (AAC-LC, see mp4-sound.ts). */
export interface SoundTrack {
  readonly sampleRate: number;
  readonly channels: number;
}

/** The media timescale: 90 kHz, as MPEG-TS and RTP use for video. */
export const FMP4_TIMESCALE = 90_000;

const TRACK_ID = 1;

/** Big-endian unsigned integers, each `bytes` wide (1, 2 or 4). */
function fields(...values: readonly (readonly [number, 1 | 2 | 4])[]): Buffer {
  const out = Buffer.alloc(values.reduce((n, [, bytes]) => n + bytes, 0));
  let at = 0;
  for (const [value, bytes] of values) {
    out.writeUIntBE(value >>> 0, at, bytes);
    at += bytes;
  }
  return out;
}

/** The identity transform, as tkhd and mvhd write it (16.16 and 2.30 fixed point). */
const MATRIX = fields([0x00010000, 4], [0, 4], [0, 4], [0, 4], [0x00010000, 4], [0, 4], [0, 4], [0, 4], [0x40000000, 4]);

/** `AVCDecoderConfigurationRecord`: profile, compatibility and level from the SPS, 4-byte NAL lengths, one SPS, one PPS. */
export function avcC(sps: Buffer, pps: Buffer): Buffer {
  return box(
    'avcC',
    Buffer.from([1, sps[1]!, sps[2]!, sps[3]!, 0xff /* lengthSizeMinusOne = 3 */, 0xe1 /* one SPS */]),
    fields([sps.length, 2]),
    sps,
    Buffer.from([1]),
    fields([pps.length, 2]),
    pps,
  );
}

/**
 * The init segment (`ftyp` + `moov`) for an H.264 track of `width`x`height` whose configuration is `sps`/`pps`
 * (NAL units, header byte first), and a sound track when `sound` is given. Durations are 0 and there is no `mehd`:
 * a live stream. Each box is written where the file holds it (ISO/IEC 14496-12): the movie here, each track in
 * its own function.
 */
export function initSegment(sps: Buffer, pps: Buffer, width: number, height: number, sound?: SoundTrack): Buffer {
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), fields([0x200, 4]), Buffer.from('isomiso6avc1mp41', 'latin1'));
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    fields([0, 4], [0, 4], [1000, 4], [0, 4], [0x00010000, 4], [0x0100, 2], [0, 2], [0, 4], [0, 4]),
    MATRIX,
    Buffer.alloc(24),
    fields([(sound ? SOUND_TRACK_ID : TRACK_ID) + 1, 4]),
  );
  const trak = videoTrak(sps, pps, width, height);
  const trex = fullBox('trex', 0, 0, fields([TRACK_ID, 4], [1, 4], [0, 4], [0, 4], [0, 4]));
  if (!sound) return Buffer.concat([ftyp, box('moov', mvhd, trak, box('mvex', trex))]);
  const soundTrack = soundTrak(sound.sampleRate, sound.channels);
  return Buffer.concat([ftyp, box('moov', mvhd, trak, soundTrack, box('mvex', trex, soundTrex()))]);
}

/** The video `trak`: its header, media header, handler and the sample table that describes the H.264 stream. */
function videoTrak(sps: Buffer, pps: Buffer, width: number, height: number): Buffer {
  const tkhd = fullBox(
    'tkhd',
    0,
    0x000003 /* enabled, in movie */,
    fields([0, 4], [0, 4], [TRACK_ID, 4], [0, 4], [0, 4], [0, 4], [0, 4], [0, 2], [0, 2], [0, 2], [0, 2]),
    MATRIX,
    fields([width * 0x10000, 4], [height * 0x10000, 4]),
  );
  const mdhd = fullBox('mdhd', 0, 0, fields([0, 4], [0, 4], [FMP4_TIMESCALE, 4], [0, 4], [0x55c4 /* 'und' */, 2], [0, 2]));
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    fields([0, 4]),
    Buffer.from('vide', 'latin1'),
    Buffer.alloc(12),
    Buffer.from('VideoHandler\0', 'latin1'),
  );
  const empty = (type: string) => fullBox(type, 0, 0, fields([0, 4]));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, fields([1, 4]), avc1SampleEntry(sps, pps, width, height)),
    empty('stts'),
    empty('stsc'),
    fullBox('stsz', 0, 0, fields([0, 4], [0, 4])),
    empty('stco'),
  );
  const dinf = box('dinf', fullBox('dref', 0, 0, fields([1, 4]), fullBox('url ', 0, 1)));
  const minf = box('minf', fullBox('vmhd', 0, 1, Buffer.alloc(8)), dinf, stbl);
  return box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
}

/** The `avc1` sample entry: the picture's size and the decoder configuration (`avcC`). */
function avc1SampleEntry(sps: Buffer, pps: Buffer, width: number, height: number): Buffer {
  return box(
    'avc1',
    Buffer.alloc(6),
    fields(
      [1, 2] /* data_reference_index */,
      [0, 2],
      [0, 2],
      [0, 4],
      [0, 4],
      [0, 4],
      [width, 2],
      [height, 2],
      [0x00480000, 4],
      [0x00480000, 4],
      [0, 4],
      [1, 2],
    ),
    Buffer.alloc(32) /* compressorname */,
    fields([0x0018, 2], [0xffff, 2]),
    avcC(sps, pps),
  );
}

/** Bytes of a fragment's `moof` for one sample: mfhd (16) + traf (8 + tfhd 16 + tfdt 20 + trun 32) + 8. */
const MOOF_SIZE = 8 + 16 + 8 + 16 + 20 + 32;
const SYNC_SAMPLE_FLAGS = 0x02000000; // sample_depends_on = 2 (depends on no other)
const DELTA_SAMPLE_FLAGS = 0x01010000; // sample_depends_on = 1, sample_is_non_sync_sample = 1

/**
 * One `moof` + `mdat` holding one sample: the NAL units `nals` (each gets a 4-byte length, as `avcC` declares),
 * decoded at `decodeTime` (in {@link FMP4_TIMESCALE} ticks) for `duration` ticks. One allocation.
 */
export function fragment(sequence: number, decodeTime: number, duration: number, keyframe: boolean, nals: readonly Uint8Array[]): Buffer {
  const sampleSize = nals.reduce((n, nal) => n + 4 + nal.length, 0);
  const out = Buffer.allocUnsafe(MOOF_SIZE + 8 + sampleSize);
  let at = 0;
  const u32 = (value: number) => {
    out.writeUInt32BE(value >>> 0, at);
    at += 4;
  };
  const type = (name: string) => {
    out.write(name, at, 'latin1');
    at += 4;
  };
  u32(MOOF_SIZE);
  type('moof');
  u32(16);
  type('mfhd');
  u32(0);
  u32(sequence);
  u32(MOOF_SIZE - 24);
  type('traf');
  u32(16);
  type('tfhd');
  u32(0x020000 /* default-base-is-moof */);
  u32(TRACK_ID);
  u32(20);
  type('tfdt');
  u32(0x01000000 /* version 1: 64-bit time */);
  u32(Math.floor(decodeTime / 2 ** 32));
  u32(decodeTime % 2 ** 32);
  u32(32);
  type('trun');
  u32(0x000701 /* data offset, duration, size, flags */);
  u32(1);
  u32(MOOF_SIZE + 8 /* the sample starts right after mdat's header */);
  u32(duration);
  u32(sampleSize);
  u32(keyframe ? SYNC_SAMPLE_FLAGS : DELTA_SAMPLE_FLAGS);
  u32(8 + sampleSize);
  type('mdat');
  for (const nal of nals) {
    u32(nal.length);
    out.set(nal, at);
    at += nal.length;
  }
  return out;
}
