import type { ChunkBuffer } from '../../operators/chunk-buffer';

/**
 * Index of the first `00 00 01` prefix at or after `from`, or -1. MPEG-1 video and H.264 Annex B both mark their
 * units with it (byte aligned, and the coded data cannot emulate it), so one scan serves both.
 * `buf[index + 3]` is then the start code value (when the buffer is long enough).
 * @example
 * findStartCode(Buffer.from([0x55, 0, 0, 1, 0xb3])); // 1
 */
export function findStartCode(buf: Uint8Array, from = 0): number {
  const end = buf.length - 2;
  for (let i = Math.max(0, from); i < end;) {
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

/**
 * Finds the start code prefixes (`00 00 01`) at absolute offsets `from` … `last` of a chunked stream, just after
 * `chunk` was appended to `bytes`: first the few that straddle the bytes before and the chunk (byte by byte), then
 * those inside the chunk ({@link findStartCode}, which skips quickly through coded data). Calls `found` with each
 * prefix's offset in stream order, and returns the offset the next scan starts at: each byte is scanned once.
 * `last` is the last offset whose prefix the caller can handle yet (it may need the bytes after the prefix).
 * @example
 * bytes.append(chunk);
 * scanPos = scanStartCodes(bytes, chunk, scanPos, bytes.end - 4, (at) => onStartCode(at, bytes.byteAt(at + 3)));
 */
export function scanStartCodes(
  bytes: ChunkBuffer<unknown>,
  chunk: Buffer,
  from: number,
  last: number,
  found: (at: number) => void,
): number {
  const c0 = bytes.end - chunk.length;
  let p = from;
  for (; p < c0 && p <= last; p++) {
    if (bytes.byteAt(p) === 0 && bytes.byteAt(p + 1) === 0 && bytes.byteAt(p + 2) === 1) {
      found(p);
      p += 3; // with the loop's own step, past the code byte: it cannot begin another prefix
    }
  }
  let next = p;
  for (let i = findStartCode(chunk, Math.max(0, p - c0)); i >= 0; i = findStartCode(chunk, i + 4)) {
    if (c0 + i > last) break; // its following bytes have not arrived yet: the next scan sees it
    found(c0 + i);
    next = c0 + i + 4;
  }
  return Math.max(next, last + 1);
}
