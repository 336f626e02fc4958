import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import fc from 'fast-check';
import { BARCODE, barcodeAge, drawBarcode, readBarcode, type BarcodeValue } from '../src/barcode';
import { yuv420Size } from '../src/frame';
import { PUBLIC_DIR } from '../src/server/pages';

const W = 512;
const H = 32;

/** A mid-grey I420 frame with a barcode drawn on it. */
function withBarcode(value: BarcodeValue, width = W, height = H): Buffer {
  const frame = Buffer.alloc(yuv420Size(width, height), 128);
  drawBarcode(frame, width, height, value);
  return frame;
}
const lumaOf =
  (frame: Buffer, width = W) =>
  (x: number, y: number) =>
    frame[y * width + x]!;

describe('drawBarcode', () => {
  it('draws two rows of 32 blocks of 16×16, 235 for 1 and 16 for 0, most significant bit first', () => {
    const frame = withBarcode({ frame: 0x80000001, time: 0x40000000 });
    const block = (bit: number, row: number): number[] => {
      const seen = new Set<number>();
      for (let y = row * 16; y < row * 16 + 16; y++) for (let x = bit * 16; x < bit * 16 + 16; x++) seen.add(frame[y * W + x]!);
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
      fc.property(fc.integer({ min: 2 ** 31, max: 2 ** 45 }), fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), (captured, age) => {
        expect(barcodeAge(captured % 2 ** 32, captured + age)).toBe(age);
      }),
    );
  });
});

/** What public/barcode.js puts on the page's `window`. */
interface PageBarcode {
  readonly BLOCK: number;
  readonly BITS: number;
  readonly WIDTH: number;
  readonly HEIGHT: number;
  readonly ONE: number;
  readonly ZERO: number;
  readPlane(plane: Uint8Array, stride: number, height: number): BarcodeValue | null;
}

/** public/barcode.js as the page gets it: run as a plain script in a browser-like global, read off `window`. */
function pageBarcode(): PageBarcode {
  const window: Record<string, unknown> = {};
  const context = vm.createContext({ window });
  // A classic script's top-level `this` is the window.
  vm.runInContext(`(function () { ${readFileSync(join(PUBLIC_DIR, 'barcode.js'), 'utf8')} }).call(window);`, context);
  return window.pistreamBarcode as PageBarcode;
}

describe("the page's reader (public/barcode.js in the page) and readBarcode", () => {
  const page = pageBarcode();
  /** What the page reads from the Y plane `frame` (row stride `stride`), as a plain value or null. */
  const pageRead = (frame: Uint8Array, stride: number, height: number): BarcodeValue | null => {
    const value = page.readPlane(frame, stride, height);
    return value && { frame: value.frame, time: value.time };
  };
  /** Both readings of one luma plane; the server's undefined spelled as the page's null. */
  const bothRead = (frame: Uint8Array, stride: number, height: number) => ({
    page: pageRead(frame, stride, height),
    server: readBarcode((x, y) => frame[y * stride + x]!) ?? null,
  });

  /** Luma plane of a frame with a barcode, `stride` wide (JSMpeg pads rows to 16 px), `height` high. */
  function lumaWithBarcode(value: BarcodeValue, stride: number, height: number, background = 128): Uint8Array {
    const frame = Buffer.alloc(yuv420Size(stride, height), background);
    drawBarcode(frame, stride, height, value);
    return frame.subarray(0, stride * height);
  }

  /** A copy of `plane` with ±`amplitude` of deterministic noise on every pixel. */
  function noisy(plane: Uint8Array, amplitude: number, seed = 7): Uint8Array {
    let state = seed;
    return plane.map((v) => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return Math.max(0, Math.min(255, v + (state % (2 * amplitude + 1)) - amplitude));
    });
  }

  it('knows the same barcode geometry and levels as the server draws', () => {
    expect({ block: page.BLOCK, bits: page.BITS, width: page.WIDTH, height: page.HEIGHT, one: page.ONE, zero: page.ZERO }).toEqual({
      ...BARCODE,
    });
  });

  it.each([
    ['clean, tightly packed', { frame: 0xdeadbeef, time: 0x12345678 }, 512, 32, 0],
    ['clean, in a padded 640x480 plane', { frame: 7, time: 2 ** 32 - 1 }, 640, 480, 0],
    ['noisy (±30)', { frame: 0xa5a5a5a5, time: 0x0f0f0f0f }, 528, 48, 30],
    ['very noisy (±70)', { frame: 123456, time: 654321 }, 512, 32, 70],
  ])('read the same barcode from a frame drawn by drawBarcode: %s', (_label, value, stride, height, noise) => {
    const plane = lumaWithBarcode(value, stride, height);
    expect(bothRead(noise ? noisy(plane, noise) : plane, stride, height)).toEqual({ page: value, server: value });
  });

  it.each([
    ['mid grey', new Uint8Array(512 * 32).fill(128)],
    ['noise', noisy(new Uint8Array(640 * 32).fill(128), 120)],
    ['a barcode faded to grey', lumaWithBarcode({ frame: 1, time: 2 }, 512, 32).map((v) => (v + 3 * 128) >> 2)],
  ])('both find no barcode in %s', (_label, plane) => {
    const stride = plane.length / 32;
    expect(bothRead(plane, stride, 32)).toEqual({ page: null, server: null });
  });

  it('read a block by the same sample: a block whose very centre alone is bright is no 1 bit to either', () => {
    const plane = lumaWithBarcode({ frame: 0, time: 0 }, 512, 32);
    // Block 0 of row 0: the centre 2x2 at 235, the rest of its centre 8x8 at 16 (mean ~29): a clear 0.
    for (const [x, y] of [
      [7, 7],
      [8, 7],
      [7, 8],
      [8, 8],
    ] as const)
      plane[y * 512 + x] = 235;
    expect(bothRead(plane, 512, 32)).toEqual({ page: { frame: 0, time: 0 }, server: { frame: 0, time: 0 } });
  });

  it.each([
    [90, 0],
    [91, null],
    [159, null],
    [160, 2 ** 32 - 1],
  ])('use the same thresholds: every block at luma %d reads as %s', (luma, word) => {
    const plane = new Uint8Array(512 * 32).fill(luma);
    const expected = word === null ? null : { frame: word, time: word };
    expect(bothRead(plane, 512, 32)).toEqual({ page: expected, server: expected });
  });

  it('the page reads nothing from a plane too small for a barcode', () => {
    const plane = lumaWithBarcode({ frame: 1, time: 1 }, 512, 32);
    expect(page.readPlane(plane, 496, 32)).toBeNull();
    expect(page.readPlane(plane, 512, 31)).toBeNull();
  });

  it('the page loads barcode.js before viewer.js, which reads through it', () => {
    const html = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8');
    const shared = html.indexOf('<script src="barcode.js"></script>');
    expect(shared).toBeGreaterThan(-1);
    expect(shared).toBeLessThan(html.indexOf('<script src="viewer.js"></script>'));
    // The MPEG-1 player reads the decoded Y plane through it, where it decodes (jsmpeg-paint.js; the H.264 players
    // read frames through it too).
    expect(shared).toBeLessThan(html.indexOf('<script src="jsmpeg-paint.js"></script>'));
    expect(readFileSync(join(PUBLIC_DIR, 'jsmpeg-paint.js'), 'utf8')).toMatch(/barcodeReader\.readPlane\(/);
  });
});
