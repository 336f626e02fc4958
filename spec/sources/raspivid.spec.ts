import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { which } from '../../src/process/ffmpeg-path';
import { ChildProcessError } from '../../src/process/child-process';
import { raspivid, raspividArgs, raspividPadding } from '../../src/sources/raspivid';
import { describeNeeding } from '../helpers/describe-needing';
import { FAKE_CAMERA, fakeCameraFrame } from '../helpers/fake-camera-frames';
import { exited, pidGone, reap, recordingSpawn } from '../helpers/recording-spawn';

const STDBUF = which('stdbuf');
let dir: string;
const started: ReturnType<typeof recordingSpawn>[] = [];
function spawner(env: NodeJS.ProcessEnv) {
  const s = recordingSpawn({ ...env, FAKE_CAMERA_ARGV: join(dir, 'argv.json') });
  started.push(s);
  return s;
}
const argvGot = (): string[] => JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')) as string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pistream-raspivid-'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => reap(s.children)));
  rmSync(dir, { recursive: true, force: true });
});

describe('raspividPadding', () => {
  it('pads the width to 32 and the height to 16', () => {
    expect(raspividPadding(1000, 500)).toEqual({ stride: 1024, paddedHeight: 512 });
    expect(raspividPadding(640, 480)).toEqual({ stride: 640, paddedHeight: 480 });
    expect(raspividPadding(1280, 720)).toEqual({ stride: 1280, paddedHeight: 720 });
  });
});

describe('raspividArgs', () => {
  it('asks for raw YUV on stdout, running forever, with its own flag names', () => {
    expect(raspividArgs({ width: 640, height: 480, fps: 24 })).toEqual('-n -t 0 -w 640 -h 480 -fps 24 -o -'.split(' '));
    expect(raspividArgs({ width: 640, height: 480, fps: 24, hflip: true, vflip: true, rotation: 180 })).toEqual(
      '-n -t 0 -w 640 -h 480 -fps 24 -hf -vf -rot 180 -o -'.split(' '),
    );
  });
});

describe('raspivid', () => {
  it('rejects rotations other than 0 and 180', () => {
    expect(() => raspivid({ width: 640, height: 480, fps: 24, rotation: 270 as 0 })).toThrow('raspividyuv rotation must be 0 or 180');
  });

  // stdbuf comes with coreutils: on every Debian and Raspberry Pi OS, so CI requires it.
  describeNeeding(
    {
      available: () => STDBUF !== undefined,
      requireEnv: 'PISTREAM_REQUIRE_STDBUF',
      needs: 'needs stdbuf',
      missing: () => 'there is no stdbuf on PATH: install coreutils',
      skipNote: 'no stdbuf on PATH (coreutils)',
    },
    'under stdbuf',
    () => {
      it('runs under stdbuf -o0 and crops width and height padding byte-exactly', async () => {
        const { spawn, calls } = spawner({ FAKE_CAMERA_FRAMES: '2' });
        const options = { width: 1000, height: 500, fps: 30, vflip: true, command: FAKE_CAMERA, spawn };
        const frames = await lastValueFrom(raspivid(options).pipe(toArray()));
        expect(frames.map((f) => f.seq)).toEqual([0, 1]);
        frames.forEach((f) => expect(f.data.equals(fakeCameraFrame(1000, 500, f.seq))).toBe(true));
        expect(frames.some((f) => f.data.includes(0xee))).toBe(false);
        expect(calls).toEqual([{ command: STDBUF!, args: ['-o0', FAKE_CAMERA, ...raspividArgs(options)] }]);
        expect(argvGot()).toEqual(raspividArgs(options));
      });
    },
  );

  it('runs the program bare when told not to use stdbuf', async () => {
    const { spawn, calls } = spawner({ FAKE_CAMERA_FRAMES: '1' });
    const options = { width: 20, height: 6, fps: 30, command: FAKE_CAMERA, stdbuf: false as const, spawn };
    const frames = await lastValueFrom(raspivid(options).pipe(toArray()));
    expect(frames.map((f) => f.data)).toEqual([fakeCameraFrame(20, 6, 0)]);
    expect(calls).toEqual([{ command: FAKE_CAMERA, args: raspividArgs(options) }]);
  });

  it('finds the program on PATH', async () => {
    symlinkSync(FAKE_CAMERA, join(dir, 'raspividyuv'));
    const { spawn, calls } = spawner({ FAKE_CAMERA_FRAMES: '1' });
    const stdbuf = STDBUF ?? false;
    await lastValueFrom(raspivid({ width: 32, height: 16, fps: 30, pathEnv: dir, stdbuf, spawn }));
    expect(calls[0].args).toContain(stdbuf ? join(dir, 'raspividyuv') : '-w');
  });

  it.each<[string, string | false]>([
    ['with stdbuf', STDBUF ?? false],
    ['without stdbuf', false],
  ])('fails naming the program when it is missing (%s)', async (_, stdbuf) => {
    const err = await firstValueFrom(raspivid({ width: 32, height: 16, fps: 30, pathEnv: dir, stdbuf })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChildProcessError);
    expect((err as Error).message).toBe('raspividyuv: program not found (is it installed and on PATH?)');
  });

  it('fails naming the program, not stdbuf, when it exits non-zero', async () => {
    const { spawn } = spawner({ FAKE_CAMERA_FRAMES: '0', FAKE_CAMERA_EXIT: '5' });
    const err = await firstValueFrom(raspivid({ width: 32, height: 16, fps: 30, command: FAKE_CAMERA, spawn })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChildProcessError);
    expect((err as ChildProcessError).message).toBe(`${FAKE_CAMERA} exited with code 5`);
    expect((err as ChildProcessError).command).toBe(FAKE_CAMERA);
    expect((err as ChildProcessError).exitCode).toBe(5);
  });

  it('kills the camera program on unsubscribe', async () => {
    const { spawn, children } = spawner({});
    const frames = await lastValueFrom(raspivid({ width: 32, height: 16, fps: 100, command: FAKE_CAMERA, spawn }).pipe(take(3), toArray()));
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2]);
    const pid = children[0].pid!;
    await exited(children[0]);
    expect(pidGone(pid)).toBe(true);
  });
});
