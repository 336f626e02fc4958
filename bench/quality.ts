// Quality per bit: SSIM and PSNR of the decoded stream against its source frames, for MPEG-1 and H.264 encoded with
// exactly the server's encoder arguments (encoderArgs / h264EncoderArgs), only the pipe ends replaced by files.
// Sources: our test pattern (TestPatternRenderer, rendered offline with a fixed clock) and a busier one that ffmpeg
// generates (testsrc2 by default, or mandelbrot), each written to raw I420 first so every encoder gets the same input.
// Also: the lowest H.264 bitrate whose SSIM reaches MPEG-1's at 800 kbit/s. Used by bench/run.ts (part 6).
// Run: npm run bench:quality [-- --seconds 10] [-- --busy mandelbrot] [-- --sizes 640x480] [-- --no-refine]
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { h264EncoderArgs } from '../src/codecs/h264/encoder-args';
import { h264Settings } from '../src/codecs/h264/h264-settings';
import { encoderArgs } from '../src/codecs/mpeg1/encoder-args';
import { mpeg1Settings } from '../src/codecs/mpeg1/mpeg1-settings';
import { checkEncoderSettings } from '../src/codecs/encoder-settings';
import type { EncoderSettings } from '../src/codecs/codec';
import { probeFfmpeg, resolveFfmpeg } from '../src/process/ffmpeg-path';
import { TestPatternRenderer } from '../src/sources/test-pattern';
import { spawnTracked, stderrTail } from './children';
import { cell, printTable } from './stats';

export type QualityCodec = 'mpeg1' | 'h264';

export interface QualitySize {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

export interface QualityOptions {
  /** Seconds of video per case (frames = seconds × fps). */
  readonly seconds: number;
  /** 'pattern' (ours) and an ffmpeg lavfi source name ('testsrc2', 'mandelbrot'). */
  readonly sources: readonly string[];
  readonly sizes: readonly QualitySize[];
  /** MPEG-1's bitrate, the reference (kbit/s). */
  readonly mpeg1Kbps: number;
  /** H.264's measured bitrates (kbit/s). */
  readonly h264Kbps: readonly number[];
  /** Encode at the interpolated equal-quality bitrate to verify it (and step up until it holds). */
  readonly refine: boolean;
  /** Progress lines (default: console.log). */
  readonly log?: (line: string) => void;
}

export interface QualityCase {
  source: string;
  size: string;
  codec: QualityCodec;
  /** The bitrate asked for (--bitrate), kbit/s. */
  targetKbps: number;
  /** What the encoder produced: the elementary stream's bytes × 8 over the video's duration. */
  actualKbps: number;
  frames: number;
  /** Mean over frames of ffmpeg's ssim "All" (Y, U, V weighted 4:1:1), and of Y alone; the worst frame's All. */
  ssim: number;
  ssimY: number;
  ssimMin: number;
  /** dB, from the mean MSE over frames (as ffmpeg's psnr summary "average"); the worst frame's. */
  psnr: number;
  psnrMin: number;
  /** Encoding speed: video seconds per wall second (the whole file through ffmpeg, not real-time paced). */
  speed: number;
  /** Not part of the main grid: an extra point of the equal-quality search. */
  extra?: boolean;
}

export interface EqualQuality {
  source: string;
  size: string;
  /** MPEG-1's SSIM at its bitrate, the level to reach. */
  mpeg1Ssim: number;
  mpeg1Kbps: number;
  /** What MPEG-1 actually produced at mpeg1Kbps (its rate control can overshoot far, e.g. at 1280x720). */
  mpeg1ActualKbps: number;
  /** h264ActualKbps ÷ mpeg1ActualKbps: the goal read on bits actually spent. */
  actualRatio: number;
  /** Lowest H.264 target bitrate (kbit/s) found with SSIM ≥ mpeg1Ssim; NaN when none up to the search's ceiling. */
  h264Kbps: number;
  /** Its actual bitrate and SSIM. */
  h264ActualKbps: number;
  h264Ssim: number;
  /** The interpolated estimate before verification (log-bitrate linear between the bracketing points). */
  interpolatedKbps: number;
  method: string;
  /** h264Kbps ≤ mpeg1Kbps / 3. */
  atMostThird: boolean;
}

export interface QualityResults {
  ffmpeg: string;
  seconds: number;
  sources: readonly string[];
  cases: QualityCase[];
  equalQuality: EqualQuality[];
}

const sizeLabel = (s: QualitySize): string => `${s.width}x${s.height}@${s.fps}`;

/** Runs ffmpeg to the end; rejects with its stderr on a non-zero exit. Resolves with stderr. */
function ffmpeg(path: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(path, args);
    child.stdout?.resume();
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(err);
      else reject(new Error(`ffmpeg ${args.join(' ')} exited ${code ?? signal}: ${stderrTail(child) || err}`));
    });
  });
}

/** Our test pattern, `frames` frames with a fixed clock (so every run writes the same bytes), as raw I420. */
function writePattern(file: string, size: QualitySize, frames: number): void {
  const renderer = new TestPatternRenderer(size.width, size.height);
  const epoch = Date.UTC(2026, 0, 1, 12, 0, 0);
  const fd = openSync(file, 'w');
  try {
    for (let seq = 0; seq < frames; seq++) writeSync(fd, renderer.render(seq, epoch + Math.round((seq * 1000) / size.fps)).data);
  } finally {
    closeSync(fd);
  }
}

/**
 * The server's encoder arguments for `codec`, reading `input` (raw I420 at the settings' size and rate) instead of
 * stdin and writing the bare elementary stream to `output` instead of mpjpeg on stdout. Every other flag as is.
 */
export function fileEncoderArgs(codec: QualityCodec, settings: EncoderSettings, fpsMode: boolean, input: string, output: string): string[] {
  const args =
    codec === 'h264'
      ? h264EncoderArgs(checkEncoderSettings(h264Settings, settings), fpsMode)
      : encoderArgs(checkEncoderSettings(mpeg1Settings, settings), fpsMode);
  const inAt = args.indexOf('pipe:0');
  const tail = args.slice(-3);
  if (inAt < 1 || args[inAt - 1] !== '-i' || tail.join(' ') !== '-f mpjpeg pipe:1') {
    throw new Error(`the ${codec} encoder's arguments no longer read pipe:0 and end in "-f mpjpeg pipe:1": ${args.join(' ')}`);
  }
  const out = [...args.slice(0, -3), '-f', codec === 'h264' ? 'h264' : 'mpeg1video', '-y', output];
  out[inAt] = input;
  return out;
}

/** Per-frame lines of ffmpeg's ssim / psnr stats files, as key → number (inf for identical frames). */
function statsLines(file: string): Record<string, number>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const out: Record<string, number> = {};
      for (const m of line.matchAll(/(\w+):(\S+)/g)) out[m[1]!] = m[2] === 'inf' ? Infinity : Number(m[2]);
      return out;
    });
}

/** Decodes `encoded` and compares it frame by frame (by index, not timestamp) with the raw source. */
async function compare(
  bin: string,
  encoded: string,
  source: string,
  size: QualitySize,
  work: string,
): Promise<Pick<QualityCase, 'frames' | 'ssim' | 'ssimY' | 'ssimMin' | 'psnr' | 'psnrMin'>> {
  const ssimLog = join(work, 'ssim.log');
  const psnrLog = join(work, 'psnr.log');
  // Both inputs numbered 0, 1, 2, … in the same time base, so the filters pair the n-th decoded picture with the
  // n-th source frame (an elementary stream carries no timestamps of its own).
  const number = `settb=1/${size.fps},setpts=N`;
  await ffmpeg(bin, [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    '-i',
    encoded,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    '-video_size',
    `${size.width}x${size.height}`,
    '-framerate',
    String(size.fps),
    '-i',
    source,
    '-filter_complex',
    `[0:v]${number},format=yuv420p,split[d1][d2];[1:v]${number},split[r1][r2];` +
      `[d1][r1]ssim=stats_file=${ssimLog}[s];[d2][r2]psnr=stats_file=${psnrLog}[p]`,
    '-map',
    '[s]',
    '-map',
    '[p]',
    '-f',
    'null',
    '-',
  ]);
  const ssim = statsLines(ssimLog);
  const psnr = statsLines(psnrLog);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const mse = mean(psnr.map((l) => l.mse_avg!));
  return {
    frames: ssim.length,
    ssim: mean(ssim.map((l) => l.All!)),
    ssimY: mean(ssim.map((l) => l.Y!)),
    ssimMin: Math.min(...ssim.map((l) => l.All!)),
    psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse),
    psnrMin: Math.min(...psnr.map((l) => l.psnr_avg!)),
  };
}

/** The lowest H.264 bitrate reaching `level`, interpolated in log(bitrate) between the bracketing measured points. */
function interpolate(points: readonly QualityCase[], level: number): number {
  const sorted = [...points].sort((a, b) => a.targetKbps - b.targetKbps);
  const firstOk = sorted.findIndex((p) => p.ssim >= level);
  if (firstOk <= 0) return firstOk === 0 ? sorted[0]!.targetKbps : NaN;
  const a = sorted[firstOk - 1]!,
    b = sorted[firstOk]!;
  const t = (level - a.ssim) / (b.ssim - a.ssim);
  return Math.exp(Math.log(a.targetKbps) + t * (Math.log(b.targetKbps) - Math.log(a.targetKbps)));
}

export async function runQuality(o: QualityOptions): Promise<QualityResults> {
  const log = o.log ?? ((line: string) => console.log(line));
  const bin = resolveFfmpeg().path;
  const caps = await probeFfmpeg(bin);
  const work = mkdtempSync(join(tmpdir(), 'pistream-quality-'));
  const cases: QualityCase[] = [];
  const equalQuality: EqualQuality[] = [];
  try {
    for (const size of o.sizes) {
      const frames = Math.round(o.seconds * size.fps);
      for (const source of o.sources) {
        const raw = join(work, `${source}.yuv`);
        const t0 = Date.now();
        if (source === 'pattern') writePattern(raw, size, frames);
        else {
          await ffmpeg(bin, [
            '-hide_banner',
            '-nostats',
            '-loglevel',
            'error',
            '-f',
            'lavfi',
            '-i',
            `${source}=size=${size.width}x${size.height}:rate=${size.fps}`,
            '-frames:v',
            String(frames),
            '-pix_fmt',
            'yuv420p',
            '-f',
            'rawvideo',
            '-y',
            raw,
          ]);
        }
        log(`   quality: ${source} ${sizeLabel(size)}, ${frames} frames generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const measure = async (codec: QualityCodec, kbps: number, extra = false): Promise<QualityCase> => {
          const encoded = join(work, `out.${codec === 'h264' ? 'h264' : 'm1v'}`);
          const settings: EncoderSettings = { width: size.width, height: size.height, fps: size.fps, bitrate: kbps };
          const start = process.hrtime.bigint();
          await ffmpeg(bin, fileEncoderArgs(codec, settings, caps.fpsMode, raw, encoded));
          const wall = Number(process.hrtime.bigint() - start) / 1e9;
          const bytes = statSync(encoded).size;
          const q = await compare(bin, encoded, raw, size, work);
          if (q.frames !== frames) log(`   quality: ${codec} ${kbps} decoded ${q.frames} pictures of ${frames}`);
          const c: QualityCase = {
            source,
            size: sizeLabel(size),
            codec,
            targetKbps: kbps,
            actualKbps: (bytes * 8) / 1000 / (frames / size.fps),
            ...q,
            speed: frames / size.fps / wall,
            ...(extra ? { extra } : {}),
          };
          cases.push(c);
          log(
            `   quality: ${source} ${sizeLabel(size)} ${codec} @${kbps}: ${Math.round(c.actualKbps)} kb/s, SSIM ${c.ssim.toFixed(4)}, PSNR ${c.psnr.toFixed(2)} dB`,
          );
          return c;
        };
        const ref = await measure('mpeg1', o.mpeg1Kbps);
        const points: QualityCase[] = [];
        for (const kbps of o.h264Kbps) points.push(await measure('h264', kbps));

        // Extend the measured range until it brackets MPEG-1's SSIM: halve below the lowest (down to 50 kbit/s),
        // double above the highest (up to 4× MPEG-1's bitrate).
        const lowest = (): QualityCase => points.reduce((a, b) => (a.targetKbps < b.targetKbps ? a : b));
        const highest = (): QualityCase => points.reduce((a, b) => (a.targetKbps > b.targetKbps ? a : b));
        while (lowest().ssim >= ref.ssim && lowest().targetKbps / 2 >= 50)
          points.push(await measure('h264', Math.round(lowest().targetKbps / 2), true));
        while (highest().ssim < ref.ssim && highest().targetKbps * 2 <= 4 * o.mpeg1Kbps)
          points.push(await measure('h264', highest().targetKbps * 2, true));
        const estimate = interpolate(points, ref.ssim);
        let method = 'log-bitrate interpolation between the bracketing points';
        let found: QualityCase | undefined;
        if (Number.isFinite(estimate)) {
          const exact = points.find((p) => p.targetKbps === Math.ceil(estimate / 10) * 10);
          found = exact;
          if (o.refine) {
            // Verify: encode at the estimate (rounded up to 10 kbit/s); if it falls short, step up 10% (3 times at most).
            let kbps = Math.ceil(estimate / 10) * 10;
            for (let step = 0; step < 4; step++) {
              const p = points.find((q) => q.targetKbps === kbps) ?? (await measure('h264', kbps, true));
              if (!points.includes(p)) points.push(p);
              if (p.ssim >= ref.ssim) {
                found = p;
                break;
              }
              kbps = Math.ceil((kbps * 1.1) / 10) * 10;
            }
            method += found ? `, verified at ${found.targetKbps}` : ', verification fell short (see extra points)';
          }
          // An estimate at the lowest point means even that passed: the true figure is at or below it.
          if (estimate === lowest().targetKbps) method = `the lowest point measured (${estimate}) already reaches it`;
        }
        const chosen = found ?? (Number.isFinite(estimate) ? { targetKbps: estimate, actualKbps: NaN, ssim: NaN } : undefined);
        const kbps = chosen?.targetKbps ?? NaN;
        equalQuality.push({
          source,
          size: sizeLabel(size),
          mpeg1Ssim: ref.ssim,
          mpeg1Kbps: o.mpeg1Kbps,
          mpeg1ActualKbps: ref.actualKbps,
          actualRatio: (chosen?.actualKbps ?? NaN) / ref.actualKbps,
          h264Kbps: kbps,
          h264ActualKbps: chosen?.actualKbps ?? NaN,
          h264Ssim: chosen?.ssim ?? NaN,
          interpolatedKbps: estimate,
          method: Number.isFinite(estimate) ? method : `not reached up to ${highest().targetKbps} kbit/s`,
          atMostThird: kbps <= o.mpeg1Kbps / 3,
        });
        rmSync(raw, { force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { ffmpeg: `${caps.version} (${bin})`, seconds: o.seconds, sources: o.sources, cases, equalQuality };
}

export function printQuality(r: QualityResults, title = 'Quality per bit'): void {
  const order = (c: QualityCase): string =>
    `${c.size.padStart(14)} ${c.source} ${c.codec === 'mpeg1' ? 0 : 1} ${String(1e6 - c.targetKbps).padStart(8, '0')}`;
  const rows = [...r.cases].sort((a, b) => (order(a) < order(b) ? -1 : 1));
  printTable(
    `${title}: SSIM (mean of ffmpeg's ssim "All" over frames; Y alone; worst frame) and PSNR (dB, from the mean MSE; ` +
      `worst frame) of the decoded stream against the source, ${r.seconds} s per case, encoded with the server's own ` +
      'encoder arguments from raw I420 files (speed = video s per wall s); * = an extra point of the equal-quality search',
    ['size', 'source', 'codec', 'target kb/s', 'actual kb/s', 'frames', 'SSIM', 'SSIM Y', 'SSIM min', 'PSNR', 'PSNR min', 'speed'],
    rows.map((c) => [
      c.size,
      c.source,
      c.codec === 'h264' ? 'H.264' : 'MPEG-1',
      `${c.targetKbps}${c.extra ? '*' : ''}`,
      cell(c.actualKbps, 0),
      cell(c.frames, 0),
      cell(c.ssim, 4),
      cell(c.ssimY, 4),
      cell(c.ssimMin, 4),
      cell(c.psnr, 2),
      cell(c.psnrMin, 2),
      `${cell(c.speed, 1)}×`,
    ]),
  );
  printTable(
    'Lowest H.264 bitrate with SSIM ≥ MPEG-1\'s at its bitrate (goal: ≤ 1/3 of it; "≤ 1/3" on target bitrates, ' +
      '"actual ratio" = H.264\'s actual ÷ MPEG-1\'s actual kbit/s)',
    [
      'size',
      'source',
      'MPEG-1 kb/s',
      'actual',
      'MPEG-1 SSIM',
      'interpolated',
      'H.264 kb/s',
      'actual',
      'its SSIM',
      '≤ 1/3',
      'actual ratio',
      'how',
    ],
    r.equalQuality.map((e) => [
      e.size,
      e.source,
      cell(e.mpeg1Kbps, 0),
      cell(e.mpeg1ActualKbps, 0),
      cell(e.mpeg1Ssim, 4),
      cell(e.interpolatedKbps, 0),
      cell(e.h264Kbps, 0),
      cell(e.h264ActualKbps, 0),
      cell(e.h264Ssim, 4),
      Number.isFinite(e.h264Kbps) ? (e.atMostThird ? 'yes' : 'no') : 'no',
      cell(e.actualRatio, 2),
      e.method,
    ]),
  );
}

/** 640x480@24 and 1280x720@30: the bench's two stream sizes. */
export const QUALITY_SIZES: readonly QualitySize[] = [
  { width: 640, height: 480, fps: 24 },
  { width: 1280, height: 720, fps: 30 },
];

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      busy: { type: 'string', default: 'testsrc2' },
      sizes: { type: 'string' },
      'no-refine': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes
    ? values.sizes.split(',').map(
        (s) =>
          QUALITY_SIZES.find((q) => `${q.width}x${q.height}` === s) ??
          (() => {
            throw new Error(`--sizes takes ${QUALITY_SIZES.map((q) => `${q.width}x${q.height}`).join(',')}`);
          })(),
      )
    : QUALITY_SIZES;
  const t0 = Date.now();
  runQuality({
    seconds: Number(values.seconds),
    sources: ['pattern', values.busy!],
    sizes,
    mpeg1Kbps: 800,
    h264Kbps: [800, 400, 200],
    refine: !values['no-refine'],
  })
    .then((r) => {
      printQuality(r);
      console.log(`ffmpeg ${r.ffmpeg}; done in ${Math.round((Date.now() - t0) / 1000)} s`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
