import fc from 'fast-check';
import { map, take, tap, type SchedulerLike } from 'rxjs';
import { BARCODE, readBarcode } from '../../src/barcode';
import { yuv420Size, type Frame } from '../../src/frame';
import { testPattern, TestPatternRenderer } from '../../src/sources/test-pattern';
import { testScheduler } from '../helpers/test-scheduler';

const lumaOf = (f: Frame) => (x: number, y: number) => f.data[y * f.width + x]!;
const stamp = (f: Frame) => ({ seq: f.seq, capturedAt: f.capturedAt });

describe('testPattern (virtual time)', () => {
  it('emits a frame every 40 virtual ms at 25 fps, seq 0, 1, 2…, stamped with scheduler.now()', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const frames = testPattern({ width: 512, height: 116, fps: 25, scheduler: ts }).pipe(take(4), map(stamp));
      expectObservable(frames).toBe('a 39ms b 39ms c 39ms (d|)', {
        a: { seq: 0, capturedAt: 0 },
        b: { seq: 1, capturedAt: 40 },
        c: { seq: 2, capturedAt: 80 },
        d: { seq: 3, capturedAt: 120 },
      });
    });
  });

  it('keeps a fixed timeline at rates that do not divide 1000 (24 fps: no drift)', () => {
    const ts = testScheduler();
    const times: number[] = [];
    ts.run(() => {
      testPattern({ width: 512, height: 116, fps: 24, scheduler: ts })
        .pipe(take(49))
        .subscribe((f) => times.push(f.capturedAt));
    });
    expect(times).toHaveLength(49);
    times.forEach((t, n) => expect(t).toBeCloseTo((n * 1000) / 24, 6));
    expect(times[48]).toBeCloseTo(2000, 6);
  });

  it('never ends by itself, and stops on unsubscribe', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const frames = testPattern({ width: 512, height: 116, fps: 25, scheduler: ts }).pipe(map((f) => f.seq));
      expectObservable(frames, '^ 100ms !').toBe('a 39ms b 39ms c', { a: 0, b: 1, c: 2 });
    });
  });

  it('is cold: each subscriber gets its own timeline from seq 0', () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      const frames = testPattern({ width: 512, height: 116, fps: 25, scheduler: ts }).pipe(take(2), map(stamp));
      expectObservable(frames).toBe('a 39ms (b|)', { a: { seq: 0, capturedAt: 0 }, b: { seq: 1, capturedAt: 40 } });
      expectObservable(frames, '10ms ^').toBe('10ms a 39ms (b|)', {
        a: { seq: 0, capturedAt: 10 },
        b: { seq: 1, capturedAt: 50 },
      });
    });
  });

  it('skips the slots a late tick missed rather than bursting to catch up', () => {
    const ts = testScheduler();
    // A scheduler whose clock jumps 100 ms ahead of its timers after frame 1, as if rendering had stalled.
    let jump = 0;
    const jumpy: SchedulerLike = {
      now: () => ts.now() + jump,
      schedule: ts.schedule.bind(ts) as SchedulerLike['schedule'],
    };
    ts.run(({ expectObservable }) => {
      const frames = testPattern({ width: 512, height: 116, fps: 25, scheduler: jumpy }).pipe(
        tap((f) => {
          if (f.seq === 1) jump = 100;
        }),
        take(4),
        map(stamp),
      );
      // After frame 1 (slot 1, t 40) the clock reads 140: slots 2 and 3 are gone, so frame 2 waits for slot 4
      // (t 160, 20 ms later) and frame 3 for slot 5; seq stays consecutive, one frame per slot.
      expectObservable(frames).toBe('a 39ms b 19ms c 39ms (d|)', {
        a: { seq: 0, capturedAt: 0 },
        b: { seq: 1, capturedAt: 40 },
        c: { seq: 2, capturedAt: 160 },
        d: { seq: 3, capturedAt: 200 },
      });
    });
  });

  it('rejects bad rates at once', () => {
    for (const fps of [0, -1, 121, Number.NaN]) {
      expect(() => testPattern({ fps })).toThrow(`test pattern fps must be above 0 and at most 120, got ${fps}`);
    }
  });
});

describe('TestPatternRenderer', () => {
  const renderer = new TestPatternRenderer(640, 480);

  it('renders tightly packed I420 frames of the asked size with seq and capturedAt', () => {
    const f = renderer.render(7, 1234);
    expect(f.data.length).toBe(yuv420Size(640, 480));
    expect(f).toMatchObject({ width: 640, height: 480, seq: 7, capturedAt: 1234 });
  });

  it.each([
    [0, 0],
    [1, 40],
    [2 ** 32 - 1, 2 ** 32 - 1],
    [123_456, Date.now()],
  ])('carries frame %d and time %d in its barcode', (seq, capturedAt) => {
    expect(readBarcode(lumaOf(renderer.render(seq, capturedAt)))).toEqual({
      frame: seq,
      time: capturedAt % 2 ** 32,
    });
  });

  it('has chroma 128 under the barcode', () => {
    const f = renderer.render(5, 5);
    const cw = f.width / 2;
    const u = f.width * f.height;
    const v = u + cw * (f.height / 2);
    for (const plane of [u, v])
      for (let y = 0; y < BARCODE.height / 2; y++) {
        const row = f.data.subarray(plane + y * cw, plane + y * cw + BARCODE.width / 2);
        expect(row.every((b) => b === 128)).toBe(true);
      }
  });

  it('moves: consecutive frames differ below the barcode and clock', () => {
    const below = (f: Frame) => f.data.subarray(120 * f.width, f.width * f.height);
    const frames = [0, 1, 2, 3].map((seq) => renderer.render(seq, 1000));
    for (let i = 1; i < frames.length; i++) expect(below(frames[i]!).equals(below(frames[i - 1]!))).toBe(false);
    // Chroma moves too (the colour bands scroll).
    const chroma = (f: Frame) => f.data.subarray(f.width * f.height);
    expect(chroma(frames[1]!).equals(chroma(frames[0]!))).toBe(false);
  });

  it('renders the same frame for the same inputs', () => {
    expect(renderer.render(9, 99).data.equals(renderer.render(9, 99).data)).toBe(true);
  });

  it('draws into the buffer of a released frame, every byte afresh; a frame not released keeps its bytes', () => {
    const own = new TestPatternRenderer(640, 480);
    const fresh = own.render(11, 1111);
    const expected = Buffer.from(fresh.data);
    const kept = own.render(12, 1200);
    const keptCopy = Buffer.from(kept.data);
    expect(kept.data).not.toBe(fresh.data);
    // Released: the next render fills the same buffer, over a frame with other content.
    fresh.release!();
    const later = own.render(40, 4000);
    expect(later.data).toBe(fresh.data);
    later.release!();
    const again = own.render(11, 1111);
    expect(again.data).toBe(fresh.data);
    expect(again.data.equals(expected)).toBe(true);
    // Never released: never drawn over.
    expect(kept.data.equals(keptCopy)).toBe(true);
    expect(own.render(13, 1300).data).not.toBe(kept.data);
  });

  it('works at the smallest size the barcode and clock fit in', () => {
    const small = new TestPatternRenderer(512, 116).render(3, 77);
    expect(small.data.length).toBe(yuv420Size(512, 116));
    expect(readBarcode(lumaOf(small))).toEqual({ frame: 3, time: 77 });
    // The widest frame number the clock area ever shows fits too.
    expect(() => new TestPatternRenderer(512, 116).render(2 ** 32 - 1, Date.now())).not.toThrow();
  });

  it('leaves the barcode out below 512x32, and still draws the clock, shrunk to fit the width', () => {
    expect(new TestPatternRenderer(512, 32).barcode).toBe(true);
    expect(new TestPatternRenderer(640, 480).barcode).toBe(true);
    for (const [width, height] of [
      [510, 480],
      [320, 480],
      [640, 30],
      [2, 2],
    ] as const) {
      expect(new TestPatternRenderer(width, height).barcode).toBe(false);
    }
    // 320 wide: the clock box (12 glyphs at 4 px per dot: 296 x 36) at the top left, where the barcode would be.
    const f = new TestPatternRenderer(320, 480).render(3, Date.UTC(2024, 0, 1, 12, 34, 56, 789));
    expect(f.data.length).toBe(yuv420Size(320, 480));
    const box: number[] = [];
    for (let y = 8; y < 8 + 36; y++) for (let x = 8; x < 8 + 296; x++) box.push(f.data[y * 320 + x]!);
    expect(new Set(box)).toEqual(new Set([16, 235]));
    expect(box.filter((v) => v === 235).length).toBeGreaterThan(500);
    // 160 wide: the clock at 1 px per dot (74 px wide), not cut off.
    const narrow = new TestPatternRenderer(160, 120).render(3, 0);
    const row = (y: number) => [...narrow.data.subarray(y * 160 + 8, y * 160 + 8 + 74)];
    expect(row(8).every((v) => v === 16)).toBe(true);
    expect(row(10).some((v) => v === 235)).toBe(true);
    expect(() => testPattern({ width: 320, height: 240 })).not.toThrow();
  });

  it('renders every even size from 2x2 up: tightly packed frames, the barcode exactly from 512x32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 300 }), fc.nat(2 ** 32 - 1), (w, h, seq) => {
        const [width, height] = [2 * w, 2 * h];
        const renderer = new TestPatternRenderer(width, height);
        const frame = renderer.render(seq, 1_700_000_000_000 + seq);
        expect(frame.data.length).toBe(yuv420Size(width, height));
        expect(renderer.barcode).toBe(width >= 512 && height >= 32);
        if (renderer.barcode) expect(readBarcode(lumaOf(frame))).toEqual({ frame: seq, time: (1_700_000_000_000 + seq) % 2 ** 32 });
      }),
      { numRuns: 60 },
    );
  });

  it('rejects odd sizes', () => {
    expect(() => new TestPatternRenderer(641, 480)).toThrow('test pattern width must be an even whole number from 2 to 4094, got 641');
    expect(() => new TestPatternRenderer(640, 481)).toThrow('test pattern height must be an even whole number from 2 to 4094, got 481');
    expect(() => testPattern({ width: 641 })).toThrow(/width must be an even/);
  });
});
