import { lastValueFrom, Observable, tap, toArray } from 'rxjs';
import { readBarcode } from '../../src/barcode';
import { createEncoderCounters } from '../../src/codecs/codec';
import { encodeH264 } from '../../src/codecs/h264/encode-h264';
import type { H264Picture } from '../../src/codecs/h264/h264-picture';
import { transcodeToMpeg1 } from '../../src/codecs/transcode-mpeg1';
import { liveChildCount } from '../../src/process/child-process';
import { decodeMpeg1 } from '../helpers/ffmpeg-stream';
import { lockstep } from '../helpers/lockstep';
import { testPatternFrames } from '../helpers/test-pattern-frames';

const W = 640;
const H = 480;

/** H.264 access units of the test pattern, every frame encoded (fed in lockstep), a key unit every `gop`. */
function h264Units(n: number, more: { gop: number; quality?: number }): Promise<H264Picture[]> {
  const settings = { width: W, height: H, fps: 24, ...more };
  return lastValueFrom(lockstep(testPatternFrames(W, H, n), encodeH264(settings)).pipe(toArray()));
}

describe('transcodeToMpeg1 (H.264 in, MPEG-1 out, one real ffmpeg)', () => {
  it('makes one MPEG-1 picture per access unit, stamped with its unit, decodable with the barcode intact, each out before the next unit goes in', async () => {
    const units = await h264Units(36, { gop: 12 });
    // Lockstep: unit k + 1 goes in only once picture k is out, so this completes only if ffmpeg's parser never
    // waits for the next unit (the delimiter after each ends it) and its decoder holds no picture back.
    const pictures = await lastValueFrom(lockstep(units, transcodeToMpeg1({ width: W, height: H, fps: 24, gop: 12 })).pipe(toArray()));
    expect(pictures.map((p) => p.seq)).toEqual(units.map((u) => u.seq));
    expect(pictures.map((p) => [p.codec, p.keyframe])).toEqual(pictures.map((_, i) => ['mpeg1', i % 12 === 0]));
    const frames = await decodeMpeg1(Buffer.concat(pictures.map((p) => p.data)), W, H);
    expect(frames.map((y) => readBarcode((x, row) => y[row * W + x]!))).toEqual(
      pictures.map((p) => ({ frame: p.seq, time: p.capturedAt % 2 ** 32 })),
    );
    expect(liveChildCount()).toBe(0);
  }, 30_000);

  it('after a dropped unit, drops the rest of its GOP and resumes at the next key unit', async () => {
    // Large units (high quality), so that a burst overfills ffmpeg's stdin (its pipe and the stream's buffer):
    // that, and only that, makes the feed drop a coded unit.
    const units = await h264Units(48, { gop: 6, quality: 10 }); // key units at 0, 6, 12 … 42
    const LOCKSTEP = 8; // units 0–7 one at a time: ffmpeg has started, nothing dropped
    const BURST = 24; // units 8–31 in one synchronous burst, faster than any ffmpeg takes them
    const counters = createEncoderCounters();
    let burstWritten = -1;
    let onPicture = (): void => undefined;
    const fed = new Observable<H264Picture>((input) => {
      let next = 0;
      let out = 0;
      // Gives the next unit; then, while units are dropped at once (no picture will come for them), the next.
      const give = (): void => {
        for (;;) {
          if (next === units.length) return input.complete();
          const dropped = counters.framesDropped;
          input.next(units[next++]!);
          if (counters.framesDropped === dropped) return;
        }
      };
      const burst = (): void => {
        for (let i = 0; i < BURST; i++) input.next(units[next++]!);
        // Once one write finds the last still in progress, every later unit of the burst finds it so too.
        burstWritten = BURST - counters.framesDropped;
      };
      onPicture = () => {
        out++;
        if (out < LOCKSTEP) give();
        else if (out === LOCKSTEP) burst();
        else if (out >= LOCKSTEP + burstWritten) give(); // the burst's written units are all out
      };
      give();
    });
    const pictures = await lastValueFrom(
      fed.pipe(
        transcodeToMpeg1({ width: W, height: H, fps: 24, gop: 6, counters }),
        tap(() => onPicture()),
        toArray(),
      ),
    );
    expect(burstWritten).toBeGreaterThan(0);
    expect(burstWritten).toBeLessThan(BURST); // the burst did overfill the pipe
    // The burst's written units are its head; its dropped tail reaches past key units 12 … 30 (a key unit is not
    // written while a write is in progress either); after it, 32–35 wait for a key unit, and 36 resumes.
    const resumed = units.slice(36);
    expect(units.map((u) => u.keyframe)).toEqual(units.map((_, i) => i % 6 === 0));
    expect(pictures.map((p) => p.seq)).toEqual([...units.slice(0, LOCKSTEP + burstWritten), ...resumed].map((u) => u.seq));
    expect(counters).toMatchObject({ framesIn: 48, framesDropped: BURST - burstWritten + 4, pictures: pictures.length });
  }, 30_000);
});
