// Encoder latency: frame handed to encodeMpeg1 → its picture out of ffmpeg, with a sub-millisecond clock.
// Run: npm run bench:encoder [-- --width 640 --height 480 --fps 24 --seconds 20]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { interval, map, take } from 'rxjs';
import { encodeMpeg1 } from '../src/codecs/mpeg1/encode-mpeg1';
import { createEncoderCounters } from '../src/codecs/codec';
import { TestPatternRenderer } from '../src/sources/test-pattern';

const { values } = parseArgs({
  options: { width: { type: 'string', default: '640' }, height: { type: 'string', default: '480' }, fps: { type: 'string', default: '24' }, seconds: { type: 'string', default: '20' }, warmup: { type: 'string', default: '24' } },
});
const width = Number(values.width), height = Number(values.height), fps = Number(values.fps);
const frames = Math.round(Number(values.seconds) * fps);
const warmup = Number(values.warmup);
const now = (): number => performance.timeOrigin + performance.now();
const renderer = new TestPatternRenderer(width, height);
const counters = createEncoderCounters();
const latencies: number[] = [];

interval(1000 / fps)
  .pipe(
    take(frames),
    // capturedAt is taken after rendering, right before the frame is offered: this measures the encoder alone.
    map((seq) => ({ ...renderer.render(seq, 0), capturedAt: now() })),
    encodeMpeg1({ width, height, fps, counters }),
  )
  .subscribe({
    next: (picture) => {
      if (picture.seq >= warmup) latencies.push(now() - picture.capturedAt);
    },
    complete: () => {
      const sorted = [...latencies].sort((a, b) => a - b);
      const q = (p: number): string => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(2);
      console.log(
        `encoder latency ${width}x${height}@${fps}, ${sorted.length} pictures after ${warmup} warm-up: ` +
          `p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms; ` +
          `frames in ${counters.framesIn}, dropped ${counters.framesDropped}`,
      );
    },
    error: (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  });
