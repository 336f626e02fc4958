import { ZeroReorderRewriter } from '../../../src/codecs/h264/zero-reorder';
import { BitReader, BitWriter, NAL_TYPE, escapeRbsp, nalType, nalUnits, unescapeRbsp } from '../../../src/codecs/h264/nal';
import { codecString, declaresZeroReorder, parseSps, withZeroReorder, type Sps, type SpsRestriction } from '../../../src/codecs/h264/sps';
import { execFile } from 'node:child_process';
import { resolveFfmpeg } from '../../../src/process/ffmpeg-path';
import { decodeH264, x264Packets, x264Stream, type X264StreamOptions } from '../../helpers/h264-streams';

const firstSps = (stream: Buffer): Buffer => nalUnits(stream).find((n) => nalType(n) === NAL_TYPE.sps)!;

/** ffmpeg's own reading of the first SPS (`trace_headers`): field name → value. */
async function traceSps(stream: Buffer): Promise<Record<string, number>> {
  // trace_headers logs to stderr.
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      resolveFfmpeg().path,
      ['-hide_banner', '-f', 'h264', '-i', 'pipe:0', '-c', 'copy', '-bsf:v', 'trace_headers', '-f', 'null', '-'],
      { maxBuffer: 64 << 20 },
      (err: Error | null, _out: string, errText: string) => (err ? reject(err) : resolve(errText)),
    );
    child.stdin!.end(stream);
  });
  const block = stderr.split('Sequence Parameter Set')[1]!.split('Picture Parameter Set')[0]!;
  const fields: Record<string, number> = {};
  for (const m of block.matchAll(/\]\s+\d+\s+(\w+)\s+[01]+ = (-?\d+)/g)) fields[m[1]!] ??= Number(m[2]);
  return fields;
}

/** Bit length of `ue(v)`. */
const ueBits = (v: number): number => 2 * Math.floor(Math.log2(v + 1)) + 1;

/**
 * An SPS with its VUI `bitstream_restriction` replaced (or dropped, with `undefined`), written with our own bit
 * writer but located independently of the parser: the restriction is the last thing before the stop bit, so its
 * start is the stop bit minus the lengths of its fields.
 */
function withRestriction(sps: Buffer, restriction: SpsRestriction | undefined): Buffer {
  const rbsp = unescapeRbsp(sps);
  const old = parseSps(sps).restriction!;
  let stop = rbsp.length * 8 - 1;
  const r = new BitReader(rbsp);
  for (; ; stop--) {
    r.pos = stop;
    if (r.bit() === 1) break;
  }
  const fields = [
    old.maxBytesPerPicDenom,
    old.maxBitsPerMbDenom,
    old.log2MaxMvLengthHorizontal,
    old.log2MaxMvLengthVertical,
    old.maxNumReorderFrames,
    old.maxDecFrameBuffering,
  ];
  const flagAt = stop - 2 - fields.reduce((n, v) => n + ueBits(v), 0);
  const w = new BitWriter();
  w.copy(r, 0, flagAt);
  w.bit(restriction !== undefined);
  if (restriction) {
    const x = restriction;
    w.bit(x.motionVectorsOverPicBoundaries);
    for (const v of [
      x.maxBytesPerPicDenom,
      x.maxBitsPerMbDenom,
      x.log2MaxMvLengthHorizontal,
      x.log2MaxMvLengthVertical,
      x.maxNumReorderFrames,
      x.maxDecFrameBuffering,
    ])
      w.ue(v);
  }
  w.trailingBits();
  return escapeRbsp(w.toBuffer());
}

/** `stream`'s access units with every SPS replaced by `replace(sps)`. */
function replaceSps(packets: readonly Buffer[], replace: (sps: Buffer) => Buffer): Buffer {
  const nals = packets.flatMap((p) => nalUnits(p)).map((n) => (nalType(n) === NAL_TYPE.sps ? replace(n) : n));
  return Buffer.concat(nals.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]));
}

const except = (sps: Sps): Omit<Sps, 'restriction' | 'vuiPresent'> => {
  const { restriction: _r, vuiPresent: _v, ...rest } = sps;
  return rest;
};

describe('parseSps on real x264 output', () => {
  const cases: [string, X264StreamOptions, Partial<Sps>, string][] = [
    ['baseline 320x240', { frames: 1 }, { profileIdc: 66, width: 320, height: 240, picOrderCntType: 2, frameMbsOnly: true }, 'avc1.42C00D'],
    [
      'main 640x480, interlaced',
      { frames: 1, width: 640, height: 480, profile: 'main', extra: ['-flags', '+ildct'] },
      { profileIdc: 77, width: 640, height: 480, picOrderCntType: 0, frameMbsOnly: false },
      'avc1.4D401E',
    ],
    [
      'high 1920x1080, cropped',
      { frames: 1, width: 1920, height: 1080, profile: 'high', extra: ['-x264-params', '8x8dct=1'] },
      { profileIdc: 100, width: 1920, height: 1080, crop: { left: 0, right: 0, top: 0, bottom: 4 }, chromaFormatIdc: 1 },
      'avc1.640028',
    ],
    [
      'high 640x360 with NAL HRD',
      {
        frames: 1,
        width: 640,
        height: 360,
        profile: 'high',
        extra: ['-x264-params', '8x8dct=1:nal-hrd=cbr', '-b:v', '500k', '-maxrate', '500k', '-bufsize', '500k'],
      },
      { profileIdc: 100, width: 640, height: 360, nalHrd: true, vclHrd: false },
      'avc1.64001E',
    ],
    [
      'high 4:4:4 324x244',
      { frames: 1, width: 324, height: 244, profile: 'high444', extra: ['-pix_fmt', 'yuv444p'] },
      { profileIdc: 244, chromaFormatIdc: 3, width: 324, height: 244 },
      'avc1.F4000D',
    ],
  ];

  it.each(cases)('%s', async (_name, options, expected, codec) => {
    const stream = await x264Stream(options);
    const sps = parseSps(firstSps(stream));
    expect(sps).toMatchObject(expected);
    expect(codecString(firstSps(stream))).toBe(codec);
    // Field by field against ffmpeg's own reader.
    const t = await traceSps(stream);
    expect(sps).toMatchObject({
      profileIdc: t.profile_idc,
      levelIdc: t.level_idc,
      spsId: t.seq_parameter_set_id,
      constraintFlags:
        (t.constraint_set0_flag! << 7) |
        (t.constraint_set1_flag! << 6) |
        (t.constraint_set2_flag! << 5) |
        (t.constraint_set3_flag! << 4) |
        (t.constraint_set4_flag! << 3) |
        (t.constraint_set5_flag! << 2),
      picOrderCntType: t.pic_order_cnt_type,
      maxNumRefFrames: t.max_num_ref_frames,
      frameMbsOnly: t.frame_mbs_only_flag === 1,
      vuiPresent: t.vui_parameters_present_flag === 1,
      timing: { numUnitsInTick: t.num_units_in_tick, timeScale: t.time_scale, fixedFrameRate: t.fixed_frame_rate_flag === 1 },
      restriction: {
        maxNumReorderFrames: t.max_num_reorder_frames,
        maxDecFrameBuffering: t.max_dec_frame_buffering,
        log2MaxMvLengthVertical: t.log2_max_mv_length_vertical,
      },
    });
    // x264 without B-frames always declares zero reordering, by both rules when progressive.
    expect(sps.restriction?.maxNumReorderFrames).toBe(0);
    expect(declaresZeroReorder(sps)).toBe(true);
  });

  it('walks through scaling lists (x264 puts its own in the PPS, so this SPS is hand-made)', () => {
    const w = new BitWriter();
    w.u(8, 0x67);
    w.u(8, 100);
    w.u(8, 0);
    w.u(8, 31);
    w.ue(1); // sps id 1
    w.ue(1);
    w.ue(0);
    w.ue(0);
    w.bit(0);
    w.bit(1); // 4:2:0, 8-bit, no bypass, scaling matrix present
    for (let i = 0; i < 8; i++) {
      w.bit(i === 0 || i === 6); // lists 0 (4x4) and 6 (8x8) present
      if (i === 0) for (let j = 0; j < 16; j++) w.se(j === 0 ? 8 : (j % 3) - 1);
      if (i === 6) {
        w.se(-8);
      } // a delta that makes nextScale 0: the rest of the list repeats
    }
    w.ue(0);
    w.ue(2);
    w.ue(1);
    w.bit(0);
    w.ue(79);
    w.ue(44); // frame_num, poc 2, 1 ref, 1280x720
    w.bit(1);
    w.bit(1);
    w.bit(0);
    w.bit(0);
    w.trailingBits();
    expect(parseSps(escapeRbsp(w.toBuffer()))).toMatchObject({
      profileIdc: 100,
      levelIdc: 31,
      spsId: 1,
      scalingMatrixPresent: true,
      picOrderCntType: 2,
      maxNumRefFrames: 1,
      width: 1280,
      height: 720,
      vuiPresent: false,
    });
  });

  it('rejects a NAL that is no SPS, and one that ends early', () => {
    expect(() => parseSps(Buffer.from([0x68, 0xce]))).toThrow(/not an SPS/);
    expect(() => parseSps(Buffer.from([0x67, 0x42, 0xc0]))).toThrow(RangeError);
  });
});

describe('withZeroReorder', () => {
  /** A hand-made baseline SPS with pic_order_cnt_type 0 and no VUI at all (640x480). */
  function bareSps(): Buffer {
    const w = new BitWriter();
    w.u(8, 0x67);
    w.u(8, 66);
    w.u(8, 0xc0);
    w.u(8, 30);
    w.ue(0);
    w.ue(0);
    w.ue(0);
    w.ue(2); // sps id, log2_max_frame_num-4, poc type 0, log2_max_poc_lsb-4
    w.ue(1);
    w.bit(0);
    w.ue(39);
    w.ue(29); // refs, gaps, width-1, height-1 in MBs
    w.bit(1);
    w.bit(1);
    w.bit(0);
    w.bit(0); // frame_mbs_only, direct_8x8, no cropping, no VUI
    w.trailingBits();
    return escapeRbsp(w.toBuffer());
  }

  it('returns the same buffer when the SPS already declares it', async () => {
    const sps = firstSps(await x264Stream({ frames: 1 }));
    expect(withZeroReorder(sps)).toBe(sps);
  });

  it('adds a VUI holding only the restriction when there is none', () => {
    const sps = bareSps();
    const before = parseSps(sps);
    expect(before).toMatchObject({ width: 640, height: 480, picOrderCntType: 0, vuiPresent: false });
    expect(declaresZeroReorder(before)).toBe(false);
    const after = parseSps(withZeroReorder(sps));
    expect(except(after)).toEqual(except(before));
    expect(after.vuiPresent).toBe(true);
    expect(after.restriction).toEqual({
      motionVectorsOverPicBoundaries: true,
      maxBytesPerPicDenom: 2,
      maxBitsPerMbDenom: 1,
      log2MaxMvLengthHorizontal: 16,
      log2MaxMvLengthVertical: 16,
      maxNumReorderFrames: 0,
      maxDecFrameBuffering: 1,
    });
  });

  const interlaced: X264StreamOptions = { frames: 24, width: 320, height: 240, profile: 'main', extra: ['-flags', '+ildct'] };

  it('adds the restriction to a VUI without one, keeping the rest of the VUI; ffmpeg decodes both the same', async () => {
    const packets = await x264Packets(interlaced);
    const stripped = replaceSps(packets, (sps) => withRestriction(sps, undefined));
    const sps = firstSps(stripped);
    const before = parseSps(sps);
    expect(before).toMatchObject({ picOrderCntType: 0, vuiPresent: true, restriction: undefined });
    expect(before.timing).toBeDefined();
    expect(declaresZeroReorder(before)).toBe(false);

    const rewriter = new ZeroReorderRewriter();
    const rewritten = Buffer.concat(packetsOf(stripped).map((au) => rewriter.rewrite(au)));
    expect(rewriter.seen).toBe(1); // the same SPS before each IDR: parsed and re-encoded once
    const after = parseSps(firstSps(rewritten));
    expect(except(after)).toEqual(except(before));
    expect(after.restriction).toMatchObject({ maxNumReorderFrames: 0, maxDecFrameBuffering: before.maxNumRefFrames });
    expect(declaresZeroReorder(after)).toBe(true);

    const [a, b] = await Promise.all([decodeH264(stripped, 320, 240), decodeH264(rewritten, 320, 240)]);
    expect(a.pictures).toBe(24);
    expect(b).toEqual(a);
  });

  it('rewrites a restriction that allows reordering, keeping its other fields; ffmpeg decodes both the same', async () => {
    const packets = await x264Packets(interlaced);
    const original = parseSps(firstSps(packets[0]!)).restriction!;
    const loose = replaceSps(packets, (sps) => withRestriction(sps, { ...original, maxNumReorderFrames: 2, maxDecFrameBuffering: 4 }));
    expect(declaresZeroReorder(parseSps(firstSps(loose)))).toBe(false);
    const fixed = withZeroReorder(firstSps(loose));
    expect(parseSps(fixed).restriction).toEqual({ ...original, maxNumReorderFrames: 0, maxDecFrameBuffering: 1 });
    const rewritten = replaceSps([loose], () => fixed);
    const [a, b] = await Promise.all([decodeH264(loose, 320, 240), decodeH264(rewritten, 320, 240)]);
    expect(a.pictures).toBe(24);
    expect(b).toEqual(a);
  });
});

/** Cuts an Annex B stream into access units at each NAL that starts one (a test-only, whole-stream cut). */
function packetsOf(stream: Buffer): Buffer[] {
  const units: Buffer[][] = [];
  let vcl = false;
  for (const nal of nalUnits(stream)) {
    const type = nalType(nal);
    const isSlice = type === 1 || type === 5;
    if (units.length === 0 || (vcl && (!isSlice || (nal[1]! & 0x80) !== 0))) {
      units.push([]);
      vcl = false;
    }
    units[units.length - 1]!.push(Buffer.from([0, 0, 0, 1]), nal);
    vcl ||= isSlice;
  }
  return units.map((u) => Buffer.concat(u));
}
