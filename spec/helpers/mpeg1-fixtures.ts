/**
 * Small hand-made MPEG-1 video byte fixtures: headers laid out as ISO/IEC 11172-2 (and ffmpeg) write them, with
 * slice payloads that are no valid macroblocks but contain no start code prefix either.
 */

/** `00 00 01 B3`, 640x480-style size fields, aspect 1, 24 fps, VBR, as ffmpeg writes them. */
export function sequenceHeader(width = 640, height = 480): Buffer {
  return Buffer.from([0, 0, 1, 0xb3, width >> 4, ((width & 0x0f) << 4) | (height >> 8), height & 0xff, 0x12, 0xff, 0xff, 0xe0, 0x18]);
}

/** `00 00 01 B8` with a zero time code, closed GOP. */
export function gopHeader(): Buffer {
  return Buffer.from([0, 0, 1, 0xb8, 0x00, 0x08, 0x00, 0x40]);
}

const TYPE_CODES = { I: 1, P: 2, B: 3, D: 4 } as const;

/** `00 00 01 00`: temporal_reference 10 b, picture_coding_type 3 b, vbv_delay 0xFFFF, then the P/B vector bits. */
export function pictureHeader(type: keyof typeof TYPE_CODES, temporalReference = 0): Buffer {
  const t = TYPE_CODES[type];
  return Buffer.from([0, 0, 1, 0x00, temporalReference >> 2, ((temporalReference & 3) << 6) | (t << 3) | 0x07, 0xff, 0xf8]);
}

/** `00 00 01 nn` and `length` bytes of stand-in coded data (no zero bytes, so no start code emulation). */
export function slice(row = 1, length = 6): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 1, row]), Buffer.alloc(length, 0x5a)]);
}

export const SEQUENCE_END = Buffer.from([0, 0, 1, 0xb7]);

/** Sequence header + GOP + I picture + a slice: a keyframe. */
export function keyPicture(width = 640, height = 480, sliceLength = 6): Buffer {
  return Buffer.concat([sequenceHeader(width, height), gopHeader(), pictureHeader('I'), slice(1, sliceLength)]);
}

/** P picture header + a slice. */
export function pPicture(temporalReference = 1, sliceLength = 6): Buffer {
  return Buffer.concat([pictureHeader('P', temporalReference), slice(1, sliceLength)]);
}
