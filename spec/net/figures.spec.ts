import { encode } from 'jpeg-js';
import { BARCODE } from '../../src/barcode';
import { backToLive, glassSlope, phaseFigures } from '../../bench/net/figures';
import { barcodeOfJpeg } from '../../bench/net/screen-glass';
import type { OnScreen } from '../../bench/net/screen-glass';

/** Pictures every `everyMs` from `from` to `to` (exclusive) with glass from `glass(at)`. */
function pictures(from: number, to: number, everyMs: number, glass: (at: number) => number): OnScreen[] {
  const out: OnScreen[] = [];
  for (let at = from, frame = 0; at < to; at += everyMs, frame++) out.push({ at, frame, glassMs: glass(at) });
  return out;
}

describe('phaseFigures', () => {
  it('gives glass quantiles, pictures per second and the longest gap, the phase edges included', () => {
    const shown = [...pictures(0, 1000, 100, () => 50), ...pictures(3000, 4000, 100, () => 150)];
    const f = phaseFigures(shown, 0, 5000);
    expect(f).toEqual({ pictures: 20, glassP50: 50, glassP95: 150, glassMax: 150, perSecond: 4, maxGapMs: 2100 });
    // Only what fell in the phase; its end counts as a gap's end.
    expect(phaseFigures(shown, 3500, 6000)).toMatchObject({ pictures: 5, maxGapMs: 2100 });
    expect(phaseFigures([], 0, 1000)).toMatchObject({ pictures: 0, perSecond: 0, maxGapMs: 1000 });
  });
});

describe('backToLive', () => {
  it('is the first picture after the recovery from which a whole hold of pictures is within the slack of live', () => {
    // Late (500 ms) until 2600, live (40 ms) after; the control's p50 and p95 are 35 and 40.
    const shown = pictures(1000, 6000, 40, (at) => (at < 2600 ? 500 : 40));
    // A hold's p95 lets one late picture in twenty pass: the hold may start one picture before the last late one.
    expect(backToLive(shown, 2000, { p50: 35, p95: 40, perSecond: 25 })).toBe(560);
    // Still late beyond the slack: never.
    expect(backToLive(shown, 2000, { p50: 20, p95: 25, perSecond: 25 })).toBeNaN();
  });

  it('does not count a hold in which the pictures stop', () => {
    // Live glass but a 900 ms gap in the first hold after recovery (3 pictures where the control shows 25): live
    // only once pictures flow again.
    const shown = [...pictures(0, 1100, 40, () => 30), ...pictures(2000, 5000, 40, () => 30)];
    expect(backToLive(shown, 1000, { p50: 30, p95: 30, perSecond: 25 })).toBe(1000);
  });
});

describe('barcodeOfJpeg', () => {
  it("reads the test pattern's barcode from a half-size JPEG of the screen", () => {
    const value = { frame: 123_456, time: 987_654_321 };
    const [w, h] = [320, 240];
    const rgba = Buffer.alloc(w * h * 4, 60);
    [value.frame, value.time].forEach((word, row) => {
      for (let bit = 0; bit < BARCODE.bits; bit++) {
        const luma = (word >>> (BARCODE.bits - 1 - bit)) & 1 ? BARCODE.one : BARCODE.zero;
        const size = BARCODE.block / 2;
        for (let y = row * size; y < (row + 1) * size; y++)
          for (let x = bit * size; x < (bit + 1) * size; x++) rgba.fill(luma, (y * w + x) * 4, (y * w + x) * 4 + 4);
      }
    });
    const jpeg = encode({ data: rgba, width: w, height: h }, 90).data;
    expect(barcodeOfJpeg(jpeg)).toEqual(value);
    expect(barcodeOfJpeg(encode({ data: Buffer.alloc(w * h * 4, 128), width: w, height: h }, 90).data)).toBeUndefined();
  });
});

describe('glassSlope', () => {
  it('is the growth of glass in ms per minute, 0 for a steady latency, whatever the jitter around it', () => {
    // 2 ms more every 10 s: 12 ms a minute.
    expect(
      glassSlope(
        pictures(0, 120_000, 40, (at) => 50 + at / 5000),
        0,
        120_000,
      ),
    ).toBeCloseTo(12, 6);
    // Alternating 30/70 around a steady 50: no growth (a tenth of a ms a minute at most, from where the pairs end).
    const steady = glassSlope(
      pictures(0, 60_000, 40, (at) => (Math.floor(at / 40) % 2 ? 70 : 30)),
      0,
      60_000,
    );
    expect(Math.abs(steady)).toBeLessThan(0.1);
    // Only the pictures in the window: a late spell before it does not count.
    const spell = [...pictures(0, 10_000, 40, () => 900), ...pictures(10_000, 70_000, 40, () => 40)];
    expect(glassSlope(spell, 10_000, 70_000)).toBeCloseTo(0, 6);
    expect(glassSlope([], 0, 1000)).toBeNaN();
    expect(
      glassSlope(
        pictures(0, 40, 40, () => 50),
        0,
        1000,
      ),
    ).toBeNaN();
  });
});
