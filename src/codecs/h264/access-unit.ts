import { NAL_TYPE, isVcl, nalType, nalUnits } from './nal';
import { codecString } from './sps';

/** What one access unit's NAL units say about it. */
export interface AccessUnitInfo {
  /** An IDR slice with an SPS and a PPS before it: a decoder can start here (WebCodecs' `key` chunk). */
  readonly keyframe: boolean;
  /** The first SPS / PPS NAL in the unit (header byte first, no start code; views into the unit). */
  readonly sps?: Buffer;
  readonly pps?: Buffer;
  /** {@link codecString} of `sps`. */
  readonly codecString?: string;
  /** Coded slices (VCL NAL units): several per picture with sliced encoders (Pi 5 `--low-latency`: 4). */
  readonly slices: number;
}

/**
 * Reads the NAL headers of one access unit (Annex B). An IDR without parameter sets in front of it is no
 * keyframe here: a decoder joining at it would not know how to decode it.
 *
 * @example
 * describeAccessUnit(au); // { keyframe: true, sps, pps, codecString: 'avc1.42C01E', slices: 1 }
 */
export function describeAccessUnit(au: Buffer): AccessUnitInfo {
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  let keyframe = false;
  let slices = 0;
  for (const nal of nalUnits(au)) {
    const type = nalType(nal);
    if (type === NAL_TYPE.sps) sps ??= nal;
    else if (type === NAL_TYPE.pps) pps ??= nal;
    else if (isVcl(type)) {
      slices++;
      if (type === NAL_TYPE.idr && sps !== undefined && pps !== undefined) keyframe = true;
    }
  }
  return { keyframe, sps, pps, codecString: sps && sps.length >= 4 ? codecString(sps) : undefined, slices };
}
