import fc from 'fast-check';
import { NEVER, concatMap, from, merge, timer, type Observable } from 'rxjs';
import { AccessUnitAssembler, accessUnits, type AccessUnit } from '../../../src/codecs/h264/assemble';
import { annexB, isVcl, nalType, nalUnits } from '../../../src/codecs/h264/nal';
import { x264Packets, x264Stream } from '../../helpers/h264-streams';
import { testScheduler } from '../../helpers/test-scheduler';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
// A Pi-like stream: SPS + PPS written on their own, then one write per picture.
const HEADERS = hex('00000001 6742c01e da 02 80 f6 8c 04 00000001 68ce3c80');
const IDR = hex('00000001 6588 8400 ff 12 34');
const P1 = hex('00000001 419a 0102 03');
const P2 = hex('00000001 419a 0405 06');
/** A picture in two slices, the second behind a 3-byte start code (first_mb_in_slice ≠ 0: top bit clear). */
const P3a = hex('00000001 419a 0708');
const P3b = hex('000001 4102 0a0b');
const P3 = Buffer.concat([P3a, hex('00000001 4102 0a0b')]);

const au = (data: Buffer, arrivedAt: number): AccessUnit => ({ data, arrivedAt });
const normal = (buf: Buffer): Buffer => annexB(nalUnits(buf));
/** As hex: jest's deep equality walks a Buffer element by element, far too slowly for property runs. */
const hexes = (bufs: readonly Buffer[]): string[] => bufs.map((b) => b.toString('hex'));

/** Cuts `buf` at the given offsets (any order; out-of-range ones are clamped). */
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

function assemble(chunks: readonly Buffer[]): Buffer[] {
  const a = new AccessUnitAssembler();
  return [...chunks.flatMap((c) => a.push(c)), ...a.flush()].map((u) => u.data);
}

describe('AccessUnitAssembler', () => {
  it('cuts at the next picture, keeps leading SPS/PPS with their picture, and returns views when it can', () => {
    const stream = Buffer.concat([HEADERS, IDR, P1, P2]);
    const a = new AccessUnitAssembler();
    const units = a.push(stream).map((u) => u.data);
    expect(units).toEqual([Buffer.concat([HEADERS, IDR]), P1]);
    expect(units[0]!.buffer).toBe(stream.buffer);
    expect(a.flush().map((u) => u.data)).toEqual([P2]);
  });

  it('keeps the slices of one picture together and writes 4-byte start codes', () => {
    expect(assemble([Buffer.concat([P1, P3a, P3b, P2])])).toEqual([P1, P3, P2]);
  });

  it('starts a new unit at an AUD, SEI or SPS after slice data', () => {
    const aud = hex('00000001 09f0');
    const sei = hex('00000001 0605 01ff 80');
    expect(assemble([Buffer.concat([P1, aud, P2, sei, P1, HEADERS, IDR])])).toEqual([
      P1,
      Buffer.concat([aud, P2]),
      Buffer.concat([sei, P1]),
      Buffer.concat([HEADERS, IDR]),
    ]);
  });

  it('drops bytes before the first start code and a trailing unit without slices', () => {
    expect(assemble([Buffer.concat([hex('ff ee 00'), P1, HEADERS])])).toEqual([P1]);
  });

  it('on idle, emits only what plausibly ends a picture', () => {
    const a = new AccessUnitAssembler({ fullChunkBytes: 64 });
    a.push(HEADERS);
    expect(a.idle()).toEqual([]); // parameter sets wait for their picture
    a.push(IDR.subarray(0, 8));
    expect(a.idle()).toEqual([]); // ends in 00
    a.push(IDR.subarray(8));
    expect(a.idle().map((u) => u.data)).toEqual([Buffer.concat([HEADERS, IDR])]);
    a.push(Buffer.concat([P1, hex('000001')]));
    expect(a.idle()).toEqual([]); // a start code whose NAL header has not arrived
    a.push(hex('41'));
    expect(a.idle()).toEqual([]); // its NAL header, but not the byte telling whether it starts a picture
    // The byte after the header says a new picture starts: that ends P1, by the NAL rules.
    expect(a.push(hex('9a 01')).map((u) => u.data)).toEqual([P1]);
    expect(a.idle().map((u) => u.data)).toEqual([hex('00000001 419a 01')]);
  });

  it('does not flush on idle after a chunk that filled the reader’s buffer', () => {
    const a = new AccessUnitAssembler({ fullChunkBytes: IDR.length });
    a.push(HEADERS);
    a.push(IDR);
    expect(a.idle()).toEqual([]);
    a.push(P1);
    expect(a.idle().map((u) => u.data)).toEqual([P1]);
  });

  it('any chunking of real x264 output gives ffmpeg’s own packets, as many as it encoded', async () => {
    const stream = await x264Stream({ frames: 30, gop: 10 });
    const packets = hexes((await x264Packets({ frames: 30, gop: 10 })).map(normal));
    expect(packets).toHaveLength(30);
    expect(hexes(assemble([stream]))).toEqual(packets);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 60 }), (offsets) => {
        expect(hexes(assemble(cut(stream, offsets)))).toEqual(packets);
      }),
      { numRuns: 200 },
    );
    // Byte by byte, the hardest chunking.
    expect(hexes(assemble([...stream].map((b) => Buffer.from([b]))))).toEqual(packets);
  });
});

describe('accessUnits', () => {
  it('emits each picture idleMs after its last byte, not when the next begins', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const src = hot('ab 20ms c 20ms |', { a: HEADERS, b: IDR, c: P1 });
      expectObservable(src.pipe(accessUnits({ idleMs: 4 }))).toBe('5ms x 20ms y 16ms |', {
        x: au(Buffer.concat([HEADERS, IDR]), 0),
        y: au(P1, 22),
      });
      expectSubscriptions(src.subscriptions).toBe('^ 42ms !');
    });
  });

  it('cuts by the NAL rules at once when the next picture comes before the idle time', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('abc 9ms d|', { a: HEADERS, b: IDR, c: P1, d: P2 });
      expectObservable(src.pipe(accessUnits({ idleMs: 4 }))).toBe('--x 3ms y 6ms (z|)', {
        x: au(Buffer.concat([HEADERS, IDR]), 0),
        y: au(P1, 2),
        z: au(P2, 12),
      });
    });
  });

  it('keeps a picture whose slices arrive within the idle time together', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a 2ms b 20ms -', { a: P3a, b: P3b });
      expectObservable(src.pipe(accessUnits({ idleMs: 4 }))).toBe('7ms x', { x: au(P3, 0) });
    });
  });

  it('passes never, empty and errors through (an error drops the open picture), and stops on unsubscribe', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Buffer>('-').pipe(accessUnits())).toBe('-');
      expectObservable(cold<Buffer>('|').pipe(accessUnits())).toBe('|');
      expectObservable(cold('a 2ms #', { a: P1 }).pipe(accessUnits({ idleMs: 4 }))).toBe('3ms #');
      const src = hot('a 20ms b', { a: P1, b: P2 });
      expectObservable(src.pipe(accessUnits({ idleMs: 4 })), '^ 2ms !').toBe('');
      expectSubscriptions(src.subscriptions).toBe('^ 2ms !');
    });
  });

  it('flushes the open picture on completion', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab|', { a: HEADERS, b: IDR }).pipe(accessUnits({ idleMs: 4 }))).toBe('--(x|)', {
        x: au(Buffer.concat([HEADERS, IDR]), 0),
      });
    });
  });

  it('with pauses between pictures, no unit waits for the next: any chunking of real x264 output', async () => {
    const packets = await x264Packets({ frames: 24, gop: 8 });
    // Written as a Pi does: the parameter sets (and SEI) on their own, then the picture's slices.
    const pieces = (k: number, cuts: readonly number[]): Buffer[] =>
      writes[k]!.flatMap((part) => cut(part, cuts)).filter((c) => c.length > 0);
    const writes = packets.map((p) => {
      const firstSlice = nalUnits(p).find((n) => isVcl(nalType(n)))!;
      const at = firstSlice.byteOffset - p.byteOffset - 4;
      return at > 0 ? [p.subarray(0, at), p.subarray(at)] : [p];
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 4000 }), { maxLength: 4 }), { minLength: 24, maxLength: 24 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 24, maxLength: 24 }),
        (cuts, gaps) => {
          const scheduler = testScheduler();
          const got: [number, AccessUnit][] = [];
          scheduler.run(() => {
            // Picture k's pieces start at 40·k ms, `gaps[k]` ms apart (less than the 4 ms idle time).
            // A live camera: the stream does not end (its end would flush the last picture at once).
            const chunks$: Observable<Buffer> = merge(
              NEVER,
              ...writes.map((_w, k) =>
                timer(40 * k).pipe(
                  concatMap(() => from(pieces(k, cuts[k]!).map((c, i) => [c, i] as const))),
                  concatMap(([c, i]) => (i === 0 || gaps[k] === 0 ? from([c]) : timer(gaps[k]!).pipe(concatMap(() => from([c]))))),
                ),
              ),
            );
            chunks$.pipe(accessUnits({ idleMs: 4 })).subscribe((u) => got.push([scheduler.now(), u]));
          });
          expect(hexes(got.map(([, u]) => u.data))).toEqual(hexes(packets.map(normal)));
          got.forEach(([emittedAt, u], k) => {
            const lastAt = 40 * k + gaps[k]! * (pieces(k, cuts[k]!).length - 1);
            expect(u.arrivedAt).toBe(40 * k);
            expect(emittedAt).toBe(lastAt + 4);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
