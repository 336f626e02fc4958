import { asyncScheduler, defer, filter, interval, map, type Observable, type SchedulerLike } from 'rxjs';
import { PCM, samplesToMs, type PcmChunk } from './pcm';

/** The test tone's beep: 1 kHz for the first `beepMs` of every whole second of the capture clock. */
export const TEST_TONE = { frequency: 1000, beepMs: 100, amplitude: 0.5 } as const;

export interface TestToneOptions {
  /** Its clock and pacing (the video test pattern's, so both show one clock). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** How often a chunk is made. Default 5 ms (240 samples): a frame can leave the encoder a few ms after its last sample, not up to 20. */
  readonly chunkMs?: number;
}

/** The longest stretch one chunk makes up after a stalled event loop: sound older than this is skipped, not queued. */
const MAX_CATCH_UP_MS = 500;

/** Sample value (s16) at capture time `t` ms: the beep during the first `beepMs` of each second, else silence. */
export function testToneSample(t: number): number {
  const intoSecond = ((t % 1000) + 1000) % 1000;
  if (intoSecond >= TEST_TONE.beepMs) return 0;
  // 1 kHz: one period per ms, phase locked to the whole second.
  const phase = (intoSecond * TEST_TONE.frequency) / 1000;
  return Math.round(Math.sin(2 * Math.PI * phase) * TEST_TONE.amplitude * 32767);
}

/**
 * The stand-in for a microphone (`--audio test`), in TypeScript like the video test pattern: every `chunkMs` it
 * makes the samples up to now, each sample's value a function of its own capture time ({@link testToneSample}), so
 * the beep starts exactly on each whole second of the clock the barcode shows and the A/V offset of any player can
 * be read against it. Sample n is captured at `start + n / 48 kHz`; a late tick makes a longer chunk (a stall over
 * 500 ms is skipped). Cold: each subscription starts its own clock.
 *
 * @example
 * testTone().subscribe((chunk) => encoder.write(chunk.data));
 */
export function testTone(options: TestToneOptions = {}): Observable<PcmChunk> {
  const { scheduler = asyncScheduler, chunkMs = 5 } = options;
  return defer(() => {
    const start = scheduler.now();
    let made = 0; // samples made so far
    return interval(chunkMs, scheduler).pipe(
      map(() => {
        const due = Math.floor(((scheduler.now() - start) * PCM.sampleRate) / 1000);
        const { from, count } = nextSpan(made, due, (chunkMs * PCM.sampleRate) / 1000);
        made = from + count;
        return toneChunk(start + samplesToMs(from), count);
      }),
      filter((chunk) => chunk.data.length > 0),
    );
  });
}

/**
 * Which samples the next chunk holds, given `made` so far and `due` by the clock: the rest, or after a stall of
 * more than {@link MAX_CATCH_UP_MS} only the last `chunk` samples (the stretch between is skipped, not queued).
 */
export function nextSpan(made: number, due: number, chunk: number): { from: number; count: number } {
  const from = due - made > (MAX_CATCH_UP_MS * PCM.sampleRate) / 1000 ? due - chunk : made;
  return { from, count: Math.max(0, due - from) };
}

/** `count` samples of the test tone from capture time `capturedAt`. */
export function toneChunk(capturedAt: number, count: number): PcmChunk {
  const data = Buffer.alloc(count * PCM.bytesPerSample);
  for (let i = 0; i < count; i++) data.writeInt16LE(testToneSample(capturedAt + samplesToMs(i)), i * PCM.bytesPerSample);
  return { data, capturedAt };
}
