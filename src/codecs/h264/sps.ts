import { BitReader, BitWriter, escapeRbsp, unescapeRbsp } from './nal';

/** VUI timing (`timing_info_present_flag`): `time_scale / (2 · num_units_in_tick)` is the frame rate for progressive video. */
export interface SpsTiming {
  readonly numUnitsInTick: number;
  readonly timeScale: number;
  readonly fixedFrameRate: boolean;
}

/** VUI `bitstream_restriction`: how many pictures a decoder must hold back (reorder) and keep (DPB) at most. */
export interface SpsRestriction {
  readonly motionVectorsOverPicBoundaries: boolean;
  readonly maxBytesPerPicDenom: number;
  readonly maxBitsPerMbDenom: number;
  readonly log2MaxMvLengthHorizontal: number;
  readonly log2MaxMvLengthVertical: number;
  readonly maxNumReorderFrames: number;
  readonly maxDecFrameBuffering: number;
}

/** What a sequence parameter set says, as far as streaming cares (H.264 §7.3.2.1.1 and Annex E). */
export interface Sps {
  readonly profileIdc: number;
  /** The byte of `constraint_set0..5_flag` + 2 reserved bits, as in the codec string. */
  readonly constraintFlags: number;
  readonly levelIdc: number;
  readonly spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 unless a high profile says otherwise). */
  readonly chromaFormatIdc: number;
  readonly separateColourPlane: boolean;
  readonly bitDepthLuma: number;
  readonly bitDepthChroma: number;
  readonly scalingMatrixPresent: boolean;
  readonly log2MaxFrameNum: number;
  readonly picOrderCntType: number;
  /** For `picOrderCntType` 0. */
  readonly log2MaxPicOrderCntLsb?: number;
  readonly maxNumRefFrames: number;
  readonly gapsInFrameNumAllowed: boolean;
  readonly frameMbsOnly: boolean;
  /** Picture size after frame cropping. */
  readonly width: number;
  readonly height: number;
  readonly crop?: { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number };
  readonly vuiPresent: boolean;
  readonly timing?: SpsTiming;
  readonly nalHrd: boolean;
  readonly vclHrd: boolean;
  readonly restriction?: SpsRestriction;
}

/** Where the rewrite of {@link withZeroReorder} splices: bit positions in the RBSP. */
interface SpsLayout {
  /** Position of `vui_parameters_present_flag`. */
  readonly vuiFlagAt: number;
  /** Position of `bitstream_restriction_flag` (when the VUI is present). */
  readonly restrictionFlagAt?: number;
}

/** profile_idc values whose SPS carries chroma format, bit depths and scaling lists (§7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** `hrd_parameters()` (§E.1.2): read in full, since the fields after it are found only by walking through it. */
function skipHrd(r: BitReader): void {
  const cpbCnt = r.ue() + 1;
  r.u(4); // bit_rate_scale
  r.u(4); // cpb_size_scale
  for (let i = 0; i < cpbCnt; i++) {
    r.ue(); // bit_rate_value_minus1
    r.ue(); // cpb_size_value_minus1
    r.bit(); // cbr_flag
  }
  r.u(5); // initial_cpb_removal_delay_length_minus1
  r.u(5); // cpb_removal_delay_length_minus1
  r.u(5); // dpb_output_delay_length_minus1
  r.u(5); // time_offset_length
}

type ChromaFormat = Pick<Sps, 'chromaFormatIdc' | 'separateColourPlane' | 'bitDepthLuma' | 'bitDepthChroma' | 'scalingMatrixPresent'>;

/** The high profiles' chroma format, bit depths and scaling lists (§7.3.2.1.1); 4:2:0 at 8 bits for the others. */
function readChromaFormat(r: BitReader, profileIdc: number): ChromaFormat {
  if (!HIGH_PROFILES.has(profileIdc)) {
    return { chromaFormatIdc: 1, separateColourPlane: false, bitDepthLuma: 8, bitDepthChroma: 8, scalingMatrixPresent: false };
  }
  const chromaFormatIdc = r.ue();
  const separateColourPlane = chromaFormatIdc === 3 ? r.flag() : false;
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  r.bit(); // qpprime_y_zero_transform_bypass_flag
  const scalingMatrixPresent = r.flag();
  if (scalingMatrixPresent) {
    for (let i = 0; i < (chromaFormatIdc !== 3 ? 8 : 12); i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
  }
  return { chromaFormatIdc, separateColourPlane, bitDepthLuma, bitDepthChroma, scalingMatrixPresent };
}

/** `pic_order_cnt_type` and what it brings (only type 0's LSB length matters to us; type 1's cycle is skipped). */
function readPicOrderCnt(r: BitReader): Pick<Sps, 'picOrderCntType' | 'log2MaxPicOrderCntLsb'> {
  const picOrderCntType = r.ue();
  let log2MaxPicOrderCntLsb: number | undefined;
  if (picOrderCntType === 0) log2MaxPicOrderCntLsb = r.ue() + 4;
  else if (picOrderCntType === 1) {
    r.bit(); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    for (let i = 0; i < cycle; i++) r.se();
  }
  return { picOrderCntType, log2MaxPicOrderCntLsb };
}

/** The coded size in macroblocks, frame/field coding and the cropping window: the picture size a player shows. */
function readFrameSize(r: BitReader, chroma: ChromaFormat): Pick<Sps, 'frameMbsOnly' | 'width' | 'height' | 'crop'> {
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field_flag
  r.bit(); // direct_8x8_inference_flag
  let crop: Sps['crop'];
  if (r.flag()) crop = { left: r.ue(), right: r.ue(), top: r.ue(), bottom: r.ue() };
  // Crop units (§7.4.2.1.1): chroma samples for 4:2:0/4:2:2, field pairs when frames may be coded as fields.
  const chromaArrayType = chroma.separateColourPlane ? 0 : chroma.chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2);
  const width = widthMbs * 16 - cropUnitX * ((crop?.left ?? 0) + (crop?.right ?? 0));
  const height = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16 - cropUnitY * ((crop?.top ?? 0) + (crop?.bottom ?? 0));
  return { frameMbsOnly, width, height, crop };
}

type Vui = Pick<Sps, 'vuiPresent' | 'timing' | 'nalHrd' | 'vclHrd' | 'restriction'>;

/** The VUI (Annex E.1.1), from `vui_parameters_present_flag` on, with where its two flags that we rewrite sit. */
function readVui(r: BitReader): { vui: Vui; layout: SpsLayout } {
  const vuiFlagAt = r.pos;
  const vuiPresent = r.flag();
  if (!vuiPresent)
    return { vui: { vuiPresent, timing: undefined, nalHrd: false, vclHrd: false, restriction: undefined }, layout: { vuiFlagAt } };
  if (r.flag() && r.u(8) === 255) r.u(32); // aspect_ratio_idc; Extended_SAR: sar_width, sar_height
  if (r.flag()) r.bit(); // overscan_appropriate_flag
  if (r.flag()) {
    r.u(4); // video_format, video_full_range_flag
    if (r.flag()) r.u(24); // colour_primaries, transfer_characteristics, matrix_coefficients
  }
  if (r.flag()) {
    r.ue(); // chroma_sample_loc_type_top_field
    r.ue(); // chroma_sample_loc_type_bottom_field
  }
  let timing: SpsTiming | undefined;
  if (r.flag()) timing = { numUnitsInTick: r.u(32), timeScale: r.u(32), fixedFrameRate: r.flag() };
  const nalHrd = r.flag();
  if (nalHrd) skipHrd(r);
  const vclHrd = r.flag();
  if (vclHrd) skipHrd(r);
  if (nalHrd || vclHrd) r.bit(); // low_delay_hrd_flag
  r.bit(); // pic_struct_present_flag
  const restrictionFlagAt = r.pos;
  let restriction: SpsRestriction | undefined;
  if (r.flag()) {
    restriction = {
      motionVectorsOverPicBoundaries: r.flag(),
      maxBytesPerPicDenom: r.ue(),
      maxBitsPerMbDenom: r.ue(),
      log2MaxMvLengthHorizontal: r.ue(),
      log2MaxMvLengthVertical: r.ue(),
      maxNumReorderFrames: r.ue(),
      maxDecFrameBuffering: r.ue(),
    };
  }
  return { vui: { vuiPresent, timing, nalHrd, vclHrd, restriction }, layout: { vuiFlagAt, restrictionFlagAt } };
}

function parse(spsNal: Buffer): { sps: Sps; layout: SpsLayout; reader: BitReader } {
  if ((spsNal[0]! & 0x1f) !== 7) throw new RangeError(`not an SPS NAL unit (type ${spsNal[0]! & 0x1f})`);
  const r = new BitReader(unescapeRbsp(spsNal), 8);
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  const spsId = r.ue();
  const chroma = readChromaFormat(r, profileIdc);
  const log2MaxFrameNum = r.ue() + 4;
  const { picOrderCntType, log2MaxPicOrderCntLsb } = readPicOrderCnt(r);
  const maxNumRefFrames = r.ue();
  const gapsInFrameNumAllowed = r.flag();
  const { frameMbsOnly, width, height, crop } = readFrameSize(r, chroma);
  const { vui, layout } = readVui(r);
  const { chromaFormatIdc, separateColourPlane, bitDepthLuma, bitDepthChroma, scalingMatrixPresent } = chroma;
  const { vuiPresent, timing, nalHrd, vclHrd, restriction } = vui;
  const sps: Sps = {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    scalingMatrixPresent,
    log2MaxFrameNum,
    picOrderCntType,
    log2MaxPicOrderCntLsb,
    maxNumRefFrames,
    gapsInFrameNumAllowed,
    frameMbsOnly,
    width,
    height,
    crop,
    vuiPresent,
    timing,
    nalHrd,
    vclHrd,
    restriction,
  };
  return { sps, layout, reader: r };
}

/**
 * Parses a sequence parameter set NAL (header byte first, as {@link nalUnits} gives it; emulation prevention is
 * removed here). Throws a RangeError for a NAL that is no SPS or ends early.
 *
 * @example
 * parseSps(sps); // { profileIdc: 66, levelIdc: 30, width: 640, height: 480, picOrderCntType: 2, … }
 */
export function parseSps(spsNal: Buffer): Sps {
  return parse(spsNal).sps;
}

/**
 * The RFC 6381 codec string for an SPS, `avc1.PPCCLL`: profile_idc, the constraint-flags byte and level_idc as
 * uppercase hex — the three bytes after the NAL header (they are never escaped: the profile byte is nonzero).
 * WebCodecs and MSE take it as is.
 * @example
 * codecString(sps); // 'avc1.42C01E': constrained baseline, level 3.0
 */
export function codecString(spsNal: Uint8Array): string {
  const hex = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');
  return `avc1.${hex(spsNal[1]!)}${hex(spsNal[2]!)}${hex(spsNal[3]!)}`;
}

/**
 * Whether the SPS promises a decoder it may output each picture as soon as it is decoded: picture order follows
 * decoding order (`pic_order_cnt_type` 2), or the VUI says so (`max_num_reorder_frames` 0). Without that promise
 * hardware decoders (and WebKit) hold up to a whole DPB of pictures before the first output.
 */
export function declaresZeroReorder(sps: Sps): boolean {
  return sps.picOrderCntType === 2 || sps.restriction?.maxNumReorderFrames === 0;
}

/**
 * An SPS NAL that declares zero reordering: `spsNal` itself when {@link declaresZeroReorder} already holds,
 * otherwise a copy with `bitstream_restriction_flag` 1, `max_num_reorder_frames` 0 and `max_dec_frame_buffering`
 * = `max_num_ref_frames`. Every other field, and the rest of the VUI, is kept bit for bit; a missing VUI is
 * added with nothing else in it; an existing restriction keeps its motion-vector fields, a new one gets the
 * values the standard infers when they are absent (so decoding is unchanged). Emulation prevention is applied
 * afresh.
 *
 * Only true for streams without reordering, i.e. without B-frames: every Pi camera encoder (I/P only) and
 * libx264 with `-bf 0`. Rewriting a stream with B-frames this way would make decoders show pictures too early.
 *
 * @example
 * const fixed = withZeroReorder(sps);
 * declaresZeroReorder(parseSps(fixed)); // true
 */
export function withZeroReorder(spsNal: Buffer): Buffer {
  const { sps, layout, reader } = parse(spsNal);
  if (declaresZeroReorder(sps)) return spsNal;
  const w = new BitWriter();
  if (layout.restrictionFlagAt === undefined) {
    w.copy(reader, 0, layout.vuiFlagAt);
    w.bit(1); // vui_parameters_present_flag
    // aspect ratio, overscan, video signal, chroma location, timing, NAL HRD, VCL HRD, pic_struct: all absent
    for (let i = 0; i < 8; i++) w.bit(0);
  } else {
    w.copy(reader, 0, layout.restrictionFlagAt);
  }
  const kept = sps.restriction;
  w.bit(1); // bitstream_restriction_flag
  w.bit(kept?.motionVectorsOverPicBoundaries ?? true);
  w.ue(kept?.maxBytesPerPicDenom ?? 2);
  w.ue(kept?.maxBitsPerMbDenom ?? 1);
  w.ue(kept?.log2MaxMvLengthHorizontal ?? 16);
  w.ue(kept?.log2MaxMvLengthVertical ?? 16);
  w.ue(0); // max_num_reorder_frames
  w.ue(sps.maxNumRefFrames); // max_dec_frame_buffering: the reference frames, and nothing held for output
  w.trailingBits();
  return escapeRbsp(w.toBuffer());
}
