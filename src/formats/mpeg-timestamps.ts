/** The 90 kHz timestamps of MPEG systems (PTS, PCR) and how they are written into packets. */

/** 2^33: PTS and PCR bases are 33-bit counts of a 90 kHz clock. */
export const TIMESTAMP_MODULO = 2 ** 33;
/**
 * 90 kHz timestamp of a capture time in ms, wrapped to 33 bits: `(capturedAt × 90) mod 2^33`.
 * @example
 * ptsOf(1000); // 90000
 */
export function ptsOf(capturedAtMs: number): number {
  const ticks = Math.floor(capturedAtMs * 90) % TIMESTAMP_MODULO;
  return ticks < 0 ? ticks + TIMESTAMP_MODULO : ticks;
}

/** PTS field with prefix '0010' (PTS only): 3 + 15 + 15 bits, each group followed by a marker bit. */
export function writePts(out: Buffer, pos: number, pts: number): number {
  const high = Math.floor(pts / 2 ** 30); // bits 32..30; bit operators only reach 32 bits
  const low = pts % 2 ** 30;
  out[pos] = 0x21 | (high << 1);
  out[pos + 1] = low >>> 22;
  out[pos + 2] = ((low >>> 14) & 0xfe) | 1;
  out[pos + 3] = (low >>> 7) & 0xff;
  out[pos + 4] = ((low << 1) & 0xfe) | 1;
  return pos + 5;
}

/** PCR: 33-bit base (90 kHz), 6 reserved bits, 9-bit extension (27 MHz remainder, 0 here). */
export function writePcr(out: Buffer, pos: number, base: number): number {
  const high = Math.floor(base / 2 ** 30);
  const low = base % 2 ** 30;
  out[pos] = (high << 5) | (low >>> 25);
  out[pos + 1] = (low >>> 17) & 0xff;
  out[pos + 2] = (low >>> 9) & 0xff;
  out[pos + 3] = (low >>> 1) & 0xff;
  out[pos + 4] = ((low & 1) << 7) | 0x7e;
  out[pos + 5] = 0x00;
  return pos + 6;
}
