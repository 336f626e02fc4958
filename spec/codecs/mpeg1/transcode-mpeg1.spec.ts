import { from, lastValueFrom, map, take, tap, toArray } from 'rxjs';
import { readBarcode } from '../../../src/barcode';
import { createEncoderCounters } from '../../../src/codecs/codec';
import { encodeH264 } from '../../../src/codecs/h264/encode-h264';
import { transcodeToMpeg1 } from '../../../src/codecs/mpeg1/transcode-mpeg1';
import { liveChildCount } from '../../../src/process/child-process';
import { testPattern } from '../../../src/sources/test-pattern';
import { decodeMpeg1 } from '../../helpers/ffmpeg-stream';

const W = 640;
const H = 480;

describe('transcodeToMpeg1 (H.264 in, MPEG-1 out, one real ffmpeg)', () => {
  it('makes one MPEG-1 picture per access unit, stamped with its unit, decodable with the barcode intact, at most a unit behind', async () => {
    let arrived = 0;
    const behind: number[] = [];
    const pictures = await lastValueFrom(
      testPattern({ width: W, height: H, fps: 24 }).pipe(
        take(36),
        encodeH264({ width: W, height: H, fps: 24, gop: 12 }),
        tap(() => arrived++),
        transcodeToMpeg1({ width: W, height: H, fps: 24, gop: 12 }),
        // Units that had come in after this picture's own when it came out (its seq counts the frames from 0).
        tap((p) => behind.push(arrived - 1 - p.seq)),
        toArray(),
      ),
    );
    expect(pictures.length).toBeGreaterThanOrEqual(30);
    pictures.forEach((p, i) => {
      expect(p.codec).toBe('mpeg1');
      if (i > 0) expect(p.seq).toBeGreaterThan(pictures[i - 1]!.seq);
    });
    expect(pictures[0]!.keyframe).toBe(true);
    // ffmpeg's parser does not wait for the next unit (the delimiter after each ends it); its H.264 decoder holds
    // one picture, so a picture leaves when the unit after it comes in: typically one unit behind, never a GOP.
    const sorted = [...behind].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThanOrEqual(1);
    const frames = await decodeMpeg1(Buffer.concat(pictures.map((p) => p.data)), W, H);
    expect(frames.map((y) => readBarcode((x, row) => y[row * W + x]!))).toEqual(pictures.map((p) => ({ frame: p.seq, time: p.capturedAt % 2 ** 32 })));
    expect(liveChildCount()).toBe(0);
  }, 30_000);

  it('after a dropped unit, drops the rest of its GOP and resumes at the next key unit', async () => {
    const counters = createEncoderCounters();
    // All 24 units at once: ffmpeg cannot take them as fast, so units are dropped, and then only a key unit resumes.
    const units = await lastValueFrom(testPattern({ width: W, height: H, fps: 50 }).pipe(take(24), encodeH264({ width: W, height: H, fps: 24, gop: 6 }), toArray()));
    const pictures = await lastValueFrom(
      from(units).pipe(transcodeToMpeg1({ width: W, height: H, fps: 24, gop: 6, counters }), map((p) => p.seq), toArray()),
    );
    const got = new Set(pictures);
    // Whatever was dropped, every picture decoded has its GOP's key unit and all units between: no gaps inside a GOP.
    for (const seq of pictures) {
      const unit = units.findIndex((u) => u.seq === seq);
      const key = units.slice(0, unit + 1).map((u) => u.keyframe).lastIndexOf(true);
      for (let i = key; i <= unit; i++) expect(got.has(units[i]!.seq)).toBe(true);
    }
    // Every unit was either dropped or made a picture, except at the end of input: there the last unit's trailing
    // delimiter starts an empty unit, which ffmpeg 4.1 reports while flushing, and the picture or two its decoder
    // still held can be lost with it (a live stream never ends, so this is a test's end only).
    expect(counters.pictures + counters.framesDropped).toBeGreaterThanOrEqual(22);
    expect(counters.pictures + counters.framesDropped).toBeLessThanOrEqual(24);
  }, 30_000);
});
