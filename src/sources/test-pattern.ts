import { asyncScheduler, defer, expand, map, of, timer, type Observable, type SchedulerLike } from 'rxjs';
import { drawBarcode, BARCODE } from '../barcode';
import { assertFrameSize, FramePool, yuv420Size, type Frame } from '../frame';

export interface TestPatternOptions {
  /** Default 640. Below 512 the pattern has no barcode (it is 512 px wide), so the page shows no latency figure. */
  readonly width?: number;
  /** Default 480. */
  readonly height?: number;
  /** Frames per second. Default 24. */
  readonly fps?: number;
  /** Paces the frames and stamps `capturedAt` (`scheduler.now()`). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** 5×7 bitmaps for the clock, one string of 35 bits per glyph, row by row. */
const GLYPHS: Record<string, string> = {
  '0': '01110100011001110101110011000101110',
  '1': '00100011000010000100001000010001110',
  '2': '01110100010000100010001000100011111',
  '3': '11111000100010000010000011000101110',
  '4': '00010001100101010010111110001000010',
  '5': '11111100001111000001000011000101110',
  '6': '00110010001000011110100011000101110',
  '7': '11111000010001000100010000100001000',
  '8': '01110100011000101110100011000101110',
  '9': '01110100011000101111000010001001100',
  ':': '00000011000110000000011000110000000',
  '.': '00000000000000000000000000110001100',
  ' ': '00000000000000000000000000000000000',
  '#': '01010010101111101010111110101001010',
};

/** The largest glyph scale (pixels per glyph dot): 4, so the clock reads at a glance on a phone. */
const MAX_SCALE = 4;

/** Left edge of the clock and frame number boxes. */
const TEXT_X = 8;

/** Width in pixels of a text box of `chars` glyphs at `scale` (each glyph 6 dots wide, a dot of margin each side). */
const textWidth = (chars: number, scale: number): number => 6 * scale * chars + 2 * scale;

/** Height in pixels of a text box at `scale` (7 dots of glyph, a dot of margin above and below). */
const textHeight = (scale: number): number => 9 * scale;

/**
 * Draws white text on a black, colourless box into an I420 frame (x0, y0 even), clipped to the frame: a pattern
 * too small for the whole clock still shows what fits.
 */
function drawText(y: Buffer, width: number, height: number, text: string, x0: number, y0: number, scale: number): void {
  const right = Math.min(width, x0 + textWidth(text.length, scale));
  const bottom = Math.min(height, y0 + textHeight(scale));
  if (x0 >= right || y0 >= bottom) return;
  // A dark box behind the text keeps it readable over the moving background.
  for (let row = y0; row < bottom; row++) y.fill(16, row * width + x0, row * width + right);
  const cw = width >> 1;
  const uOff = width * height;
  const vOff = uOff + cw * (height >> 1);
  for (let row = y0 >> 1; row < bottom >> 1; row++) {
    y.fill(128, uOff + row * cw + (x0 >> 1), uOff + row * cw + (right >> 1));
    y.fill(128, vOff + row * cw + (x0 >> 1), vOff + row * cw + (right >> 1));
  }
  [...text].forEach((ch, i) => {
    const glyph = GLYPHS[ch] ?? GLYPHS[' ']!;
    for (let gy = 0; gy < 7; gy++)
      for (let gx = 0; gx < 5; gx++) {
        if (glyph[gy * 5 + gx] !== '1') continue;
        const px = x0 + scale + (i * 6 + gx) * scale;
        const py = y0 + scale + gy * scale;
        const end = Math.min(px + scale, right);
        if (px >= end) continue;
        for (let dy = 0; dy < scale && py + dy < bottom; dy++) y.fill(235, (py + dy) * width + px, (py + dy) * width + end);
      }
  });
}

function clockText(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, l = 2): string => String(n).padStart(l, '0');
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/**
 * Renders test-pattern frames. Exposed for tests and the benchmark; most callers want {@link testPattern}.
 * The background is made once at twice the width and scrolled, so a frame costs a few row copies.
 */
export class TestPatternRenderer {
  private readonly bgY: Buffer;
  private readonly bgU: Buffer;
  private readonly bgV: Buffer;

  /** Whether the frames carry the barcode: only from {@link BARCODE}'s size up (512x32). */
  readonly barcode: boolean;
  /** Pixels per glyph dot of the clock and frame number: 4, less when the frame is too narrow for the clock. */
  private readonly scale: number;
  /** Frame buffers come back here when a frame is released (the encoder has written it), so rendering reuses them. */
  private readonly pool: FramePool;
  /** Where the clock's box starts (below the barcode when there is one). */
  private readonly textTop: number;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    assertFrameSize(width, height, 'test pattern');
    // Any size MPEG-1 can carry: without room for the barcode it is left out (and the page shows no latency
    // figure), and the clock shrinks to fit the width, or is cut off at the smallest sizes.
    this.barcode = width >= BARCODE.width && height >= BARCODE.height;
    const clock = textWidth(clockText(0).length, 1);
    this.scale = Math.max(1, Math.min(MAX_SCALE, Math.floor((width - 2 * TEXT_X) / clock)));
    this.textTop = this.barcode ? BARCODE.height + 8 : 8;
    this.pool = new FramePool(yuv420Size(width, height));
    const w2 = width * 2;
    const cw2 = width; // chroma row of the double-width background
    this.bgY = Buffer.alloc(w2 * height);
    this.bgU = Buffer.alloc(cw2 * (height >> 1));
    this.bgV = Buffer.alloc(cw2 * (height >> 1));
    // Diagonal luma ramp with period = width, so scrolling by `width` wraps seamlessly; eight colour bands.
    for (let yy = 0; yy < height; yy++) for (let x = 0; x < w2; x++) this.bgY[yy * w2 + x] = (40 + (((x + yy) % width) * 180) / width) | 0;
    const bands = [
      [90, 240],
      [54, 34],
      [166, 16],
      [128, 128],
      [240, 110],
      [16, 146],
      [202, 222],
      [110, 60],
    ] as const;
    for (let yy = 0; yy < height >> 1; yy++)
      for (let x = 0; x < cw2; x++) {
        const band = bands[Math.floor(((x % (width >> 1)) * bands.length) / (width >> 1))]!;
        this.bgU[yy * cw2 + x] = band[0];
        this.bgV[yy * cw2 + x] = band[1];
      }
  }

  /**
   * One frame: `seq` drives the motion and the barcode's frame number, `capturedAt` the clock and barcode time.
   * Every byte is drawn afresh, into a buffer a released frame gave back when there is one.
   */
  render(seq: number, capturedAt: number): Frame {
    const { width, height } = this;
    const data = this.pool.take();
    const shift = (seq * 4) % width;
    const cw = width >> 1;
    const ch = height >> 1;
    for (let yy = 0; yy < height; yy++) this.bgY.copy(data, yy * width, yy * width * 2 + shift, yy * width * 2 + shift + width);
    const uOff = width * height;
    const vOff = uOff + cw * ch;
    const cshift = shift >> 1;
    for (let yy = 0; yy < ch; yy++) {
      this.bgU.copy(data, uOff + yy * cw, yy * width + cshift, yy * width + cshift + cw);
      this.bgV.copy(data, vOff + yy * cw, yy * width + cshift, yy * width + cshift + cw);
    }
    // A bright square bouncing across the lower half: motion the encoder must code.
    const box = Math.min(64, height >> 2, width >> 2) & ~1;
    const spanX = width - box;
    const spanY = (height >> 1) - box;
    if (box > 0 && spanY > 0) {
      const bx = Math.abs(((seq * 6) % (2 * spanX)) - spanX) & ~1;
      const by = ((height >> 1) + Math.abs(((seq * 3) % (2 * spanY)) - spanY)) & ~1;
      for (let yy = by; yy < by + box; yy++) data.fill(220, yy * width + bx, yy * width + bx + box);
    }
    if (this.barcode) drawBarcode(data, width, height, { frame: seq, time: capturedAt });
    const { scale, textTop } = this;
    drawText(data, width, height, clockText(capturedAt), TEXT_X, textTop, scale);
    drawText(data, width, height, `#${seq}`, TEXT_X, textTop + textHeight(scale) + scale, scale);
    return { data, width, height, seq, capturedAt, release: this.pool.releaser(data) };
  }
}

/**
 * A built-in camera stand-in, in pure TypeScript: frames paced at `fps` on a fixed timeline (a late tick skips
 * the slots it missed rather than bursting), with a scrolling background, a bouncing box, a UTC clock and, from
 * 512x32 up, the machine-readable barcode (frame number and capture time; see src/barcode.ts and
 * docs/architecture.md) that the page's latency figure reads. Any frame size works: a smaller one has no barcode
 * and a smaller clock. Cold: each subscription runs its own.
 *
 * @example
 * testPattern({ width: 640, height: 480, fps: 24 }).pipe(take(3)).subscribe((f) => console.log(f.seq, f.data.length));
 */
export function testPattern(options: TestPatternOptions = {}): Observable<Frame> {
  const { width = 640, height = 480, fps = 24, scheduler = asyncScheduler } = options;
  if (!(fps > 0 && fps <= 120)) throw new RangeError(`test pattern fps must be above 0 and at most 120, got ${fps}`);
  const renderer = new TestPatternRenderer(width, height);
  const period = 1000 / fps;
  return defer(() => {
    const t0 = scheduler.now();
    return of({ seq: 0, slot: 0 }).pipe(
      expand(({ seq, slot }) => {
        const now = scheduler.now();
        const next = Math.max(slot + 1, Math.floor((now - t0) / period) + 1);
        return timer(Math.max(0, t0 + next * period - now), scheduler).pipe(map(() => ({ seq: seq + 1, slot: next })));
      }),
      map(({ seq }) => renderer.render(seq, scheduler.now())),
    );
  });
}
