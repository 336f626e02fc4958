import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import type { Frame } from '../../src/frame';
import { alignUp, FrameAssembler, rawFrames } from '../../src/sources/raw-frames';
import { testScheduler } from '../helpers/test-scheduler';

/** A padded I420 frame whose kept bytes are `fill(i)` for the i-th kept byte and whose padding is 0xEE. */
function padded(width: number, height: number, stride: number, paddedHeight: number, fill: (i: number) => number) {
  const buf = Buffer.alloc((stride * paddedHeight * 3) / 2, 0xee);
  const kept = Buffer.alloc((width * height * 3) / 2);
  let i = 0;
  const planes = [
    [0, stride, height, width],
    [stride * paddedHeight, stride / 2, height / 2, width / 2],
    [stride * paddedHeight * 1.25, stride / 2, height / 2, width / 2],
  ];
  for (const [at, s, rows, cols] of planes) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        kept[i] = fill(i);
        buf[at + r * s + c] = kept[i++];
      }
    }
  }
  return { buf, kept };
}

describe('alignUp', () => {
  it('rounds up to the alignment', () => {
    expect([alignUp(640, 64), alignUp(780, 64), alignUp(800, 128), alignUp(1, 32), alignUp(0, 16)]).toEqual([640, 832, 896, 32, 0]);
  });
});

describe('rawFrames (marbles)', () => {
  // 4×2 frames with rows padded to 8 bytes: 12 kept bytes in 24.
  const a = padded(4, 2, 8, 2, (i) => i);
  const b = padded(4, 2, 8, 2, (i) => 100 + i);
  const values = {
    a: a.buf,
    h: a.buf.subarray(0, 10), // first part of a
    t: a.buf.subarray(10), // the rest of a
    b: b.buf,
    w: Buffer.concat([a.buf, b.buf]), // two frames in one chunk
  };
  // Cropped frames are copies in buffers of the assembler's own, which `release` gives back for reuse.
  const frame = (seq: number, data: Buffer, capturedAt: number): Frame => ({
    data,
    width: 4,
    height: 2,
    seq,
    capturedAt,
    release: expect.any(Function) as () => void,
  });
  const op = (now: () => number) => rawFrames({ width: 4, height: 2, stride: 8, scheduler: { now } });

  it('emits a cropped frame per padded frame, stamped when its last byte arrives', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-h--t-b-|', values);
      expectObservable(source.pipe(op(() => ts.now()))).toBe('----x-y-|', {
        x: frame(0, a.kept, 4),
        y: frame(1, b.kept, 6),
      });
      expectSubscriptions(source.subscriptions).toBe('^-------!');
    });
  });

  it('emits every frame a chunk completes', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--w---|', values);
      expectObservable(source.pipe(op(() => ts.now()))).toBe('--(xy)|', {
        x: frame(0, a.kept, 2),
        y: frame(1, b.kept, 2),
      });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('drops a partial frame when the stream completes', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-h|', values).pipe(op(() => ts.now()))).toBe('-x--|', { x: frame(0, a.kept, 1) });
    });
  });

  it('passes never, empty and error through', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const never = cold<Buffer>('-');
      const empty = cold<Buffer>('|');
      const failing = cold<Buffer>('-a-#', values, new Error('camera gone'));
      expectObservable(never.pipe(op(() => ts.now()))).toBe('-');
      expectObservable(empty.pipe(op(() => ts.now()))).toBe('|');
      expectObservable(failing.pipe(op(() => ts.now()))).toBe('-x-#', { x: frame(0, a.kept, 1) }, new Error('camera gone'));
      expectSubscriptions(never.subscriptions).toBe('^');
      expectSubscriptions(empty.subscriptions).toBe('(^!)');
      expectSubscriptions(failing.subscriptions).toBe('^--!');
    });
  });

  it('keeps going on a never-ending stream and unsubscribes early', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-a-b-a-', values);
      expectObservable(source.pipe(op(() => ts.now())), '^----!').toBe('-x-y-', {
        x: frame(0, a.kept, 1),
        y: frame(1, b.kept, 3),
      });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('numbers frames from 0 for every subscription', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const frames = cold('-a|', values).pipe(op(() => ts.now()));
      expectObservable(frames).toBe('-x|', { x: frame(0, a.kept, 1) });
      expectObservable(frames).toBe('-x|', { x: frame(0, a.kept, 1) });
    });
  });
});

describe('rawFrames', () => {
  it('passes an unpadded frame that lies in one chunk through without copying', async () => {
    const chunk = Buffer.alloc(6 * 3);
    chunk.forEach((_, i) => (chunk[i] = i));
    const frames = await lastValueFrom(from([chunk]).pipe(rawFrames({ width: 2, height: 2 }), toArray()));
    expect(frames.map((f) => [f.data.buffer, f.data.byteOffset, f.seq])).toEqual([
      [chunk.buffer, chunk.byteOffset, 0],
      [chunk.buffer, chunk.byteOffset + 6, 1],
      [chunk.buffer, chunk.byteOffset + 12, 2],
    ]);
  });

  it('crops padded rows and padded lines (raspividyuv layout)', () => {
    const f = padded(6, 2, 32, 16, (i) => i);
    const [frame] = new FrameAssembler(6, 2, 32, 16, { now: () => 7 }).push(f.buf);
    expect(frame).toEqual({ data: f.kept, width: 6, height: 2, seq: 0, capturedAt: 7, release: expect.any(Function) });
  });

  it('fills a released frame’s buffer again, and never one whose frame was not released', () => {
    const one = padded(4, 2, 8, 2, (i) => i);
    const two = padded(4, 2, 8, 2, (i) => 50 + i);
    const three = padded(4, 2, 8, 2, (i) => 100 + i);
    const assembler = new FrameAssembler(4, 2, 8, 2, { now: () => 0 });
    const [first] = assembler.push(one.buf);
    const [second] = assembler.push(two.buf);
    // Neither was released: each kept its own bytes.
    expect(second!.data).not.toBe(first!.data);
    expect([first!.data, second!.data]).toEqual([one.kept, two.kept]);
    first!.release!();
    first!.release!(); // a second call changes nothing
    const [third, fourth] = assembler.push(Buffer.concat([three.buf, one.buf]));
    expect(third!.data).toBe(first!.data);
    expect(third!.data).toEqual(three.kept);
    expect(fourth!.data).not.toBe(first!.data);
    expect(second!.data).toEqual(two.kept);
  });

  it('gives a frame that is a view of the chunk no release (the buffer is the chunk’s, not the assembler’s)', async () => {
    const frames = await lastValueFrom(from([Buffer.alloc(12)]).pipe(rawFrames({ width: 2, height: 2 }), toArray()));
    expect(frames.map((f) => f.release)).toEqual([undefined, undefined]);
  });

  it('stamps capturedAt from Date.now by default', async () => {
    const before = Date.now();
    const [frame] = await lastValueFrom(from([Buffer.alloc(6)]).pipe(rawFrames({ width: 2, height: 2 }), toArray()));
    expect(frame.capturedAt).toBeGreaterThanOrEqual(before);
  });

  it('rejects sizes and paddings it cannot crop', () => {
    expect(() => rawFrames({ width: 3, height: 2 })).toThrow(/width must be an even/);
    expect(() => rawFrames({ width: 4, height: 2, stride: 2 })).toThrow(/stride must be .* at least the width \(4\)/);
    expect(() => rawFrames({ width: 4, height: 2, paddedHeight: 3 })).toThrow(/paddedHeight/);
  });

  it('gives the same frames however the stream is chunked (property)', () => {
    const layout = fc
      .record({
        w: fc.integer({ min: 1, max: 8 }),
        h: fc.integer({ min: 1, max: 5 }),
        padW: fc.integer({ min: 0, max: 5 }),
        padH: fc.integer({ min: 0, max: 3 }),
        frames: fc.integer({ min: 0, max: 4 }),
        seed: fc.integer({ min: 0, max: 255 }),
      })
      .map(({ w, h, padW, padH, frames, seed }) => ({
        width: 2 * w,
        height: 2 * h,
        stride: 2 * (w + padW),
        paddedHeight: 2 * (h + padH),
        frames,
        seed,
      }));
    fc.assert(
      fc.property(
        layout,
        fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 12 }),
        ({ width, height, stride, paddedHeight, frames, seed }, cuts) => {
          const made = Array.from({ length: frames }, (_, n) =>
            padded(width, height, stride, paddedHeight, (i) => (seed + 7 * n + i) % 238),
          );
          const stream = Buffer.concat(made.map((m) => m.buf));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
          const chunks = [0, ...points, stream.length]
            .slice(1)
            .map((end, i, ends) => stream.subarray(i === 0 ? 0 : ends[i - 1], end))
            .filter((c) => c.length > 0);
          const assembler = new FrameAssembler(width, height, stride, paddedHeight, { now: () => 0 });
          const out = chunks.flatMap((c) => assembler.push(c));
          expect(out.map((f) => f.seq)).toEqual(made.map((_, n) => n));
          expect(out.map((f) => f.data)).toEqual(made.map((m) => m.kept));
          expect(out.every((f) => !f.data.includes(0xee))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
