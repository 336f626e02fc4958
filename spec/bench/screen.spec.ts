import jpeg from 'jpeg-js';
import fc from 'fast-check';
import { drawBarcode } from '../../src/barcode';
import {
  PLAUSIBLE_GLASS_MS,
  SCREENCAST_QUALITY,
  containRect,
  firstAppearances,
  firstPicture,
  readFrame,
  type Rect,
  type ScreenFrame,
  type Size,
} from '../../bench/screen';

const PICTURE: Size = { width: 640, height: 480 };

/** A test-pattern-like picture (grey, the barcode in its corner) as its luma plane. */
function pictureLuma(frame: number, time: number): Buffer {
  const i420 = Buffer.alloc((PICTURE.width * PICTURE.height * 3) / 2, 100);
  drawBarcode(i420, PICTURE.width, PICTURE.height, { frame, time });
  return i420.subarray(0, PICTURE.width * PICTURE.height);
}

/**
 * The screencast image of a page whose picture shows at `rect` (CSS px) in a viewport of `viewport`, at `scale`
 * image pixels per CSS px, on black; a JPEG as Chromium sends it, base64. `luma` null: no picture yet.
 */
function screenshot(viewport: Size, rect: Rect, scale: number, luma: Buffer | null): string {
  const width = Math.round(viewport.width * scale);
  const height = Math.round(viewport.height * scale);
  const data = Buffer.alloc(width * height * 4);
  for (let iy = 0; iy < height; iy++) {
    for (let ix = 0; ix < width; ix++) {
      const px = Math.floor(((ix + 0.5) / scale - rect.x) * (PICTURE.width / rect.width));
      const py = Math.floor(((iy + 0.5) / scale - rect.y) * (PICTURE.height / rect.height));
      const inside = luma !== null && px >= 0 && py >= 0 && px < PICTURE.width && py < PICTURE.height;
      const v = inside ? luma[py * PICTURE.width + px]! : 0;
      data.fill(v, (iy * width + ix) * 4, (iy * width + ix) * 4 + 3);
      data[(iy * width + ix) * 4 + 3] = 255;
    }
  }
  return jpeg.encode({ width, height, data }, SCREENCAST_QUALITY).data.toString('base64');
}

describe('containRect', () => {
  it('fits a picture whole and centred (object-fit: contain)', () => {
    expect(containRect({ x: 0, y: 0, width: 1280, height: 720 }, PICTURE)).toEqual({ x: 160, y: 0, width: 960, height: 720 });
    expect(containRect({ x: 0, y: 0, width: 640, height: 800 }, PICTURE)).toEqual({ x: 0, y: 160, width: 640, height: 480 });
    expect(containRect({ x: 0, y: 0, width: 640, height: 480 }, PICTURE)).toEqual({ x: 0, y: 0, width: 640, height: 480 });
  });

  it('keeps the aspect ratio and stays inside the box for any box', () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 4000 }), fc.integer({ min: 50, max: 4000 }), (width, height) => {
        const r = containRect({ x: 0, y: 0, width, height }, PICTURE);
        expect(r.width / r.height).toBeCloseTo(PICTURE.width / PICTURE.height, 6);
        expect(r.x).toBeGreaterThanOrEqual(-1e-9);
        expect(r.y).toBeGreaterThanOrEqual(-1e-9);
        expect(r.x + r.width).toBeLessThanOrEqual(width + 1e-9);
        expect(r.y + r.height).toBeLessThanOrEqual(height + 1e-9);
        // It touches two opposite sides.
        expect(Math.min(Math.abs(r.width - width), Math.abs(r.height - height))).toBeLessThan(1e-9);
      }),
    );
  });
});

describe('readFrame', () => {
  const time = 1_765_000_000_123;
  const cases: [string, Size, number][] = [
    ['the viewport the picture size, one image pixel per CSS px', PICTURE, 1],
    ['a wider viewport (letterboxed at the sides), scaled up', { width: 1300, height: 760 }, 1],
    ['a taller viewport, scaled down', { width: 560, height: 700 }, 1],
    ['a screencast image at half the viewport size', { width: 1300, height: 760 }, 0.5],
    ['a high-DPI image (2 pixels per CSS px)', { width: 800, height: 600 }, 2],
  ];
  it.each(cases)('reads the barcode and glass-to-glass from a JPEG frame: %s', (_name, viewport, scale) => {
    const rect = containRect({ x: 0, y: 0, ...viewport }, PICTURE);
    const at = time + 37.5;
    const frame = readFrame({ at, viewport, data: screenshot(viewport, rect, scale, pictureLuma(4242, time % 2 ** 32)) }, PICTURE);
    expect(frame.barcode).toEqual({ frame: 4242, time: time % 2 ** 32 });
    expect(frame.glassMs).toBeCloseTo(37.5, 6);
  });

  it('finds no picture in a black page (all-zero bits are no live picture)', () => {
    const frame = readFrame(
      { at: time, viewport: PICTURE, data: screenshot(PICTURE, containRect({ x: 0, y: 0, ...PICTURE }, PICTURE), 1, null) },
      PICTURE,
    );
    expect(frame).toEqual({ at: time });
  });

  it('finds no picture where the barcode is unreadable (a mid-grey corner)', () => {
    const luma = Buffer.alloc(PICTURE.width * PICTURE.height, 128);
    const frame = readFrame(
      { at: time, viewport: PICTURE, data: screenshot(PICTURE, containRect({ x: 0, y: 0, ...PICTURE }, PICTURE), 1, luma) },
      PICTURE,
    );
    expect(frame.barcode).toBeUndefined();
  });

  it('finds no picture whose capture time is implausibly far from the frame', () => {
    const rect = containRect({ x: 0, y: 0, ...PICTURE }, PICTURE);
    const data = screenshot(PICTURE, rect, 1, pictureLuma(7, time % 2 ** 32));
    expect(readFrame({ at: time + PLAUSIBLE_GLASS_MS + 1, viewport: PICTURE, data }, PICTURE).barcode).toBeUndefined();
    expect(readFrame({ at: time + 20, viewport: PICTURE, data }, PICTURE).glassMs).toBeCloseTo(20, 6);
  });
});

describe('firstPicture and firstAppearances', () => {
  const pic = (at: number, frame: number, glassMs: number): ScreenFrame => ({ at, barcode: { frame, time: at - glassMs }, glassMs });

  it('firstPicture is the first frame showing a picture', () => {
    expect(firstPicture([{ at: 1 }, { at: 2 }, pic(3, 10, 30), pic(4, 11, 20)])).toEqual(pic(3, 10, 30));
    expect(firstPicture([{ at: 1 }])).toBeUndefined();
    expect(firstPicture([])).toBeUndefined();
  });

  it('counts each picture once, at its first frame on screen', () => {
    // Picture 11 is in three frames (the HUD changed under it); picture 10 comes back (never expected): not counted.
    const frames = [{ at: 0 }, pic(10, 10, 30), pic(50, 11, 28), pic(60, 11, 38), pic(70, 11, 48), pic(80, 10, 100), pic(95, 12, 25)];
    expect(firstAppearances(frames)).toEqual([30, 28, 25]);
    expect(firstAppearances([])).toEqual([]);
  });
});
