import { defer, filter, map, type OperatorFunction } from 'rxjs';
import { PCM, samplesToMs, type PcmChunk } from './pcm';

export interface StampOptions {
  /** The capture clock (the hub scheduler's `now`: ms since the epoch). */
  readonly now: () => number;
  /** How long an early arrival keeps counting as the best estimate of the stream's start. Default 2000 ms. */
  readonly windowMs?: number;
}

/**
 * Stamps raw PCM bytes from a pipe (a capture program's stdout) with capture times. Samples are counted (the sound
 * card's clock is steadier than arrival times); the count is placed on the capture clock by the earliest start
 * that any recent chunk allows: a chunk that ends at sample S and arrives at time a was captured by a − S/rate at
 * the latest, and the chunk that came through the pipe fastest gives the tightest bound. The bound is the minimum
 * over the last `windowMs`, so it follows a sound card whose clock drifts from the system's and a run of lost
 * samples (after `windowMs`). Stamps never go backwards. Odd bytes wait for their pair.
 *
 * @example
 * fromChildProcess(ffmpeg, alsaArgs).pipe(stampPcm({ now: () => scheduler.now() }));
 */
export function stampPcm(options: StampOptions): OperatorFunction<Buffer, PcmChunk> {
  const windowMs = options.windowMs ?? 2000;
  const frameBytes = PCM.bytesPerSample * PCM.channels;
  return (source) =>
    defer(() => {
      let carry = Buffer.alloc(0);
      let samples = 0;
      let lastEnd = -Infinity;
      const bounds = new MonotonicMin(windowMs);
      return source.pipe(
        map((bytes) => {
          const all = carry.length ? Buffer.concat([carry, bytes]) : bytes;
          const whole = all.length - (all.length % frameBytes);
          carry = Buffer.from(all.subarray(whole));
          const data = all.subarray(0, whole);
          const count = whole / frameBytes;
          const arrived = options.now();
          const start = bounds.push(arrived, arrived - samplesToMs(samples + count));
          const capturedAt = Math.max(start + samplesToMs(samples), lastEnd);
          samples += count;
          lastEnd = capturedAt + samplesToMs(count);
          return { data, capturedAt };
        }),
        filter((chunk) => chunk.data.length > 0),
      );
    });
}

/** The minimum of the values pushed in the last `windowMs` (a monotonic queue: O(1) amortised per push). */
class MonotonicMin {
  private readonly entries: { at: number; value: number }[] = [];

  constructor(private readonly windowMs: number) {}

  /** Adds `value` seen at `at` and returns the window's minimum. */
  push(at: number, value: number): number {
    while (this.entries.length > 0 && this.entries.at(-1)!.value >= value) this.entries.pop();
    this.entries.push({ at, value });
    while (this.entries[0]!.at < at - this.windowMs) this.entries.shift();
    return this.entries[0]!.value;
  }
}
