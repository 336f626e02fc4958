/**
 * Index of the first `00 00 01` prefix at or after `from`, or -1. MPEG-1 video and H.264 Annex B both mark their
 * units with it (byte aligned, and the coded data cannot emulate it), so one scan serves both.
 * `buf[index + 3]` is then the start code value (when the buffer is long enough).
 * @example
 * findStartCode(Buffer.from([0x55, 0, 0, 1, 0xb3])); // 1
 */
export function findStartCode(buf: Uint8Array, from = 0): number {
  const end = buf.length - 2;
  for (let i = Math.max(0, from); i < end; ) {
    // Skip fast: a start code needs buf[i+2] === 1 and two zeros before it.
    const b2 = buf[i + 2]!;
    if (b2 > 1) i += 3;
    else if (b2 === 1) {
      if (buf[i] === 0 && buf[i + 1] === 0) return i;
      i += 3;
    } else i += 1;
  }
  return -1;
}
