import type { Picture } from '../../picture';

/** The H.264 codec's id, as its pictures carry it (`Picture.codec`) and the `h264` codec value is called. */
export const H264_ID = 'h264';

/**
 * One H.264 access unit (all the NAL units of one coded picture), Annex B with 4-byte start codes. A key unit
 * (`keyframe: true`) is an IDR picture **with the SPS and PPS it needs in front of it**, so a decoder can start
 * there (WebCodecs' rule for an Annex B `key` chunk).
 */
export interface H264Picture extends Picture {
  readonly codec: typeof H264_ID;
  /** RFC 6381 codec string of the SPS in force, e.g. `'avc1.42C01F'` (constrained baseline, level 3.1). */
  readonly codecString: string;
}
