import { findStartCode } from '../common/start-code';
import type { PictureType } from './mpeg1-picture';

export { findStartCode };

/**
 * MPEG-1 video start codes (ISO/IEC 11172-2): the byte after `00 00 01`. Start codes are byte aligned and
 * cannot be emulated inside coded data (no 23 consecutive zero bits), so a plain scan for `00 00 01` is safe.
 */
export const START_CODE = {
  picture: 0x00,
  sliceFirst: 0x01,
  sliceLast: 0xaf,
  userData: 0xb2,
  sequenceHeader: 0xb3,
  sequenceError: 0xb4,
  extension: 0xb5,
  sequenceEnd: 0xb7,
  group: 0xb8,
} as const;

const PICTURE_TYPES: readonly (PictureType | undefined)[] = [undefined, 'I', 'P', 'B', 'D'];

/** What a coded picture's headers say about it. */
export interface PictureInfo {
  readonly type: PictureType;
  /** A sequence header precedes an I picture: a decoder can start here. */
  readonly keyframe: boolean;
  /** Offset of the picture start code in the buffer. */
  readonly pictureOffset: number;
  /** Frame size from the sequence header, when there is one. */
  readonly width?: number;
  readonly height?: number;
}

/**
 * Reads the headers at the start of one coded picture (sequence header, GOP header, picture header).
 * Returns `undefined` when the bytes hold no complete picture header.
 */
export function describePicture(data: Uint8Array): PictureInfo | undefined {
  let seqHeader = -1;
  for (let i = findStartCode(data); i >= 0 && i + 3 < data.length; i = findStartCode(data, i + 3)) {
    const code = data[i + 3]!;
    if (code === START_CODE.sequenceHeader && seqHeader < 0) seqHeader = i;
    if (code === START_CODE.picture) {
      // Picture header after the start code: temporal_reference (10 bits), picture_coding_type (3 bits).
      if (i + 5 >= data.length) return undefined;
      const type = PICTURE_TYPES[(data[i + 5]! >> 3) & 7];
      if (type === undefined) return undefined;
      const keyframe = type === 'I' && seqHeader >= 0;
      if (seqHeader >= 0 && seqHeader + 6 < data.length) {
        // horizontal_size (12 bits), vertical_size (12 bits)
        const a = data[seqHeader + 4]!,
          b = data[seqHeader + 5]!,
          c = data[seqHeader + 6]!;
        return { type, keyframe, pictureOffset: i, width: (a << 4) | (b >> 4), height: ((b & 0x0f) << 8) | c };
      }
      return { type, keyframe, pictureOffset: i };
    }
    // Slices belong to a picture whose header we have passed; the first slice means no picture header was seen.
    if (code >= START_CODE.sliceFirst && code <= START_CODE.sliceLast) return undefined;
  }
  return undefined;
}
