import { TestScheduler } from 'rxjs/testing';
import { PCM } from '../../src/audio/pcm';
import { stampPcm } from '../../src/audio/stamp-pcm';

const samples = (n: number) => Buffer.alloc(n * PCM.bytesPerSample);
/** 20 ms of 48 kHz mono s16le. */
const CHUNK = samples(960);

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('stampPcm', () => {
  it('stamps by sample count from the earliest start any chunk allows', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      // Chunks of 20 ms arrive 20, 45 (late: a busy pipe), 60 and 80 ms after the start.
      const source = cold('20ms a 24ms b 14ms c 19ms d|', { a: CHUNK, b: CHUNK, c: CHUNK, d: CHUNK });
      const stamped = source.pipe(stampPcm({ now: () => ts.now() }));
      expectObservable(stamped).toBe('20ms a 24ms b 14ms c 19ms d|', {
        a: { data: CHUNK, capturedAt: 0 },
        b: { data: CHUNK, capturedAt: 20 }, // by count, not by its late arrival
        c: { data: CHUNK, capturedAt: 40 },
        d: { data: CHUNK, capturedAt: 60 },
      });
      expectSubscriptions(source.subscriptions).toBe('^ 80ms !');
    });
  });

  it('moves the start earlier when a chunk proves it was (the first one came late), never stamping backwards', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      // The first chunk arrives 30 ms after its end (the capture's start-up); the next ones are prompt.
      const source = cold('50ms a 19ms b 19ms c|', { a: CHUNK, b: CHUNK, c: CHUNK });
      expectObservable(source.pipe(stampPcm({ now: () => ts.now() }))).toBe('50ms a 19ms b 19ms c|', {
        a: { data: CHUNK, capturedAt: 30 },
        b: { data: CHUNK, capturedAt: 50 }, // 30 + 20 by count; 70 − 40 = 30 allows no earlier start
        c: { data: CHUNK, capturedAt: 70 }, // 90 − 60 = 30
      });
    });
  });

  it('keeps an odd byte for the next chunk, and drops chunks with no whole sample', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('abc|', { a: Buffer.from([1, 2, 3]), b: Buffer.alloc(0), c: Buffer.from([4, 5, 6]) });
      expectObservable(source.pipe(stampPcm({ now: () => ts.now() }))).toBe('a-c|', {
        a: { data: Buffer.from([1, 2]), capturedAt: -1 / 48 },
        c: { data: Buffer.from([3, 4, 5, 6]), capturedAt: 0 },
      });
    });
  });

  it('follows a lost stretch after the window: the start moves on once no recent chunk allows the old one', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      // 20 ms at 20, then 1 s lost (nothing arrives), then 20 ms chunks from 1040: by count they would be 20, 40 …
      const source = cold('20ms a 1019ms b 19ms c 1999ms d|', { a: CHUNK, b: CHUNK, c: CHUNK, d: CHUNK });
      const out = source.pipe(stampPcm({ now: () => ts.now(), windowMs: 500 }));
      expectObservable(out).toBe('20ms a 1019ms b 19ms c 1999ms d|', {
        a: { data: CHUNK, capturedAt: 0 },
        b: { data: CHUNK, capturedAt: 1020 }, // the window has forgotten the start at 0: 1040 − 40 = 1000, + 20 by count
        c: { data: CHUNK, capturedAt: 1040 },
        d: { data: CHUNK, capturedAt: 3040 }, // 2 s later still: 3060 − 80 = 2980 is the only bound in the window → 2980 + 60
      });
    });
  });

  it('passes errors and early unsubscription through', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('20ms a #', { a: CHUNK });
      expectObservable(failing.pipe(stampPcm({ now: () => ts.now() }))).toBe('20ms a #', { a: { data: CHUNK, capturedAt: 0 } });
      const never = cold<Buffer>('-');
      expectObservable(never.pipe(stampPcm({ now: () => ts.now() })), '^ 9ms !').toBe('-');
      expectSubscriptions(never.subscriptions).toBe('^ 9ms !');
      expectObservable(cold<Buffer>('|').pipe(stampPcm({ now: () => ts.now() }))).toBe('|');
    });
  });
});
