import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import type { H264Picture } from '../../src/codecs/h264/h264-picture';
import { ChildProcessError, liveChildCount } from '../../src/process/child-process';
import { raspividH264, raspividH264Args, rpicamH264, rpicamH264Args, rpicamH264Level } from '../../src/sources/camera-h264';
import { decodeH264, x264Stream } from '../helpers/h264-streams';
import { exited, pidGone, reap, recordingSpawn } from '../helpers/recording-spawn';

const FAKE = join(__dirname, '..', 'helpers', 'fake-h264-camera.js');
const SIZE = { width: 320, height: 240, fps: 24 };

let dir: string;
let fixture: string;
const started: ReturnType<typeof recordingSpawn>[] = [];
function spawner(env: NodeJS.ProcessEnv = {}) {
  const s = recordingSpawn({ FAKE_H264_FILE: fixture, FAKE_CAMERA_ARGV: join(dir, 'argv.json'), ...env });
  started.push(s);
  return s;
}
const argvGot = (): string[] => JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')) as string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pistream-h264-camera-'));
  fixture = join(dir, 'camera.h264');
  // A real encoder's output: 24 pictures, an IDR (with SPS + PPS) every 12, two slices per picture.
  writeFileSync(fixture, await x264Stream({ frames: 24, gop: 12 }));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => reap(s.children)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rpicamH264Level', () => {
  it('picks 4, 4.1 for more than 20 Mbit/s, 4.2 above 245760 macroblocks a second', () => {
    expect(rpicamH264Level(1920, 1080, 30, 2000)).toBe('4'); // 8160 MBs × 30 = 244800
    expect(rpicamH264Level(1920, 1080, 30, 25000)).toBe('4.1');
    expect(rpicamH264Level(1920, 1080, 31, 2000)).toBe('4.2');
    expect(rpicamH264Level(640, 480, 24, 500)).toBe('4');
  });
});

describe('argument lists', () => {
  it('rpicam-vid: H.264 with inline headers, flushed, baseline, bitrate in bits/s', () => {
    expect(rpicamH264Args({ width: 1280, height: 720, fps: 30, bitrate: 2000, gop: 15 })).toEqual(
      '-t 0 -n --codec h264 --inline --flush --intra 15 --profile baseline --level 4 --bitrate 2000000 --width 1280 --height 720 --framerate 30 -o -'.split(
        ' ',
      ),
    );
    expect(
      rpicamH264Args({ ...SIZE, bitrate: 800, gop: 12, hflip: true, vflip: true, rotation: 180, camera: 1, lowLatency: true }),
    ).toEqual(
      '-t 0 -n --codec h264 --inline --flush --low-latency --intra 12 --profile baseline --level 4 --bitrate 800000 --width 320 --height 240 --framerate 24 --hflip --vflip --rotation 180 --camera 1 -o -'.split(
        ' ',
      ),
    );
  });

  it('raspivid: the same, spelled its way', () => {
    expect(raspividH264Args({ ...SIZE, bitrate: 1000, gop: 10, hflip: true, rotation: 180 })).toEqual(
      '-t 0 -n -ih -fl -g 10 -b 1000000 -w 320 -h 240 -fps 24 -pf baseline -hf -rot 180 -o -'.split(' '),
    );
  });

  it('defaults: a keyframe a second and the encoder’s default bitrate', () => {
    const args = rpicamH264Args({ width: 640, height: 480, fps: 25 });
    expect(args[args.indexOf('--intra') + 1]).toBe('25');
    expect(Number(args[args.indexOf('--bitrate') + 1])).toBeGreaterThan(0);
  });

  it('rejects bad options at once', () => {
    expect(() => rpicamH264({ ...SIZE, rotation: 90 as 0 })).toThrow('rpicam-vid rotation must be 0 or 180');
    expect(() => rpicamH264({ ...SIZE, bitrate: 0 })).toThrow(/bitrate/);
    expect(() => rpicamH264({ ...SIZE, gop: 1.5 })).toThrow(/gop/);
    expect(() => rpicamH264({ ...SIZE, camera: -1 })).toThrow(/camera/);
    expect(() => raspividH264({ ...SIZE, fps: 0 })).toThrow(/raspivid fps/);
  });
});

function checkPictures(pictures: readonly H264Picture[], count: number): void {
  expect(pictures).toHaveLength(count);
  expect(pictures.map((p) => p.seq)).toEqual([...Array(count).keys()]);
  expect(pictures.map((p) => p.keyframe)).toEqual([...Array(count).keys()].map((i) => i % 12 === 0));
  for (const p of pictures) {
    expect(p).toMatchObject({ codec: 'h264', codecString: 'avc1.42C00D', width: 320, height: 240 });
    expect(p.data.subarray(0, 4)).toEqual(Buffer.from([0, 0, 0, 1]));
  }
  const times = pictures.map((p) => p.capturedAt);
  expect([...times].sort((a, b) => a - b)).toEqual(times);
}

describe('rpicamH264 against a stand-in camera', () => {
  it('runs the program with its arguments and emits pictures, keyframe first, that ffmpeg decodes', async () => {
    const { spawn, calls } = spawner();
    const options = { ...SIZE, bitrate: 500, gop: 12, command: FAKE, pi5: false, spawn };
    const pictures = await lastValueFrom(rpicamH264(options).pipe(toArray()));
    expect(calls).toEqual([{ command: FAKE, args: rpicamH264Args(options) }]);
    expect(argvGot()).toEqual(rpicamH264Args(options));
    checkPictures(pictures, 24);
    const decoded = await decodeH264(Buffer.concat(pictures.map((p) => p.data)), 320, 240);
    expect(decoded.pictures).toBe(24);
  });

  it('on a Pi 5, passes --low-latency when the program’s --help lists it, and not otherwise', async () => {
    const withFlag = spawner();
    await lastValueFrom(rpicamH264({ ...SIZE, command: FAKE, pi5: true, spawn: withFlag.spawn }).pipe(toArray()));
    expect(withFlag.calls.map((c) => c.args.includes('--low-latency'))).toEqual([false, true]);
    expect(withFlag.calls[0]!.args).toEqual(['--help']);

    const without = spawner({ FAKE_H264_NO_LOW_LATENCY: '1' });
    const pictures = await lastValueFrom(rpicamH264({ ...SIZE, command: FAKE, pi5: true, spawn: without.spawn }).pipe(toArray()));
    expect(without.calls.map((c) => c.args.includes('--low-latency'))).toEqual([false, false]);
    expect(pictures).toHaveLength(24);

    const told = spawner();
    await lastValueFrom(rpicamH264({ ...SIZE, command: FAKE, pi5: true, lowLatency: false, spawn: told.spawn }).pipe(toArray()));
    expect(told.calls).toHaveLength(1); // no need to ask
  });

  it('kills the camera program on unsubscribe, leaving no child behind', async () => {
    const live = liveChildCount();
    const { spawn, children } = spawner({ FAKE_H264_HOLD: '1', FAKE_H264_FRAMES: '1000' });
    const pictures = await lastValueFrom(rpicamH264({ ...SIZE, command: FAKE, pi5: false, spawn }).pipe(take(3), toArray()));
    expect(pictures.map((p) => p.seq)).toEqual([0, 1, 2]);
    expect(children).toHaveLength(1);
    const pid = children[0]!.pid!;
    await exited(children[0]!);
    expect(children[0]!.signalCode).toBe('SIGTERM');
    expect(pidGone(pid)).toBe(true);
    expect(liveChildCount()).toBe(live);
  });

  it('fails naming the program when it is missing', async () => {
    const missing = join(dir, 'rpicam-vid');
    const err = await firstValueFrom(rpicamH264({ ...SIZE, command: missing, pi5: false })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChildProcessError);
    expect((err as Error).message).toBe(`${missing}: program not found (is it installed and on PATH?)`);
    // On a Pi 5 the --help probe fails quietly; the camera itself reports the missing program.
    const err5 = await firstValueFrom(rpicamH264({ ...SIZE, command: missing, pi5: true })).catch((e: unknown) => e);
    expect((err5 as Error).message).toBe(`${missing}: program not found (is it installed and on PATH?)`);
  });

  it('fails naming the program and its exit code, after the pictures it wrote', async () => {
    const { spawn } = spawner({ FAKE_H264_FRAMES: '13', FAKE_H264_EXIT: '3' });
    const seqs: number[] = [];
    const err = await new Promise((resolve) =>
      rpicamH264({ ...SIZE, command: FAKE, pi5: false, spawn }).subscribe({ next: (p) => seqs.push(p.seq), error: resolve }),
    );
    expect(seqs.length).toBeGreaterThanOrEqual(12); // the 13th may be cut short by the error
    expect((err as ChildProcessError).message).toMatch(/fake-h264-camera\.js exited with code 3/);
  });
});

describe('raspividH264 against a stand-in camera', () => {
  it('runs raspivid with its arguments and emits decodable pictures', async () => {
    const { spawn, calls } = spawner({ FAKE_H264_FRAMES: '36' });
    const options = { ...SIZE, gop: 12, command: FAKE, spawn };
    const pictures = await lastValueFrom(raspividH264(options).pipe(toArray()));
    expect(calls).toEqual([{ command: FAKE, args: raspividH264Args(options) }]);
    checkPictures(pictures, 36);
    expect((await decodeH264(Buffer.concat(pictures.map((p) => p.data)), 320, 240)).pictures).toBe(36);
  });

  it('fails naming the program when it is missing', async () => {
    const err = await firstValueFrom(raspividH264({ ...SIZE, command: join(dir, 'raspivid') })).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${join(dir, 'raspivid')}: program not found (is it installed and on PATH?)`);
  });
});
