import { TestScheduler } from 'rxjs/testing';
import { nextSpan, TEST_TONE, testTone, testToneSample, toneChunk } from '../../src/audio/test-tone';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const values = (data: Buffer) => Array.from({ length: data.length / 2 }, (_, i) => data.readInt16LE(i * 2));

describe('the test tone', () => {
  it('beeps 1 kHz for the first 100 ms of every whole second of the capture clock, silent otherwise', () => {
    for (const second of [0, 1_796_647_221_000]) {
      expect(testToneSample(second)).toBe(0); // sin(0): the beep starts at zero phase on the second
      expect(testToneSample(second + 0.25)).toBe(Math.round(TEST_TONE.amplitude * 32767)); // a quarter period in: the peak
      expect(Math.abs(testToneSample(second + 99.75))).toBeGreaterThan(16_000);
      expect(testToneSample(second + 100.25)).toBe(0);
      expect(testToneSample(second - 0.25)).toBe(0);
    }
  });

  it('a chunk holds the samples from its capture time on, 48 per ms', () => {
    const chunk = toneChunk(999, 96); // 999 ms to 1001 ms: one silent ms, then the beep's first ms
    const samples = values(chunk.data);
    expect(chunk.capturedAt).toBe(999);
    expect(samples.slice(0, 48).every((v) => v === 0)).toBe(true);
    expect(samples.slice(48).some((v) => v !== 0)).toBe(true);
    expect(samples[48]).toBe(0);
  });

  it('makes every chunkMs the samples up to now, stamped at the first one, with no gap or overlap', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const chunks = testTone({ scheduler: ts, chunkMs: 20 });
      const frame = (at: number) => ({ data: toneChunk(at - 20, 960).data, capturedAt: at - 20 });
      expectObservable(chunks, '^ 70ms !').toBe('20ms a 19ms b 19ms c', { a: frame(20), b: frame(40), c: frame(60) });
    });
  });

  it('skips a stall over half a second instead of making it up, keeping the stamps true', () => {
    expect(nextSpan(960, 1920, 960)).toEqual({ from: 960, count: 960 });
    expect(nextSpan(960, 960 + 24_000, 960)).toEqual({ from: 960, count: 24_000 }); // 500 ms late: made up
    expect(nextSpan(960, 96_960, 960)).toEqual({ from: 96_000, count: 960 }); // 2 s late: only the last chunk
    expect(nextSpan(960, 900, 960)).toEqual({ from: 960, count: 0 });
  });
});
