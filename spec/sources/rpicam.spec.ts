import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { ChildProcessError } from '../../src/process/child-process';
import { isPi5, rpicam, rpicamArgs, rpicamStride } from '../../src/sources/rpicam';
import { FAKE_CAMERA, fakeCameraFrame } from '../helpers/fake-camera-frames';
import { exited, pidGone, reap, recordingSpawn } from '../helpers/recording-spawn';

let dir: string;
const started: ReturnType<typeof recordingSpawn>[] = [];
function spawner(env: NodeJS.ProcessEnv) {
  const s = recordingSpawn({ ...env, FAKE_CAMERA_ARGV: join(dir, 'argv.json') });
  started.push(s);
  return s;
}
const argvGot = (): string[] => JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')) as string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pistream-rpicam-'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => reap(s.children)));
  rmSync(dir, { recursive: true, force: true });
});

describe('rpicamStride', () => {
  it('aligns rows to 64 bytes on a Pi 0–4 and to 128 on a Pi 5', () => {
    expect(rpicamStride(640, false)).toBe(640);
    expect(rpicamStride(780, false)).toBe(832);
    expect(rpicamStride(800, false)).toBe(832);
    expect(rpicamStride(800, true)).toBe(896);
    expect(rpicamStride(640, true)).toBe(640);
    expect(rpicamStride(1920, true)).toBe(1920);
  });
});

describe('isPi5', () => {
  it('reads the SoC from the device tree', () => {
    const file = join(dir, 'compatible');
    writeFileSync(file, 'raspberrypi,5-model-b\0brcm,bcm2712\0');
    expect(isPi5(file)).toBe(true);
    writeFileSync(file, 'raspberrypi,4-model-b\0brcm,bcm2711\0');
    expect(isPi5(file)).toBe(false);
    expect(isPi5(join(dir, 'missing'))).toBe(false);
  });
});

describe('rpicamArgs', () => {
  it('asks for raw I420 on stdout, flushed per frame, running forever', () => {
    expect(rpicamArgs({ width: 640, height: 480, fps: 24 })).toEqual(
      '-n -t 0 --codec yuv420 --width 640 --height 480 --framerate 24 --flush -o -'.split(' '),
    );
  });

  it('adds flips, rotation and camera', () => {
    expect(rpicamArgs({ width: 640, height: 480, fps: 30, hflip: true, vflip: true, rotation: 180, camera: 1 })).toEqual(
      '-n -t 0 --codec yuv420 --width 640 --height 480 --framerate 30 --flush --hflip --vflip --rotation 180 --camera 1 -o -'.split(' '),
    );
  });
});

describe('rpicam', () => {
  it('rejects rotations other than 0 and 180, and bad sizes, at once', () => {
    expect(() => rpicam({ width: 640, height: 480, fps: 24, rotation: 90 as 0 })).toThrow('rpicam-vid rotation must be 0 or 180');
    expect(() => rpicam({ width: 641, height: 480, fps: 24 })).toThrow(/rpicam-vid width must be an even/);
    expect(() => rpicam({ width: 640, height: 480, fps: 0 })).toThrow(/fps/);
    expect(() => rpicam({ width: 640, height: 480, fps: 24, camera: -1 })).toThrow(/camera/);
  });

  it('crops the 64-byte row padding of a Pi 0–4 byte-exactly', async () => {
    const { spawn } = spawner({ FAKE_CAMERA_FRAMES: '3' });
    const options = { width: 100, height: 6, fps: 30, hflip: true, command: FAKE_CAMERA, pi5: false, spawn };
    const frames = await lastValueFrom(rpicam(options).pipe(toArray()));
    expect(frames.map((f) => [f.seq, f.width, f.height])).toEqual([
      [0, 100, 6],
      [1, 100, 6],
      [2, 100, 6],
    ]);
    frames.forEach((f) => expect(f.data).toEqual(fakeCameraFrame(100, 6, f.seq)));
    expect(frames.some((f) => f.data.includes(0xee))).toBe(false);
    expect(argvGot()).toEqual(rpicamArgs(options));
  });

  it('crops the 128-byte row padding of a Pi 5', async () => {
    const { spawn } = spawner({ FAKE_CAMERA_FRAMES: '2', FAKE_CAMERA_ALIGN: '128' });
    const frames = await lastValueFrom(rpicam({ width: 130, height: 4, fps: 30, command: FAKE_CAMERA, pi5: true, spawn }).pipe(toArray()));
    expect(frames.map((f) => f.data)).toEqual([fakeCameraFrame(130, 4, 0), fakeCameraFrame(130, 4, 1)]);
  });

  it('takes a stride override', async () => {
    const { spawn } = spawner({ FAKE_CAMERA_FRAMES: '1', FAKE_CAMERA_ALIGN: '128' });
    const frames = await lastValueFrom(
      rpicam({ width: 130, height: 4, fps: 30, command: FAKE_CAMERA, pi5: false, stride: 256, spawn }).pipe(toArray()),
    );
    expect(frames.map((f) => f.data)).toEqual([fakeCameraFrame(130, 4, 0)]);
  });

  it('runs libcamera-vid (or any path) with the same flags', async () => {
    const { spawn, calls } = spawner({ FAKE_CAMERA_FRAMES: '1' });
    await lastValueFrom(rpicam({ width: 64, height: 2, fps: 30, command: FAKE_CAMERA, pi5: false, spawn }));
    expect(calls).toEqual([{ command: FAKE_CAMERA, args: rpicamArgs({ width: 64, height: 2, fps: 30 }) }]);
  });

  it('fails naming the program when it is missing', async () => {
    const err = await firstValueFrom(rpicam({ width: 64, height: 2, fps: 30, command: join(dir, 'rpicam-vid'), pi5: false })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChildProcessError);
    expect((err as Error).message).toBe(`${join(dir, 'rpicam-vid')}: program not found (is it installed and on PATH?)`);
  });

  it('fails naming the program and its exit code when it exits non-zero, after the frames it wrote', async () => {
    const { spawn } = spawner({ FAKE_CAMERA_FRAMES: '1', FAKE_CAMERA_EXIT: '3' });
    const frames: number[] = [];
    const err = await new Promise((resolve) =>
      rpicam({ width: 64, height: 2, fps: 30, command: FAKE_CAMERA, pi5: false, spawn }).subscribe({
        next: (f) => frames.push(f.seq),
        error: resolve,
      }),
    );
    expect(frames).toEqual([0]);
    expect(err).toBeInstanceOf(ChildProcessError);
    expect((err as ChildProcessError).message).toMatch(/fake-camera\.js exited with code 3/);
    expect((err as ChildProcessError).exitCode).toBe(3);
  });

  it('kills the camera program on unsubscribe', async () => {
    const { spawn, children } = spawner({});
    const frames = await lastValueFrom(
      rpicam({ width: 64, height: 2, fps: 100, command: FAKE_CAMERA, pi5: false, spawn }).pipe(take(2), toArray()),
    );
    expect(frames.map((f) => f.seq)).toEqual([0, 1]);
    expect(children).toHaveLength(1);
    const pid = children[0].pid!;
    await exited(children[0]);
    expect(children[0].signalCode).toBe('SIGTERM');
    expect(pidGone(pid)).toBe(true);
  });
});
