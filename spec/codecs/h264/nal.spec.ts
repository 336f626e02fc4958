import fc from 'fast-check';
import { BitReader, BitWriter, NAL_TYPE, annexB, escapeRbsp, isVcl, nalType, nalUnits, unescapeRbsp } from '../../../src/codecs/h264/nal';
import { x264Packets, x264Stream } from '../../helpers/h264-streams';

describe('nalUnits', () => {
  it('finds NALs behind 3- and 4-byte start codes, without start codes or trailing zeros, as views', () => {
    const buf = Buffer.from([0xff, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 5, 0, 0]);
    const nals = nalUnits(buf);
    expect(nals).toEqual([Buffer.from([0x67, 1, 2]), Buffer.from([0x68, 3]), Buffer.from([0x65, 4, 5])]);
    expect(nals.map(nalType)).toEqual([NAL_TYPE.sps, NAL_TYPE.pps, NAL_TYPE.idr]);
    expect(nals.every((n) => n.buffer === buf.buffer)).toBe(true);
    expect(nals[0]!.byteOffset).toBe(buf.byteOffset + 5);
  });

  it('finds nothing in bytes without a start code, and skips empty NALs', () => {
    expect(nalUnits(Buffer.from([1, 2, 3, 0, 0]))).toEqual([]);
    expect(nalUnits(Buffer.from([0, 0, 1, 0, 0, 1, 0x09, 0xf0]))).toEqual([Buffer.from([0x09, 0xf0])]);
  });

  it('round-trips through annexB() with 4-byte start codes', () => {
    const nals = [Buffer.from([0x67, 1]), Buffer.from([0x68, 2]), Buffer.from([0x65, 3])];
    const out = annexB(nals);
    expect(out).toEqual(Buffer.from([0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 3]));
    expect(nalUnits(out)).toEqual(nals);
  });

  it('splits a real x264 stream into SPS, PPS, SEI and slices, as many pictures as ffmpeg encoded', async () => {
    const stream = await x264Stream({ frames: 24, gop: 12 });
    const nals = nalUnits(stream);
    const types = nals.map(nalType);
    expect(types.slice(0, 5)).toEqual([NAL_TYPE.sps, NAL_TYPE.pps, NAL_TYPE.sei, NAL_TYPE.idr, NAL_TYPE.idr]);
    // Two slices per picture (two sliced threads); a picture's first has first_mb_in_slice 0.
    expect(types.filter(isVcl)).toHaveLength(48);
    expect(nals.filter((n) => isVcl(nalType(n)) && (n[1]! & 0x80) !== 0)).toHaveLength(24);
    const packets = await x264Packets({ frames: 24, gop: 12 });
    expect(Buffer.concat(packets)).toEqual(stream);
  });
});

describe('emulation prevention', () => {
  it('removes and inserts 03 after 00 00', () => {
    const nal = Buffer.from([0x67, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 0, 3, 5]);
    const rbsp = Buffer.from([0x67, 0, 0, 1, 0, 0, 0, 0, 0, 3, 5]);
    expect(unescapeRbsp(nal)).toEqual(rbsp);
    expect(escapeRbsp(rbsp)).toEqual(nal);
  });

  it('returns the NAL itself when there is nothing to remove', () => {
    const nal = Buffer.from([0x67, 1, 2, 3]);
    expect(unescapeRbsp(nal)).toBe(nal);
  });

  it('escape then unescape is the identity, and escaped bytes never hold a start code', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from([0x65, ...a])),
        (rbsp) => {
          const escaped = escapeRbsp(rbsp);
          expect(unescapeRbsp(escaped)).toEqual(rbsp);
          for (let i = 0; i + 2 < escaped.length; i++) {
            expect(escaped[i] === 0 && escaped[i + 1] === 0 && escaped[i + 2]! <= 2).toBe(false);
          }
        },
      ),
    );
  });
});

describe('BitReader and BitWriter', () => {
  it('read Exp-Golomb codes as the standard tabulates them', () => {
    // 1 | 010 | 011 | 00100 | 00101 → ue 0, 1, 2, 3; se(00101) = -2
    const r = new BitReader(Buffer.from([0b10100110, 0b01000010, 0b10000000]));
    expect([r.ue(), r.ue(), r.ue(), r.ue(), r.se()]).toEqual([0, 1, 2, 3, -2]);
    expect(() => new BitReader(Buffer.from([0])).ue()).toThrow(RangeError);
  });

  it('write what they read: u(n), ue, se, flags and 32-bit fields', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('u' as const),
              n: fc.integer({ min: 1, max: 32 }),
              seed: fc.double({ min: 0, max: 1, noNaN: true }),
            }),
            fc.record({ kind: fc.constant('ue' as const), v: fc.integer({ min: 0, max: 2 ** 31 }) }),
            fc.record({ kind: fc.constant('se' as const), v: fc.integer({ min: -(2 ** 30), max: 2 ** 30 }) }),
          ),
          { maxLength: 20 },
        ),
        (fields) => {
          const w = new BitWriter();
          const values = fields.map((f) => (f.kind === 'u' ? Math.min(2 ** f.n - 1, Math.floor(f.seed * 2 ** f.n)) : f.v));
          fields.forEach((f, i) => (f.kind === 'u' ? w.u(f.n, values[i]!) : f.kind === 'ue' ? w.ue(values[i]!) : w.se(values[i]!)));
          const bits = w.length;
          w.trailingBits();
          const r = new BitReader(w.toBuffer());
          fields.forEach((f, i) => expect(f.kind === 'u' ? r.u(f.n) : f.kind === 'ue' ? r.ue() : r.se()).toBe(values[i]));
          expect(r.pos).toBe(bits);
          expect(r.bit()).toBe(1);
        },
      ),
    );
  });
});
