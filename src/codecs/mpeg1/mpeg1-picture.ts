import type { Picture } from '../../picture';

/** MPEG-1 picture coding types that ffmpeg's mpeg1video encoder emits (B only with `-bf` > 0, which we never set). */
export type PictureType = 'I' | 'P' | 'B' | 'D';

/** The MPEG-1 codec's id, as its pictures carry it (`Picture.codec`) and the `mpeg1` codec value is called. */
export const MPEG1_ID = 'mpeg1';

/**
 * One coded MPEG-1 picture: `data` runs from the first header start code up to (not including) the next
 * picture's, so a keyframe carries its sequence and GOP headers.
 */
export interface Mpeg1Picture extends Picture {
  readonly codec: typeof MPEG1_ID;
  readonly type: PictureType;
}
