import { findStartCode } from '../common/start-code';

/**
 * H.264 NAL unit types (ITU-T H.264 Table 7-1): `nal[0] & 0x1f`. Types 1–5 carry coded slices (VCL); the rest
 * describe or delimit them.
 */
export const NAL_TYPE = {
  slice: 1,
  sliceDataA: 2,
  sliceDataB: 3,
  sliceDataC: 4,
  idr: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  aud: 9,
  endOfSequence: 10,
  endOfStream: 11,
  filler: 12,
  spsExtension: 13,
  prefix: 14,
  subsetSps: 15,
} as const;

/** The 4-byte Annex B start code (`zero_byte` + `00 00 01`) every access unit we emit uses before each NAL. */
export const START_CODE_4 = Buffer.from([0, 0, 0, 1]);

/**
 * An access unit delimiter (NAL type 9, any picture type), with its start code. Written after each access unit fed
 * to ffmpeg's H.264 parser (the transcoder, the publishers): the parser ends a unit only when it sees the next one
 * begin, so without it every unit would wait in ffmpeg for the next picture. Decoders ignore it.
 */
export const ACCESS_UNIT_DELIMITER: Buffer = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);

/** The NAL unit type of a NAL (from its header byte). */
export function nalType(nal: Uint8Array): number {
  return nal[0]! & 0x1f;
}

/** Coded slice data (types 1–5): what makes an access unit a picture. */
export function isVcl(type: number): boolean {
  return type >= NAL_TYPE.slice && type <= NAL_TYPE.idr;
}

/**
 * The NAL units of an Annex B byte stream, each from its header byte to its last byte, without start code or
 * trailing zeros (a NAL never ends in `00`, so zeros before a start code are the next start code's `zero_byte`
 * or `trailing_zero_8bits`). They are `subarray`s of `annexB`: no bytes are copied. Bytes before the first start
 * code are not a NAL and are skipped. Both 3- and 4-byte start codes are found.
 *
 * @example
 * nalUnits(au).map(nalType); // [7, 8, 5]: SPS, PPS, IDR slice
 */
export function nalUnits(annexB: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let at = -1;
  for (let i = findStartCode(annexB); ; i = findStartCode(annexB, i + 3)) {
    const end = i < 0 ? annexB.length : i;
    if (at >= 0) {
      let last = end;
      while (last > at && annexB[last - 1] === 0) last--;
      if (last > at) nals.push(annexB.subarray(at, last));
    }
    if (i < 0) return nals;
    at = i + 3;
  }
}

/**
 * An Annex B buffer of `nals`, each behind a 4-byte start code.
 * @example
 * annexB([sps, pps, idr]); // 00 00 00 01 sps 00 00 00 01 pps 00 00 00 01 idr
 */
export function annexB(nals: readonly Uint8Array[]): Buffer {
  const size = nals.reduce((n, nal) => n + 4 + nal.length, 0);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const nal of nals) {
    START_CODE_4.copy(out, at);
    out.set(nal, at + 4);
    at += 4 + nal.length;
  }
  return out;
}

/**
 * The RBSP of a NAL's payload: `00 00 03` becomes `00 00` (the encoder inserted the `03`, the
 * emulation_prevention_three_byte, so that no `00 00 0x` with x ≤ 3 appears inside a NAL). Returns `nal` itself
 * when there is nothing to remove. The header byte stays in place (it never needs escaping).
 */
export function unescapeRbsp(nal: Uint8Array): Buffer {
  const src = Buffer.isBuffer(nal) ? nal : Buffer.from(nal.buffer, nal.byteOffset, nal.length);
  if (src.indexOf(EPB) < 0) return src;
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  let zeros = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}
const EPB = Buffer.from([0, 0, 3]);

/**
 * The inverse of {@link unescapeRbsp}: inserts `03` after every `00 00` that is followed by a byte ≤ 3, so the
 * NAL cannot contain a start code (H.264 §7.4.1). The first byte (the NAL header) is copied as is.
 */
export function escapeRbsp(rbsp: Uint8Array): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (let i = 0; i < rbsp.length; i++) {
    const b = rbsp[i]!;
    if (i > 0 && zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

/**
 * Reads an RBSP bit by bit, most significant bit first: fixed-width fields (`u(n)`) and the Exp-Golomb codes
 * (`ue(v)`, `se(v)`) H.264 headers are made of. Reading past the end throws a RangeError (a truncated header).
 *
 * @example
 * const r = new BitReader(unescapeRbsp(sps), 8); // skip the NAL header byte
 * const profileIdc = r.u(8);
 */
export class BitReader {
  /** Bit position from the start of `data`. */
  pos: number;

  constructor(
    private readonly data: Uint8Array,
    startBit = 0,
  ) {
    this.pos = startBit;
  }

  /** Bits not read yet. */
  get bitsLeft(): number {
    return this.data.length * 8 - this.pos;
  }

  /** One bit. */
  bit(): number {
    if (this.pos >= this.data.length * 8) throw new RangeError('H.264 header ends early');
    const b = (this.data[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  /** A flag: one bit as a boolean. */
  flag(): boolean {
    return this.bit() === 1;
  }

  /** `u(n)`, n ≤ 32, as an unsigned number. */
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  /** `ue(v)`: unsigned Exp-Golomb (leading zeros, a 1, then as many bits). */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new RangeError('H.264 Exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** `se(v)`: signed Exp-Golomb (1 → 1, 2 → −1, 3 → 2, …). */
  se(): number {
    const k = this.ue();
    // 0 maps to 0, not -0 (which would differ from 0 under Object.is).
    return k % 2 === 1 ? (k + 1) / 2 : k === 0 ? 0 : -k / 2;
  }
}

/**
 * Builds an RBSP bit by bit: the writing twin of {@link BitReader}.
 *
 * @example
 * const w = new BitWriter();
 * w.u(8, 0x67); w.ue(3); w.trailingBits();
 * w.toBuffer(); // <67 20>
 */
export class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private bits = 0;

  /** Bits written so far. */
  get length(): number {
    return this.bytes.length * 8 + this.bits;
  }

  bit(b: number | boolean): void {
    this.current = (this.current << 1) | (b ? 1 : 0);
    if (++this.bits === 8) {
      this.bytes.push(this.current);
      this.current = 0;
      this.bits = 0;
    }
  }

  /** `u(n)`, n ≤ 32. */
  u(n: number, value: number): void {
    for (let i = n - 1; i >= 0; i--) this.bit(Math.floor(value / 2 ** i) % 2);
  }

  ue(value: number): void {
    const v = value + 1;
    const len = Math.floor(Math.log2(v));
    this.u(len, 0);
    this.u(len + 1, v);
  }

  se(value: number): void {
    this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** Copies bits `[from, to)` of `reader`'s data (a reader positioned anywhere; its position is restored). */
  copy(reader: BitReader, from: number, to: number): void {
    const saved = reader.pos;
    reader.pos = from;
    while (reader.pos < to) this.bit(reader.bit());
    reader.pos = saved;
  }

  /** `rbsp_trailing_bits()`: a stop bit, then zeros up to the byte boundary. */
  trailingBits(): void {
    this.bit(1);
    while (this.bits !== 0) this.bit(0);
  }

  /** The bytes written; a partial last byte is padded with zeros. */
  toBuffer(): Buffer {
    const out = [...this.bytes];
    if (this.bits > 0) out.push(this.current << (8 - this.bits));
    return Buffer.from(out);
  }
}
