import { switchMap, timer, type Observable } from 'rxjs';
import { ChunkBuffer, cutChunks, type ChunkCutter } from '../../src/operators/chunk-buffer';
import { testScheduler } from '../helpers/test-scheduler';

/**
 * A toy cutter: units are lines (a newline ends one), cut from a {@link ChunkBuffer}; the end of the stream (and,
 * with `quietFrames`, a silence that long) ends the last line.
 */
function lines(quietFrames?: number): () => ChunkCutter<Buffer, string> {
  return () => {
    const bytes = new ChunkBuffer();
    let from = 0;
    const rest = (): string[] => {
      const line = bytes.end > from ? [bytes.slice(from, bytes.end).toString()] : [];
      bytes.clear();
      from = bytes.end;
      return line;
    };
    return {
      push: (chunk) => {
        bytes.append(chunk);
        const out: string[] = [];
        for (let at = bytes.end - chunk.length; at < bytes.end; at++) {
          if (bytes.byteAt(at) !== 0x0a) continue;
          out.push(bytes.slice(from, at).toString());
          from = at + 1;
        }
        bytes.trim(from);
        return out;
      },
      flush: rest,
      ...(quietFrames === undefined
        ? {}
        : { quiet: (chunks$: Observable<Buffer>) => chunks$.pipe(switchMap(() => timer(quietFrames))), idle: rest }),
    };
  };
}

// Marble letters are chunks; the expected letters are the lines they make.
const chunks = { a: Buffer.from('one\ntw'), b: Buffer.from('o\nthr'), c: Buffer.from('ee'), d: Buffer.from('\n') };
const units = { w: 'one', x: 'two', y: 'three', z: 'thr' };

describe('cutChunks', () => {
  it('never: emits nothing and stays subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('-', chunks);
      expectObservable(source.pipe(cutChunks(lines()))).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('empty: completes at once, with nothing to flush', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('|', chunks);
      expectObservable(source.pipe(cutChunks(lines()))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('values: each unit as soon as the chunk that ends it arrives, across chunks; the rest on completion', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('-a-b-c-|', chunks);
      expectObservable(source.pipe(cutChunks(lines()))).toBe('-w-x---(y|)', units);
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('values: a chunk that ends a unit spanning three chunks', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('-b-c-d-|', chunks);
      expectObservable(source.pipe(cutChunks(lines()))).toBe('-a---b-|', { a: 'o', b: 'three' });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('error: passed on, the unfinished unit discarded', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('-a-b-#', chunks, new Error('pipe broke'));
      expectObservable(source.pipe(cutChunks(lines()))).toBe('-w-x-#', units, new Error('pipe broke'));
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('never-ending: units keep coming, nothing is flushed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('-a-b-c-', chunks);
      expectObservable(source.pipe(cutChunks(lines()))).toBe('-w-x---', units);
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('early unsubscribe: the source is released, and nothing is flushed after', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('-a-b-c-|', chunks);
      expectObservable(source.pipe(cutChunks(lines())), '^--!').toBe('-w-', units);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('a cutter per subscription: two subscribers cut independently', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<Buffer>('-a-b-|', chunks);
      const cut = source.pipe(cutChunks(lines()));
      expectObservable(cut).toBe('-w-x-(z|)', units);
      expectObservable(cut).toBe('-w-x-(z|)', units);
    });
  });

  describe('with a silence rule (quiet, idle)', () => {
    it('a silence ends the open unit; each chunk re-arms it', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Buffer>('-a-b-c---------|', chunks);
        // 'three' is whole 3 frames after 'ee' came, not when the stream ends.
        expectObservable(source.pipe(cutChunks(lines(3)))).toBe('-w-x----y------|', units);
        expectSubscriptions(source.subscriptions).toBe('^--------------!');
      });
    });

    it('never: no silence without a first chunk', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Buffer>('-', chunks);
        expectObservable(source.pipe(cutChunks(lines(3)))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('empty: completes at once, no timer left behind', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Buffer>('|', chunks);
        expectObservable(source.pipe(cutChunks(lines(3)))).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('completion stops the silence timer (the end flushes instead)', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Buffer>('-a-b|', chunks);
        expectObservable(source.pipe(cutChunks(lines(3)))).toBe('-w-x(z|)', units);
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
    });

    it('error: passed on, the timer dropped', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Buffer>('-a-#', chunks, new Error('gone'));
        expectObservable(source.pipe(cutChunks(lines(3)))).toBe('-w-#', units, new Error('gone'));
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('early unsubscribe: the source and the timer are released', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<Buffer>('-a-b-c---------|', chunks);
        expectObservable(source.pipe(cutChunks(lines(3))), '^------!').toBe('-w-x----', units);
        expectSubscriptions(source.subscriptions).toBe('^------!');
      });
    });
  });
});

describe('ChunkBuffer', () => {
  const filled = (): ChunkBuffer<number> => {
    const bytes = new ChunkBuffer<number>();
    bytes.append(Buffer.from([1, 2, 3]), 10);
    bytes.append(Buffer.alloc(0), 15); // ignored
    bytes.append(Buffer.from([4, 5]), 20);
    return bytes;
  };

  it('addresses bytes by absolute offset, across chunks', () => {
    const bytes = filled();
    expect([bytes.start, bytes.end, bytes.chunks]).toEqual([0, 5, 2]);
    expect([0, 1, 2, 3, 4].map((at) => bytes.byteAt(at))).toEqual([1, 2, 3, 4, 5]);
    expect([0, 2, 3, 4, 9].map((at) => bytes.tagAt(at))).toEqual([10, 10, 20, 20, 20]);
  });

  it('slices a view of one chunk, and copies only what spans chunks', () => {
    const first = Buffer.from([1, 2, 3]);
    const bytes = new ChunkBuffer();
    bytes.append(first);
    bytes.append(Buffer.from([4, 5]));
    const view = bytes.slice(1, 3);
    expect([...view]).toEqual([2, 3]);
    first[1] = 9;
    expect([...view]).toEqual([9, 3]); // the same memory: no copy
    const spanning = bytes.slice(2, 5);
    expect([...spanning]).toEqual([3, 4, 5]);
    first[2] = 8;
    expect([...spanning]).toEqual([3, 4, 5]); // a copy
  });

  it('trims whole chunks only, and keeps counting offsets', () => {
    const bytes = filled();
    bytes.trim(2); // inside the first chunk: it stays
    expect([bytes.start, bytes.chunks]).toEqual([0, 2]);
    bytes.trim(3);
    expect([bytes.start, bytes.chunks, bytes.byteAt(3), bytes.tagAt(3)]).toEqual([3, 1, 4, 20]);
    expect(() => bytes.byteAt(2)).toThrow(RangeError);
    bytes.append(Buffer.from([6]), 30);
    expect([bytes.end, bytes.byteAt(5), [...bytes.slice(3, 6)]]).toEqual([6, 6, [4, 5, 6]]);
  });

  it('clear forgets everything held; offsets go on from the end', () => {
    const bytes = filled();
    bytes.clear();
    expect([bytes.start, bytes.end, bytes.chunks, bytes.tagAt(5)]).toEqual([5, 5, 0, undefined]);
    expect(() => bytes.byteAt(4)).toThrow(RangeError);
    bytes.append(Buffer.from([7]), 40);
    expect([bytes.byteAt(5), bytes.tagAt(5)]).toEqual([7, 40]);
  });
});
