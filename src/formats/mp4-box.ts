/** The two shapes every ISO BMFF (MP4) box has (ISO/IEC 14496-12 §4.2), for the boxes pistream writes. */

/** A box: 32-bit size, 4-character type, then the payloads. */
export function box(type: string, ...payloads: readonly Buffer[]): Buffer {
  const size = 8 + payloads.reduce((n, p) => n + p.length, 0);
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(size, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, ...payloads], size);
}

/** A full box: a box whose payload starts with version (8 bits) and flags (24 bits). */
export function fullBox(type: string, version: number, flags: number, ...payloads: readonly Buffer[]): Buffer {
  const vf = Buffer.allocUnsafe(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...payloads);
}
