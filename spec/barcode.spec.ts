import fc from 'fast-check';
import { BARCODE, barcodeAge, drawBarcode, readBarcode, type BarcodeValue } from '../src/barcode';
import { yuv420Size } from '../src/frame';

const W = 512;
const H = 32;

/** A mid-grey I420 frame with a barcode drawn on it. */
function withBarcode(value: BarcodeValue, width = W, height = H): Buffer {
  const frame = Buffer.alloc(yuv420Size(width, height), 128);
  drawBarcode(frame, width, height, value);
  return frame;
}
const lumaOf = (frame: Buffer, width = W) => (x: number, y: number) => frame[y * width + x]!;

describe('drawBarcode', () => {
  it('draws two rows of 32 blocks of 16×16, 235 for 1 and 16 for 0, most significant bit first', () => {
    const frame = withBarcode({ frame: 0x80000001, time: 0x40000000 });
    const block = (bit: number, row: number): number[] => {
      const seen = new Set<number>();
      for (let y = row * 16; y < row * 16 + 16; y++)
        for (let x = bit * 16; x < bit * 16 + 16; x++) seen.add(frame[y * W + x]!);
      return [...seen];
    };
    expect(block(0, 0)).toEqual([BARCODE.one]);
    expect(block(1, 0)).toEqual([BARCODE.zero]);
    expect(block(30, 0)).toEqual([BARCODE.zero]);
    expect(block(31, 0)).toEqual([BARCODE.one]);
    expect(block(0, 1)).toEqual([BARCODE.zero]);
    expect(block(1, 1)).toEqual([BARCODE.one]);
    expect(block(2, 1)).toEqual([BARCODE.zero]);
  });

  it('sets chroma to 128 under the barcode and leaves the rest of the frame alone', () => {
    const width = 640;
    const height = 64;
    const frame = Buffer.alloc(yuv420Size(width, height), 77);
    drawBarcode(frame, width, height, { frame: 123, time: 456 });
    const cw = width / 2;
    const u = width * height;
    const v = u + cw * (height / 2);
    for (const plane of [u, v]) {
      for (let y = 0; y < height / 2; y++) {
        const row = frame.subarray(plane + y * cw, plane + (y + 1) * cw);
        const under = y < BARCODE.height / 2;
        expect([...row.subarray(0, BARCODE.width / 2)].every((b) => b === (under ? 128 : 77))).toBe(true);
        expect([...row.subarray(BARCODE.width / 2)].every((b) => b === 77)).toBe(true);
      }
    }
    // Luma right of and below the barcode is untouched.
    expect(frame[10 * width + 600]).toBe(77);
    expect(frame[40 * width + 10]).toBe(77);
  });

  it('writes the time modulo 2^32, and floors it', () => {
    const t = 1_700_000_000_123.7;
    expect(readBarcode(lumaOf(withBarcode({ frame: 1, time: t })))).toEqual({
      frame: 1,
      time: Math.floor(t) % 2 ** 32,
    });
  });
});

describe('readBarcode', () => {
  it.each([
    [0, 0],
    [1, 1],
    [2 ** 32 - 1, 2 ** 32 - 1],
    [0xdeadbeef, 0x12345678],
    [1000, Date.now() % 2 ** 32],
  ])('round-trips frame %d, time %d', (frame, time) => {
    expect(readBarcode(lumaOf(withBarcode({ frame, time })))).toEqual({ frame, time });
  });

  it('round-trips any u32 pair (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 1 }), (frame, time) => {
        expect(readBarcode(lumaOf(withBarcode({ frame, time })))).toEqual({ frame, time });
      }),
      { numRuns: 50 },
    );
  });

  it('still reads a noisy, slightly shifted copy (as after lossy coding)', () => {
    const value = { frame: 0xa5a5a5a5, time: 0x0f0f0f0f };
    const frame = withBarcode(value);
    let seed = 1;
    const noise = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 61) - 30;
    // Shifted right and down by 3 px, ±30 noise.
    const luma = (x: number, y: number): number =>
      Math.max(0, Math.min(255, frame[Math.max(0, y - 3) * W + Math.max(0, x - 3)]! + noise()));
    expect(readBarcode(luma)).toEqual(value);
  });

  it('returns undefined where there is no barcode (mid grey)', () => {
    expect(readBarcode(() => 128)).toBeUndefined();
    expect(readBarcode((x) => (x < 256 ? 235 : 120))).toBeUndefined();
  });
});

describe('barcodeAge', () => {
  const now = 1_700_000_000_000;
  const at = (ms: number): number => ms % 2 ** 32;

  it('is now minus the capture time', () => {
    expect(barcodeAge(at(now - 42), now)).toBe(42);
    expect(barcodeAge(at(now), now)).toBe(0);
  });

  it('is negative for a capture time ahead of now (clock skew)', () => {
    expect(barcodeAge(at(now + 5), now)).toBe(-5);
  });

  it('undoes the mod 2^32 wrap in both directions', () => {
    const wrapNow = 2 ** 32 * 400 + 10; // now mod 2^32 = 10
    expect(barcodeAge(2 ** 32 - 15, wrapNow)).toBe(25); // captured just before the wrap
    expect(barcodeAge(20, wrapNow - 30)).toBe(-40); // captured just after the wrap, now just before it
    expect(barcodeAge(at(wrapNow - 1000), wrapNow)).toBe(1000);
  });

  it('agrees with the plain difference for any pair within ~24 days (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2 ** 31, max: 2 ** 45 }),
        fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }),
        (captured, age) => {
          expect(barcodeAge(captured % 2 ** 32, captured + age)).toBe(age);
        },
      ),
    );
  });
});
