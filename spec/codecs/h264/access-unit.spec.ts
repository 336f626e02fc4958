import { lastValueFrom, of, toArray } from 'rxjs';
import { describeAccessUnit } from '../../../src/codecs/h264/access-unit';
import { BitWriter, NAL_TYPE, escapeRbsp, nalType, nalUnits } from '../../../src/codecs/h264/nal';
import { declaresZeroReorder, parseSps } from '../../../src/codecs/h264/sps';
import { ensureZeroReorder } from '../../../src/codecs/h264/zero-reorder';
import { x264Packets } from '../../helpers/h264-streams';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

/** A baseline SPS with pic_order_cnt_type 0 and no VUI: one that does not declare zero reordering. */
function bareSps(): Buffer {
  const w = new BitWriter();
  w.u(8, 0x67);
  w.u(8, 66);
  w.u(8, 0xc0);
  w.u(8, 30);
  w.ue(0);
  w.ue(0);
  w.ue(0);
  w.ue(2);
  w.ue(1);
  w.bit(0);
  w.ue(19);
  w.ue(14);
  w.bit(1);
  w.bit(1);
  w.bit(0);
  w.bit(0);
  w.trailingBits();
  return escapeRbsp(w.toBuffer());
}

describe('describeAccessUnit', () => {
  it('reads real x264 units: key units carry SPS + PPS, every picture two slices', async () => {
    const packets = await x264Packets({ frames: 13, gop: 12 });
    const infos = packets.map(describeAccessUnit);
    expect(infos.map((i) => i.keyframe)).toEqual([true, ...Array(11).fill(false), true]);
    expect(infos[0]).toMatchObject({ codecString: 'avc1.42C00D', slices: 2 });
    expect(nalType(infos[0]!.sps!)).toBe(NAL_TYPE.sps);
    expect(nalType(infos[0]!.pps!)).toBe(NAL_TYPE.pps);
    expect(infos[1]).toEqual({ keyframe: false, sps: undefined, pps: undefined, codecString: undefined, slices: 2 });
  });

  it('is no keyframe without parameter sets before the IDR', () => {
    expect(describeAccessUnit(hex('00000001 6588 84'))).toMatchObject({ keyframe: false, slices: 1 });
    expect(describeAccessUnit(hex('00000001 6588 84 00000001 6742c01e 00000001 68ce'))).toMatchObject({ keyframe: false });
  });
});

describe('ensureZeroReorder', () => {
  const sps = bareSps();
  const unit = Buffer.concat([hex('00000001'), sps, hex('00000001 68ce3c80 00000001 6588 8400 ff 000001 6502 11')]);

  it('rewrites the SPS of a unit that lacks it, keeps everything else, and passes other units as they are', async () => {
    const p = hex('00000001 419a 01');
    const out = await lastValueFrom(of({ data: unit, arrivedAt: 5 }, { data: p, arrivedAt: 9 }).pipe(ensureZeroReorder(), toArray()));
    expect(out[1]!.data).toBe(p);
    expect(out[0]!.arrivedAt).toBe(5);
    const nals = nalUnits(out[0]!.data);
    expect(nals.slice(1)).toEqual(nalUnits(unit).slice(1));
    expect(declaresZeroReorder(parseSps(nals[0]!))).toBe(true);
  });

  it('works on plain buffers and returns the same buffer when nothing needs doing', async () => {
    const good = (await x264Packets({ frames: 1 }))[0]!;
    const [a, b] = await lastValueFrom(of(good, unit).pipe(ensureZeroReorder(), toArray()));
    expect(a).toBe(good);
    expect(b).not.toBe(unit);
  });
});
