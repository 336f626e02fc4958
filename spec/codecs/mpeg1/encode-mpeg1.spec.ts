import { spawn, type ChildProcess } from 'node:child_process';
import { concat, firstValueFrom, from, lastValueFrom, map, of, Subject, take, tap, toArray } from 'rxjs';
import { readBarcode } from '../../../src/barcode';
import { encodeMpeg1, STARTUP_FRAMES } from '../../../src/codecs/mpeg1/encode-mpeg1';
import { createEncoderCounters, type EncodeOptions as EncoderOptions } from '../../../src/codecs/codec';
import { probeFfmpeg, resolveFfmpeg } from '../../../src/process/ffmpeg-path';
import { yuv420Size, type Frame } from '../../../src/frame';
import type { Picture } from '../../../src/picture';
import { ChildProcessError, liveChildCount, type SpawnFn } from '../../../src/process/child-process';
import { testPattern, TestPatternRenderer } from '../../../src/sources/test-pattern';
import { lockstep } from '../../helpers/lockstep';
import { exited, guardChildren, pidGone } from '../../helpers/recording-spawn';
import { testPatternFrames } from '../../helpers/test-pattern-frames';

const W = 640;
const H = 480;
const FRAME_BYTES = yuv420Size(W, H);

/** Every child a test started (encoders and decoders), so none outlives it. */
const children: ChildProcess[] = [];
const onSpawn = (child: ChildProcess): void => {
  children.push(child);
};
const options = (more: Partial<EncoderOptions> = {}): EncoderOptions => ({
  width: W,
  height: H,
  fps: 24,
  gop: 12,
  onSpawn,
  ...more,
});

const liveAtStart = guardChildren(children);

/**
 * Decodes an MPEG-1 elementary stream with ffmpeg itself into raw I420 frames. (`mpeg1video` is only the muxer's
 * name; ffmpeg 4.1 reads the stream with the `mpegvideo` demuxer.)
 */
async function decode(stream: Buffer): Promise<Buffer[]> {
  const ffmpeg = resolveFfmpeg().path;
  // Passthrough, or ffmpeg pads the output to a constant rate with a duplicate of the last frame.
  const passthrough = (await probeFfmpeg(ffmpeg)).fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
  const child = spawn(
    ffmpeg,
    ['-v', 'error', '-f', 'mpegvideo', '-i', 'pipe:0', ...passthrough, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  children.push(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.on('error', () => undefined); // a decoder that fails says why on stderr
  child.stdin.end(stream);
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`decoder exited ${code}: ${Buffer.concat(err).toString()}`));
      const all = Buffer.concat(out);
      expect(all.length % FRAME_BYTES).toBe(0);
      const frames: Buffer[] = [];
      for (let at = 0; at < all.length; at += FRAME_BYTES) frames.push(all.subarray(at, at + FRAME_BYTES));
      resolve(frames);
    }),
  );
}

describe('encodeMpeg1 (with the real ffmpeg)', () => {
  it('encodes the test pattern: I every 12 pictures, each picture stamped with its frame, decodable, barcode intact', async () => {
    const counters = createEncoderCounters();
    const frames = testPatternFrames(W, H, 60);
    const offered = new Map(frames.map((f) => [f.seq, f.capturedAt]));
    // Each frame goes in once the picture before it is out: the encoder is one-in-one-out, so a frame never finds
    // the last one still being written and none is dropped, on any machine however busy.
    const pictures = await lastValueFrom(lockstep(frames, encodeMpeg1(options({ counters }))).pipe(toArray()));

    expect(counters).toMatchObject({ framesIn: 60, framesDropped: 0, pictures: 60 });
    expect(pictures.map((p) => p.seq)).toEqual(frames.map((f) => f.seq));

    pictures.forEach((p, i) => {
      expect([p.type, p.keyframe, p.width, p.height]).toEqual(i % 12 === 0 ? ['I', true, W, H] : ['P', false, W, H]);
      expect(offered.get(p.seq)).toBe(p.capturedAt);
      if (i > 0) expect(p.seq).toBeGreaterThan(pictures[i - 1]!.seq);
    });
    expect(pictures[0]!.seq).toBe(0);

    const decoded = await decode(Buffer.concat(pictures.map((p) => p.data)));
    expect(decoded).toHaveLength(pictures.length);
    const barcodes = decoded.map((y) => readBarcode((x, row) => y[row * W + x]!));
    expect(barcodes).toEqual(pictures.map((p) => ({ frame: p.seq, time: p.capturedAt % 2 ** 32 })));
  });

  it('errors on a frame of the wrong size, naming both sizes, and stops ffmpeg', async () => {
    const small: Frame = { data: Buffer.alloc(yuv420Size(320, 240)), width: 320, height: 240, seq: 0, capturedAt: 0 };
    const err = await firstValueFrom(of(small).pipe(encodeMpeg1(options()))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe(`frame of 320x240 (115200 bytes) does not match the encoder's 640x480 (${FRAME_BYTES} bytes)`);
    expect(children).toHaveLength(1);
    const pid = children[0]!.pid!;
    await exited(children[0]!);
    expect(pidGone(pid)).toBe(true);
  });

  it('errors when the frame data is not the size its width and height say', async () => {
    const bad: Frame = { data: Buffer.alloc(10), width: W, height: H, seq: 0, capturedAt: 0 };
    const err = await firstValueFrom(of(bad).pipe(encodeMpeg1(options()))).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/frame of 640x480 \(10 bytes\) does not match/);
  });

  it('errors clearly when ffmpeg is missing', async () => {
    const frames = new TestPatternRenderer(W, H);
    const err = await firstValueFrom(of(frames.render(0, 0)).pipe(encodeMpeg1(options({ ffmpeg: '/nonexistent/ffmpeg' })))).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe('ffmpeg not found or not executable at /nonexistent/ffmpeg (from --ffmpeg)');
    expect(children).toHaveLength(0);
  });

  it('errors with ffmpeg’s own words when it exits non-zero', async () => {
    // Spawn ffmpeg with an option it does not know, as a broken build or a bad flag would.
    const badFlag: SpawnFn = (command, args, opts) => spawn(command, [...args.slice(0, -1), '-no_such_option', '1', 'pipe:1'], opts);
    const err = await lastValueFrom(
      from([new TestPatternRenderer(W, H).render(0, 0)]).pipe(encodeMpeg1(options({ spawn: badFlag }))),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChildProcessError);
    expect((err as ChildProcessError).exitCode).not.toBe(0);
    expect((err as Error).message).toMatch(/ffmpeg exited with code \d+: .*no_such_option/);
  });

  it('rejects bad options when the operator is made', () => {
    expect(() => encodeMpeg1(options({ width: 641 }))).toThrow('encoder width must be an even whole number');
    expect(() => encodeMpeg1(options({ fps: 15 }))).toThrow(/--allow-nonstandard-fps/);
  });

  it(`while ffmpeg starts, the first ${STARTUP_FRAMES} frames after the one being written wait for it, in order; later ones are dropped`, async () => {
    const renderer = new TestPatternRenderer(W, H);
    const few = [0, 1, 2, 3].map((i) => renderer.render(i, i * 10));
    const frames = Array.from({ length: 200 }, (_, seq) => ({ ...few[seq % 4]!, seq, capturedAt: seq * 10 }));
    const counters = createEncoderCounters();
    // All 200 arrive in one synchronous burst, before ffmpeg can have read any: frame 0 is written, the next
    // STARTUP_FRAMES wait, the rest are dropped and counted.
    const pictures = await lastValueFrom(from(frames).pipe(encodeMpeg1(options({ counters })), toArray()));
    const kept = STARTUP_FRAMES + 1;
    expect(STARTUP_FRAMES).toBeGreaterThanOrEqual(4); // ffmpeg's start takes a few frame periods
    expect(pictures.slice(0, 4).map((p) => p.seq)).toEqual([0, 1, 2, 3]);
    expect(pictures.map((p) => [p.seq, p.capturedAt])).toEqual(Array.from({ length: kept }, (_, seq) => [seq, seq * 10]));
    expect(pictures.map((p) => p.keyframe)).toEqual(Array.from({ length: kept }, (_, i) => i % 12 === 0));
    expect(counters).toMatchObject({ framesIn: 200, framesDropped: 200 - kept, pictures: kept });
  });

  it('releases every frame exactly once, written or dropped, so its source can fill the buffer again', async () => {
    const renderer = new TestPatternRenderer(W, H);
    const releases = new Map<number, number>();
    const frames = Array.from({ length: 40 }, (_, seq) => ({
      ...renderer.render(seq, seq * 10),
      release: () => releases.set(seq, (releases.get(seq) ?? 0) + 1),
    }));
    const counters = createEncoderCounters();
    const pictures = await lastValueFrom(from(frames).pipe(encodeMpeg1(options({ counters })), toArray()));
    // Written (the first, and those that waited for ffmpeg's start) and dropped (the rest of the burst) alike.
    expect(pictures).toHaveLength(STARTUP_FRAMES + 1);
    expect(counters.framesDropped).toBe(40 - (STARTUP_FRAMES + 1));
    expect([...releases.keys()].sort((a, b) => a - b)).toEqual(frames.map((f) => f.seq));
    expect([...releases.values()].every((n) => n === 1)).toBe(true);
  });

  it('latest wins once ffmpeg runs: frames offered faster than ffmpeg takes them are dropped and counted, never queued', async () => {
    const renderer = new TestPatternRenderer(W, H);
    const few = [0, 1, 2, 3].map((i) => renderer.render(i, i * 10));
    const frame = (seq: number): Frame => ({ ...few[seq % 4]!, seq, capturedAt: seq * 10 });
    const frames = new Subject<Frame>();
    const counters = createEncoderCounters();
    // Frame 0 as the encoder subscribes (once ffmpeg is spawned), then whatever the subject gets.
    const pictures = await lastValueFrom(
      concat(of(frame(0)), frames).pipe(
        encodeMpeg1(options({ counters })),
        tap((picture) => {
          if (picture.seq !== 0) return;
          // ffmpeg has made its first picture (so it has read frame 0): 200 more in one synchronous burst.
          for (let seq = 1; seq <= 200; seq++) frames.next(frame(seq));
          frames.complete();
        }),
        toArray(),
      ),
    );
    // Only the first of the burst is written; the rest find it still being written and are dropped, not queued.
    expect(pictures.map((p) => [p.seq, p.capturedAt, p.keyframe])).toEqual([
      [0, 0, true],
      [1, 10, false],
    ]);
    expect(counters).toMatchObject({ framesIn: 201, framesDropped: 199, pictures: 2 });
  });

  it('kills ffmpeg when unsubscribed, and its PID is gone', async () => {
    let child: ChildProcess | undefined;
    const pictures = await lastValueFrom(
      testPattern({ width: W, height: H, fps: 50 }).pipe(
        encodeMpeg1(
          options({
            onSpawn: (c) => {
              onSpawn(c);
              child = c;
            },
          }),
        ),
        take(3),
        map((p: Picture) => p.seq),
        toArray(),
      ),
    );
    expect(pictures).toHaveLength(3);
    expect(child).toBeDefined();
    const pid = child!.pid!;
    await exited(child!);
    expect(child!.signalCode === 'SIGTERM' || child!.exitCode !== null).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(liveChildCount()).toBe(liveAtStart());
  });

  it('runs one ffmpeg per subscription', async () => {
    const encoded = testPattern({ width: W, height: H, fps: 50 }).pipe(encodeMpeg1(options()), take(2), toArray());
    const [a, b] = await Promise.all([lastValueFrom(encoded), lastValueFrom(encoded)]);
    expect(a.map((p) => p.keyframe)).toEqual([true, false]);
    expect(b.map((p) => p.keyframe)).toEqual([true, false]);
    expect(children).toHaveLength(2);
    expect(children[0]!.pid).not.toBe(children[1]!.pid);
  });
});
