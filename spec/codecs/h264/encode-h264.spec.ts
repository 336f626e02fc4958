import type { ChildProcess } from 'node:child_process';
import { lastValueFrom, toArray } from 'rxjs';
import { readBarcode } from '../../../src/barcode';
import { createEncoderCounters, type EncodeOptions, type EncoderSettings } from '../../../src/codecs/codec';
import { encodeH264 } from '../../../src/codecs/h264/encode-h264';
import { h264EncoderArgs } from '../../../src/codecs/h264/encoder-args';
import { h264 } from '../../../src/codecs/h264/h264-codec';
import { h264Level } from '../../../src/codecs/h264/levels';
import { decodeH264Frames as decodeH264 } from '../../helpers/h264-streams';
import { lockstep } from '../../helpers/lockstep';
import { guardChildren } from '../../helpers/recording-spawn';
import { testPatternFrames } from '../../helpers/test-pattern-frames';

const W = 640;
const H = 480;

const children: ChildProcess[] = [];
const options = (more: Partial<EncodeOptions> = {}): EncodeOptions => ({
  width: W,
  height: H,
  fps: 24,
  gop: 12,
  onSpawn: (child) => children.push(child),
  ...more,
});
guardChildren(children);

describe('encodeH264 (libx264 in the real ffmpeg)', () => {
  it('encodes the test pattern: a key unit with SPS+PPS every GOP, one unit per frame in order, each stamped with its frame, decodable, barcode intact', async () => {
    const counters = createEncoderCounters();
    const frames = testPatternFrames(W, H, 48);
    const offered = new Map(frames.map((f) => [f.seq, f.capturedAt]));
    // One frame in, one unit out (zerolatency): each frame goes in once the unit before it is out, so none is
    // dropped however busy the machine is.
    const pictures = await lastValueFrom(lockstep(frames, encodeH264(options({ counters, bitrate: 800 }))).pipe(toArray()));
    expect(counters).toMatchObject({ framesIn: 48, framesDropped: 0, pictures: 48 });
    expect(pictures.map((p) => p.seq)).toEqual(frames.map((f) => f.seq));
    pictures.forEach((p, i) => {
      expect([p.codec, p.keyframe, p.width, p.height]).toEqual(['h264', i % 12 === 0, W, H]);
      // Constrained baseline (42, constraint_set1 → C0), level 3 for 640x480@24.
      expect(p.codecString).toBe('avc1.42C01E');
      expect(offered.get(p.seq)).toBe(p.capturedAt);
      if (i > 0) expect(p.seq).toBeGreaterThan(pictures[i - 1]!.seq);
      // Annex B, 4-byte start codes; a key unit starts with its SPS (NAL type 7).
      expect(p.data.subarray(0, 4)).toEqual(Buffer.from([0, 0, 0, 1]));
      if (p.keyframe) expect(p.data[4]! & 0x1f).toBe(7);
    });
    const decoded = await decodeH264(Buffer.concat(pictures.map((p) => p.data)), W, H);
    expect(decoded).toHaveLength(pictures.length);
    // Lossy: the barcode is built to survive it.
    const barcodes = decoded.map((y) => readBarcode((x, row) => y[row * W + x]!));
    expect(barcodes).toEqual(pictures.map((p) => ({ frame: p.seq, time: p.capturedAt % 2 ** 32 })));
  });

  it('a decoder can start at any key unit (each carries its parameter sets)', async () => {
    const pictures = await lastValueFrom(lockstep(testPatternFrames(W, H, 30), encodeH264(options({ gop: 10 }))).pipe(toArray()));
    expect(pictures.map((p) => p.keyframe)).toEqual(pictures.map((_, i) => i % 10 === 0));
    const fromSecondKey = pictures.slice(10);
    const decoded = await decodeH264(Buffer.concat(fromSecondKey.map((p) => p.data)), W, H);
    expect(decoded).toHaveLength(fromSecondKey.length);
  });

  it('rejects settings H.264 cannot do when the operator is made, naming the setting', () => {
    expect(() => encodeH264(options({ fps: 0.5 }))).toThrow('encoder fps must be a number of frames per second from 1 to 120, got 0.5');
    expect(() => encodeH264(options({ quality: 52 }))).toThrow(/encoder quality must be a whole number from 0 to 51/);
    expect(() => encodeH264(options({ bitrate: 500, quality: 20 }))).toThrow(/bitrate and quality cannot be used together/);
  });
});

describe('the H.264 codec value', () => {
  it('takes any rate from 1 to 120, the NTSC roundings exactly', () => {
    const fpsOf = (fps: number) => (h264.settings.validate({ width: 640, height: 480, fps }).value as EncoderSettings | undefined)?.fps;
    expect(fpsOf(29.97)).toBe(30000 / 1001);
    expect(fpsOf(15)).toBe(15);
    expect(h264.settings.validate({ width: 640, height: 480, fps: 121 }).error?.message).toBe(
      'fps must be a number of frames per second from 1 to 120',
    );
    expect(h264.defaultGop(30)).toBe(30);
  });

  it('asks libx264 for one frame in, one unit out: ultrafast, zerolatency, no B-frames, constrained baseline at the level the stream needs, mpjpeg framing', () => {
    const args = h264EncoderArgs({ width: 1280, height: 720, fps: 30, gop: 30, bitrate: 2000 }, true);
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect([after('-c:v'), after('-preset'), after('-tune'), after('-profile:v'), after('-level:v'), after('-bf'), after('-g')]).toEqual([
      'libx264',
      'ultrafast',
      'zerolatency',
      'baseline',
      '3.1',
      '0',
      '30',
    ]);
    expect([after('-b:v'), after('-maxrate'), after('-bufsize')]).toEqual(['2000k', '2000k', '2000k']);
    expect(args.slice(-3)).toEqual(['-f', 'mpjpeg', 'pipe:1']);
    expect(after('-fps_mode')).toBe('passthrough');
    expect(h264EncoderArgs({ width: 640, height: 480, fps: 24, quality: 23 }, false)).toEqual(
      expect.arrayContaining(['-crf', '23', '-vsync', 'passthrough']),
    );
    expect(h264EncoderArgs({ width: 640, height: 480, fps: 24, fullRange: true }, true)).toEqual(
      expect.arrayContaining(['-vf', 'scale=in_range=full:out_range=limited']),
    );
  });
});

describe('h264Level', () => {
  it.each([
    [320, 240, 24, undefined, '1.3'],
    [640, 480, 24, undefined, '3'],
    [640, 480, 30, undefined, '3'],
    [1280, 720, 30, undefined, '3.1'],
    [1280, 720, 60, undefined, '3.2'],
    [1920, 1080, 30, undefined, '4'],
    [1920, 1080, 30, 30000, '4.1'],
    [1920, 1080, 60, undefined, '4.2'],
    [3840, 2160, 30, undefined, '5.1'],
    // 4000 px wide is 250 macroblocks on a side: beyond √(8·MaxFS) of every level below 4, though the frame is small.
    [4000, 64, 10, undefined, '4'],
  ])('%ix%i@%i (%s kbit/s) needs level %s', (width, height, fps, bitrate, level) => {
    expect(h264Level({ width, height, fps, ...(bitrate ? { bitrate } : {}) }).name).toBe(level);
  });
});
