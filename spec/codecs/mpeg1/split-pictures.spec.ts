import fc from 'fast-check';
import { from, lastValueFrom, toArray, type SchedulerLike } from 'rxjs';
import type { Mpeg1Picture } from '../../../src/codecs/mpeg1/mpeg1-picture';
import type { ChunkBuffer } from '../../../src/operators/chunk-buffer';
import { describePicture, findStartCode } from '../../../src/codecs/mpeg1/start-codes';
import { PictureSplitter, splitPictures, type Chunk } from '../../../src/codecs/mpeg1/split-pictures';
import { mpeg1Stream } from '../../helpers/ffmpeg-stream';
import { SEQUENCE_END, gopHeader, keyPicture, pictureHeader, pPicture, sequenceHeader, slice } from '../../helpers/mpeg1-fixtures';
import { testScheduler } from '../../helpers/test-scheduler';

const K = keyPicture(640, 480, 10);
const P1 = pPicture(1, 7);
const P2 = pPicture(2, 5);
const STREAM = Buffer.concat([K, P1, P2]);

/** Runs a splitter over `chunks` and flushes it. */
function split(chunks: readonly Buffer[]): Buffer[] {
  const splitter = new PictureSplitter();
  return [...chunks.flatMap((c) => splitter.push(c)), ...splitter.flush()];
}

/** Cuts `buf` at the given offsets (any order, duplicates and out-of-range ones allowed: they make empty chunks). */
function cut(buf: Buffer, offsets: readonly number[]): Buffer[] {
  const sorted = [...offsets].map((o) => Math.max(0, Math.min(buf.length, o))).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const o of [...sorted, buf.length]) {
    chunks.push(buf.subarray(prev, o));
    prev = o;
  }
  return chunks;
}

function startCodeOffsets(buf: Buffer): number[] {
  const offsets: number[] = [];
  for (let i = findStartCode(buf); i >= 0; i = findStartCode(buf, i + 4)) offsets.push(i);
  return offsets;
}

describe('PictureSplitter', () => {
  it('cuts pictures at the next picture’s first header; the stream’s end closes the last', () => {
    const splitter = new PictureSplitter();
    expect(splitter.push(STREAM)).toEqual([K, P1]);
    expect(splitter.flush()).toEqual([P2]);
    expect(splitter.flush()).toEqual([]);
  });

  it('keeps sequence and GOP headers with the picture they precede', () => {
    const twoGops = Buffer.concat([K, P1, K, P2]);
    expect(split([twoGops])).toEqual([K, P1, K, P2]);
    const gopOnly = Buffer.concat([gopHeader(), pictureHeader('I'), slice()]);
    expect(split([Buffer.concat([gopOnly, P1, gopOnly])])).toEqual([gopOnly, P1, gopOnly]);
  });

  it('keeps user data and slices inside the picture', () => {
    const userData = Buffer.from([0, 0, 1, 0xb2, 0x41, 0x42]);
    const pic = Buffer.concat([sequenceHeader(), userData, gopHeader(), pictureHeader('I'), userData, slice(1), slice(2), slice(3)]);
    expect(split([Buffer.concat([pic, P1])])).toEqual([pic, P1]);
  });

  it('returns views into the chunk for pictures inside one chunk, copies only across chunks', () => {
    const chunk = Buffer.concat([K, P1, P2]);
    const splitter = new PictureSplitter();
    const [k, p1] = splitter.push(chunk);
    expect(k!.buffer).toBe(chunk.buffer);
    expect(k!.byteOffset).toBe(chunk.byteOffset);
    expect(p1!.buffer).toBe(chunk.buffer);
    expect(p1!.byteOffset).toBe(chunk.byteOffset + K.length);

    const across = new PictureSplitter();
    across.push(STREAM.subarray(0, 5));
    const [joined] = across.push(STREAM.subarray(5));
    expect(joined).toEqual(K);
    // A copy (Buffer.concat may share the pool slab with STREAM, but never STREAM's own bytes).
    expect(joined!.buffer === STREAM.buffer && joined!.byteOffset === STREAM.byteOffset).toBe(false);
  });

  it('drops bytes before the first header (a decoder cannot start there)', () => {
    const junk = Buffer.concat([Buffer.from([0x12, 0, 0, 0x34]), slice(3), Buffer.from([0, 0, 1, 0xb2, 9])]);
    expect(split([Buffer.concat([junk, K, P1])])).toEqual([K, P1]);
    expect(split([junk])).toEqual([]);
  });

  it('starts at a P picture when the stream does (no header precedes it)', () => {
    expect(split([Buffer.concat([P1, P2, K])])).toEqual([P1, P2, K]);
  });

  it('closes a picture at a sequence end code, which it keeps, and drops what follows up to the next header', () => {
    const splitter = new PictureSplitter();
    const ended = Buffer.concat([P1, SEQUENCE_END]);
    expect(splitter.push(Buffer.concat([K, ended]))).toEqual([K, ended]);
    expect(splitter.push(Buffer.from([0x77, 0x88]))).toEqual([]);
    expect(splitter.push(K)).toEqual([]);
    expect(splitter.flush()).toEqual([K]);
  });

  it('drops headers that reach a sequence end or the stream’s end without a picture header', () => {
    expect(split([Buffer.concat([sequenceHeader(), gopHeader(), SEQUENCE_END, K])])).toEqual([K]);
    expect(split([Buffer.concat([K, sequenceHeader(), gopHeader()])])).toEqual([K]);
  });

  it('ignores empty chunks', () => {
    const splitter = new PictureSplitter();
    expect(splitter.push(Buffer.alloc(0))).toEqual([]);
    expect(splitter.push(STREAM)).toEqual([K, P1]);
    expect(splitter.push(Buffer.alloc(0))).toEqual([]);
    expect(splitter.flush()).toEqual([P2]);
  });

  it('finds a start code split across two chunks at every offset', () => {
    for (let at = 0; at <= STREAM.length; at++) {
      expect(split(cut(STREAM, [at]))).toEqual([K, P1, P2]);
    }
  });

  it('finds start codes split across three chunks at every pair of offsets around them', () => {
    for (const code of startCodeOffsets(STREAM)) {
      for (let a = code - 1; a <= code + 4; a++) {
        for (let b = a; b <= code + 5; b++) expect(split(cut(STREAM, [a, b]))).toEqual([K, P1, P2]);
      }
    }
  });

  it('splits a stream fed one byte at a time', () => {
    const bytes = [...Buffer.concat([Buffer.from([0, 0]), STREAM, SEQUENCE_END, Buffer.from([0, 0, 1])])].map((b) => Buffer.from([b]));
    expect(split(bytes)).toEqual([K, P1, Buffer.concat([P2, SEQUENCE_END])]);
  });

  it('emits picture k when the start code of picture k+1’s first header is complete, and not earlier', () => {
    const splitter = new PictureSplitter();
    for (let n = 0; n < K.length; n++) expect(splitter.push(K.subarray(n, n + 1))).toEqual([]);
    // P1's picture start code is 00 00 01 00: K is complete only once its 4th byte arrives.
    for (let n = 0; n < 3; n++) expect(splitter.push(P1.subarray(n, n + 1))).toEqual([]);
    expect(splitter.push(P1.subarray(3, 4))).toEqual([K]);
    expect(splitter.push(P1.subarray(4))).toEqual([]);
    expect(splitter.push(K.subarray(0, 3))).toEqual([]);
    expect(splitter.push(K.subarray(3))).toEqual([P1]);
    expect(splitter.flush()).toEqual([K]);
  });

  it('frees the bytes of emitted pictures', () => {
    const splitter = new PictureSplitter();
    for (let n = 0; n < 100; n++) splitter.push(Buffer.concat([K, P1]));
    // Only the open picture's chunk is still held.
    expect((splitter as unknown as { bytes: ChunkBuffer }).bytes.chunks).toBe(1);
  });
});

describe('splitPictures', () => {
  /** A clock stuck at 0, for pictures whose capture time comes from the splitter's default. */
  const zeroClock = { now: () => 0 } as SchedulerLike;
  const picture = (data: Buffer, seq: number, capturedAt: number, over: Partial<Mpeg1Picture> = {}): Mpeg1Picture => {
    const info = describePicture(data)!;
    return { data, codec: 'mpeg1', type: info.type, keyframe: info.keyframe, seq, capturedAt, width: 640, height: 480, ...over };
  };

  describe('marbles', () => {
    it('never: emits nothing and stays subscribed', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Buffer>('-');
        expectObservable(source.pipe(splitPictures())).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('empty: completes with no pictures', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Buffer>('|');
        expectObservable(source.pipe(splitPictures())).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('values: each picture as soon as the next begins, the last at completion', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        // A clock stuck at 1000 so values can be listed; the scheduler's clock is asserted below.
        const scheduler = { now: () => 1000 } as SchedulerLike;
        const source = cold('-a-b-c-|', { a: K, b: P1, c: P2 });
        expectObservable(source.pipe(splitPictures({ scheduler }))).toBe('---x-y-(z|)', {
          x: picture(K, 0, 1000),
          y: picture(P1, 1, 1000),
          z: picture(P2, 2, 1000),
        });
        expectSubscriptions(source.subscriptions).toBe('^------!');
      });
    });

    it('values: takes capturedAt from the injected scheduler at emission', () => {
      const scheduler = testScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-|', { a: K, b: P1, c: P2 });
        expectObservable(source.pipe(splitPictures({ scheduler }))).toBe('---x-y-(z|)', {
          x: picture(K, 0, 3),
          y: picture(P1, 1, 5),
          z: picture(P2, 2, 7),
        });
      });
    });

    it('values: takes seq and capturedAt from meta(index), and chunk-split pictures', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const meta = (i: number) => ({ seq: 100 + i, capturedAt: 5000 + i });
        const source = cold('-a-b-c----|', {
          a: STREAM.subarray(0, 3),
          b: STREAM.subarray(3, K.length + 2),
          c: STREAM.subarray(K.length + 2),
        });
        expectObservable(source.pipe(splitPictures({ meta }))).toBe('-----(xy)-(z|)', {
          x: picture(K, 100, 5000),
          y: picture(P1, 101, 5001),
          z: picture(P2, 102, 5002),
        });
      });
    });

    it('error: passes the error on and discards the unfinished picture', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-#', { a: K, b: P1 }, new Error('encoder died'));
        expectObservable(source.pipe(splitPictures({ scheduler: zeroClock }))).toBe(
          '---x-#',
          { x: picture(K, 0, 0) },
          new Error('encoder died'),
        );
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
    });

    it('never-ending: emits every picture but the open one', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-', { a: K, b: P1, c: P2 });
        expectObservable(source.pipe(splitPictures({ scheduler: zeroClock }))).toBe('---x-y-', {
          x: picture(K, 0, 0),
          y: picture(P1, 1, 0),
        });
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('early unsubscribe: unsubscribes from the source and flushes nothing', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|', { a: K, b: P1, c: P2 });
        expectObservable(source.pipe(splitPictures({ scheduler: zeroClock })), '^---!').toBe('---x', { x: picture(K, 0, 0) });
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
    });

    it('emits at once the picture a Chunk ends, with the Chunk’s meta', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const meta = (i: number) => ({ seq: i, capturedAt: -1 });
        const source = cold<Buffer | Chunk>('-a-b-c-d-----|', {
          a: { data: K, meta: { seq: 7, capturedAt: 70 } },
          b: P1.subarray(0, 6),
          c: { data: P1.subarray(6) }, // no meta: falls back to meta(index)
          d: { data: Buffer.concat([K, P2]), meta: { seq: 9, capturedAt: 90 } }, // two pictures, the last one's meta
        });
        expectObservable(source.pipe(splitPictures({ meta }))).toBe('-a---c-(de)--|', {
          a: picture(K, 7, 70),
          c: picture(P1, 1, -1),
          d: picture(K, 2, -1),
          e: picture(P2, 9, 90),
        });
      });
    });

    it('keeps each subscription’s state apart', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-|', { a: K, b: P1 });
        const pictures = source.pipe(splitPictures({ scheduler: zeroClock }));
        expectObservable(pictures).toBe('---x-(y|)', { x: picture(K, 0, 0), y: picture(P1, 1, 0) });
        expectObservable(pictures).toBe('---x-(y|)', { x: picture(K, 0, 0), y: picture(P1, 1, 0) });
      });
    });
  });

  it('remembers the last sequence header’s size for the pictures after it', async () => {
    const stream = Buffer.concat([keyPicture(320, 240), P1, keyPicture(1280, 720), P2]);
    const pictures = await lastValueFrom(from([stream]).pipe(splitPictures(), toArray()));
    expect(pictures.map((p) => [p.type, p.keyframe, p.width, p.height])).toEqual([
      ['I', true, 320, 240],
      ['P', false, 320, 240],
      ['I', true, 1280, 720],
      ['P', false, 1280, 720],
    ]);
  });

  it('drops pictures of unknown size unless the options give one, but counts them', async () => {
    const stream = Buffer.concat([P1, P2, K]);
    const meta = (i: number) => ({ seq: i, capturedAt: 0 });
    const without = await lastValueFrom(from([stream]).pipe(splitPictures({ meta }), toArray()));
    expect(without.map((p) => [p.seq, p.type])).toEqual([[2, 'I']]);
    const withSize = await lastValueFrom(from([stream]).pipe(splitPictures({ meta, width: 64, height: 48 }), toArray()));
    expect(withSize.map((p) => [p.seq, p.type, p.width, p.height])).toEqual([
      [0, 'P', 64, 48],
      [1, 'P', 64, 48],
      [2, 'I', 640, 480],
    ]);
  });

  describe('on a real ffmpeg stream (48 pictures, GOP 12)', () => {
    let stream: Buffer;
    let whole: Buffer[];
    beforeAll(async () => {
      stream = await mpeg1Stream({ frames: 48, gop: 12 });
      whole = split([stream]);
    });

    it('finds 48 pictures, I then P×11, keyframes exactly every 12th', async () => {
      const pictures = await lastValueFrom(from([stream]).pipe(splitPictures({ scheduler: zeroClock }), toArray()));
      expect(pictures).toHaveLength(48);
      pictures.forEach((p, i) => {
        expect(p).toMatchObject({ seq: i, width: 640, height: 480, keyframe: i % 12 === 0, type: i % 12 === 0 ? 'I' : 'P' });
        expect(p.data.subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, i % 12 === 0 ? 0xb3 : 0x00]));
      });
      // ffmpeg's stream starts with a sequence header: nothing is dropped.
      expect(Buffer.concat(pictures.map((p) => p.data))).toEqual(stream);
    });

    it('yields the same pictures, byte for byte, for any chunking', () => {
      const codes = startCodeOffsets(stream);
      // Cuts anywhere, plus cuts within a few bytes of start codes, where a split is hardest.
      const anyCut = fc.integer({ min: 0, max: stream.length });
      const nearCode = fc.tuple(fc.constantFrom(...codes), fc.integer({ min: -3, max: 4 })).map(([code, d]) => code + d);
      fc.assert(
        fc.property(fc.array(fc.oneof(anyCut, nearCode), { maxLength: 300 }), (offsets) => {
          const chunks = cut(stream, offsets);
          const pictures = split(chunks);
          expect(pictures).toHaveLength(whole.length);
          pictures.forEach((p, i) => expect(p.equals(whole[i]!)).toBe(true));
        }),
        { numRuns: 100 },
      );
    });

    it('yields the same pictures when fed in small chunks', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 0, max: 255 }), (size, skew) => {
          const offsets: number[] = [];
          for (let o = skew; o < stream.length; o += size) offsets.push(o);
          const pictures = split(cut(stream, offsets));
          expect(Buffer.concat(pictures).equals(stream)).toBe(true);
          expect(pictures.map((p) => p.length)).toEqual(whole.map((p) => p.length));
        }),
        { numRuns: 10 },
      );
    });
  });
});
