// Encoder latency: frame handed to the encoder (encodeMpeg1 / encodeH264, the server's own operators) → its picture
// (MPEG-1) or access unit (H.264) out of ffmpeg, with a sub-millisecond clock. Used by bench/run.ts (part 7).
// Run: npm run bench:encoder [-- --codec mpeg1|h264|both] [-- --width 640 --height 480 --fps 24 --bitrate 800]
//      [-- --seconds 20 --warmup 24]
// Without --width, both bench sizes: 640x480@24 and 1280x720@30, at the bench's bitrates (bench/streams.ts).
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { interval, map, take, type OperatorFunction } from 'rxjs';
import { encodeMpeg1 } from '../src/codecs/mpeg1/encode-mpeg1';
import { encodeH264 } from '../src/codecs/h264/encode-h264';
import { createEncoderCounters, type EncoderCounters } from '../src/codecs/codec';
import type { Frame } from '../src/frame';
import { TestPatternRenderer } from '../src/sources/test-pattern';
import { quantile } from './stats';
import { HD, SD, h264Spec } from './streams';

export type LatencyCodec = 'mpeg1' | 'h264';

export interface EncoderLatencyOptions {
  readonly codec: LatencyCodec;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bitrateKbps: number;
  readonly seconds: number;
  /** Pictures left out at the start (the encoder's start-up). */
  readonly warmup: number;
}

export interface EncoderLatency {
  codec: LatencyCodec;
  stream: string;
  bitrateKbps: number;
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  framesIn: number;
  framesDropped: number;
}

/** Bench defaults: the part-1 streams (MPEG-1 as in parts 1–4, H.264 at the part-1 H.264 bitrates). */
export const ENCODER_LATENCY_CASES: readonly Omit<EncoderLatencyOptions, 'seconds' | 'warmup'>[] = [
  { codec: 'mpeg1', ...SD },
  { codec: 'h264', ...h264Spec(SD) },
  { codec: 'mpeg1', ...HD },
  { codec: 'h264', ...h264Spec(HD) },
];

const now = (): number => performance.timeOrigin + performance.now();

/** Test-pattern frames at `fps` through the codec's encoder; latency = picture out − frame offered. */
export function measureEncoderLatency(o: EncoderLatencyOptions): Promise<EncoderLatency> {
  const { codec, width, height, fps } = o;
  const frames = Math.round(o.seconds * fps);
  const renderer = new TestPatternRenderer(width, height);
  const counters: EncoderCounters = createEncoderCounters();
  const settings = { width, height, fps, bitrate: o.bitrateKbps, counters };
  const encode: OperatorFunction<Frame, { seq: number; capturedAt: number }> =
    codec === 'h264' ? encodeH264(settings) : encodeMpeg1(settings);
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    interval(1000 / fps)
      .pipe(
        take(frames),
        // capturedAt is taken after rendering, right before the frame is offered: this measures the encoder alone.
        map((seq) => ({ ...renderer.render(seq, 0), capturedAt: now() })),
        encode,
      )
      .subscribe({
        next: (picture) => {
          if (picture.seq >= o.warmup) latencies.push(now() - picture.capturedAt);
        },
        complete: () =>
          resolve({
            codec,
            stream: `${width}x${height}@${fps}`,
            bitrateKbps: o.bitrateKbps,
            samples: latencies.length,
            p50: quantile(latencies, 0.5),
            p95: quantile(latencies, 0.95),
            p99: quantile(latencies, 0.99),
            max: quantile(latencies, 1),
            framesIn: counters.framesIn,
            framesDropped: counters.framesDropped,
          }),
        error: reject,
      });
  });
}

export const codecName = (codec: LatencyCodec): string => (codec === 'h264' ? 'H.264 (libx264)' : 'MPEG-1');

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      codec: { type: 'string', default: 'both' },
      width: { type: 'string' },
      height: { type: 'string', default: '480' },
      fps: { type: 'string', default: '24' },
      bitrate: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '24' },
    },
  });
  const codecs: LatencyCodec[] = values.codec === 'both' ? ['mpeg1', 'h264'] : [values.codec as LatencyCodec];
  if (!codecs.every((c) => c === 'mpeg1' || c === 'h264')) throw new Error('--codec takes mpeg1, h264 or both');
  const cases = values.width
    ? codecs.map((codec) => ({
        codec,
        width: Number(values.width),
        height: Number(values.height),
        fps: Number(values.fps),
        bitrateKbps: Number(values.bitrate ?? (codec === 'h264' ? 500 : 800)),
      }))
    : ENCODER_LATENCY_CASES.filter((c) => codecs.includes(c.codec));
  void (async () => {
    for (const c of cases) {
      const r = await measureEncoderLatency({ ...c, seconds: Number(values.seconds), warmup: Number(values.warmup) });
      console.log(
        `encoder latency ${codecName(r.codec)} ${r.stream} at ${r.bitrateKbps} kbit/s, ${r.samples} pictures after ${values.warmup} warm-up: ` +
          `p50 ${r.p50.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(2)} ms; ` +
          `frames in ${r.framesIn}, dropped ${r.framesDropped}`,
      );
    }
  })().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
