/** What public/barcode.js exports: the barcode's geometry and the reader the page uses as well. */
export interface SharedBarcode {
  readonly BLOCK: number;
  readonly BITS: number;
  readonly WIDTH: number;
  readonly HEIGHT: number;
  readonly ONE: number;
  readonly ZERO: number;
  /** Each block is read as the mean of its centre SAMPLE x SAMPLE pixels. */
  readonly SAMPLE: number;
  /** A block's mean between DARK_MAX and BRIGHT_MIN (exclusive) is no bit: no barcode there. */
  readonly DARK_MAX: number;
  readonly BRIGHT_MIN: number;
  /** The mean from which a block is a 1 bit. */
  readonly CUT: number;
  read(luma: (x: number, y: number) => number): BarcodeValue | null;
  /** Reads a luma plane whose rows are `stride` bytes apart (null: too small, or no barcode). */
  readPlane(plane: ArrayLike<number>, stride: number, height: number): BarcodeValue | null;
}

// The page's own script, so the server side and the page read barcodes by literally the same code. src/ and dist/
// both sit one level below the package root, next to public/ (which the package ships).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain script, not a module: required for its exports
const shared = require('../public/barcode.js') as SharedBarcode;

/**
 * The machine-readable barcode of the test pattern, read back from decoded pictures by the benchmark, the browser
 * tests and the page's latency HUD: two rows of 32 luma blocks of 16×16 px from the top-left corner, 235 for a 1
 * bit and 16 for a 0 bit, most significant bit first. Row 0 holds the frame number (u32), row 1 the capture time
 * in ms since the epoch mod 2^32. Chroma under the blocks is 128 (grey), so any renderer's YUV→RGB conversion maps
 * a block to near-black or near-white. The numbers live in public/barcode.js, with the reader.
 */
export const BARCODE: {
  readonly block: number;
  readonly bits: number;
  readonly width: number;
  readonly height: number;
  readonly one: number;
  readonly zero: number;
} = Object.freeze({
  block: shared.BLOCK,
  bits: shared.BITS,
  width: shared.WIDTH,
  height: shared.HEIGHT,
  one: shared.ONE,
  zero: shared.ZERO,
});

/** The two numbers a barcode carries. */
export interface BarcodeValue {
  readonly frame: number;
  readonly time: number;
}

/** Draws the barcode into a tightly packed I420 frame buffer (in place). Needs width ≥ 512 and height ≥ 32. */
export function drawBarcode(i420: Buffer, width: number, height: number, value: BarcodeValue): void {
  const { block, bits, one, zero } = BARCODE;
  const rows = [value.frame >>> 0, Math.floor(value.time) % 2 ** 32];
  rows.forEach((word, row) => {
    for (let bit = 0; bit < bits; bit++) {
      const luma = (word >>> (bits - 1 - bit)) & 1 ? one : zero;
      const x0 = bit * block;
      for (let y = row * block; y < (row + 1) * block; y++) i420.fill(luma, y * width + x0, y * width + x0 + block);
    }
  });
  // Chroma 128 under the whole barcode area.
  const cw = width >> 1;
  const uOffset = width * height;
  const vOffset = uOffset + cw * (height >> 1);
  for (let y = 0; y < BARCODE.height / 2; y++) {
    i420.fill(128, uOffset + y * cw, uOffset + y * cw + BARCODE.width / 2);
    i420.fill(128, vOffset + y * cw, vOffset + y * cw + BARCODE.width / 2);
  }
}

/**
 * Reads a barcode back through `luma(x, y)` (any 0–255 brightness: Y of a decoded frame, or the mean of R, G, B
 * from a canvas) by the page's rule (public/barcode.js): the mean of the centre 8×8 of each block, so a blurred or
 * slightly shifted decode still reads. Returns undefined when a block is neither clearly dark nor clearly bright
 * (no barcode there).
 */
export function readBarcode(luma: (x: number, y: number) => number): BarcodeValue | undefined {
  return shared.read(luma) ?? undefined;
}

/**
 * Milliseconds from a barcode's capture time to `nowMs`, undoing the mod 2^32 wrap (valid while the two are
 * within ~24 days of each other).
 */
export function barcodeAge(time: number, nowMs: number): number {
  const now32 = Math.floor(nowMs) % 2 ** 32;
  let age = now32 - time;
  if (age < -(2 ** 31)) age += 2 ** 32;
  if (age > 2 ** 31) age -= 2 ** 32;
  return age;
}
