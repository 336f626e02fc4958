import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, NEVER, toArray } from 'rxjs';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { detectSource, listLibcameraCameras, type DetectSourceOptions } from '../../src/sources/detect';
import type { SourceOptions } from '../../src/sources/source-options';
import { testPattern } from '../../src/sources/test-pattern';
import { FAKE_CAMERA, fakeCameraFrame } from '../helpers/fake-camera-frames';
import { reap, recordingSpawn } from '../helpers/recording-spawn';

let bin: string;
const started: ReturnType<typeof recordingSpawn>[] = [];
const pattern = NEVER;
let patternOptions: SourceOptions[];

/** Puts the camera stand-in on the test PATH under `name`; `env` is baked into a wrapper script when given. */
function install(name: string, env?: string): void {
  if (env === undefined) return symlinkSync(FAKE_CAMERA, join(bin, name));
  writeFileSync(join(bin, name), `#!/bin/sh\n${env} exec "${process.execPath}" "${FAKE_CAMERA}" "$@"\n`);
  chmodSync(join(bin, name), 0o755);
}

function options(extra: Partial<DetectSourceOptions> = {}): DetectSourceOptions {
  return {
    width: 64,
    height: 4,
    fps: 30,
    pi5: false,
    pathEnv: bin,
    exists: () => false,
    testPattern: (o) => {
      patternOptions.push(o);
      return pattern;
    },
    ...extra,
  };
}

beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'pistream-detect-'));
  patternOptions = [];
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => reap(s.children)));
  rmSync(bin, { recursive: true, force: true });
});

describe('detectSource', () => {
  it('falls back to the test pattern and says why nothing else was chosen', async () => {
    const asked: string[] = [];
    const found = await detectSource(options({ hflip: true, exists: (p) => (asked.push(p), false) }));
    expect(found.kind).toBe('test');
    expect(found.source).toBe(pattern);
    expect(found.reasons).toEqual([
      'rpicam-vid: not on PATH',
      'libcamera-vid: not on PATH',
      'raspividyuv: not on PATH',
      'v4l2: /dev/video0 does not exist',
    ]);
    expect(asked).toEqual(['/dev/video0']);
    expect(patternOptions).toEqual([{ width: 64, height: 4, fps: 30, hflip: true, vflip: undefined, rotation: undefined }]);
  });

  it('falls back to a test pattern of any size, 320 wide too (it leaves its barcode out)', async () => {
    const found = await detectSource(options({ width: 320, height: 480, testPattern: (o) => testPattern(o) }));
    expect(found.kind).toBe('test');
    expect(found.target).toBeUndefined();
    const frame = await firstValueFrom(found.source);
    expect([frame.width, frame.height, frame.data.length]).toEqual([320, 480, (320 * 480 * 3) / 2]);
  });

  it('picks rpicam-vid first when it lists a camera, and the source runs it', async () => {
    install('rpicam-vid');
    install('libcamera-vid');
    install('raspividyuv');
    const recorder = recordingSpawn({ FAKE_CAMERA_FRAMES: '2' });
    started.push(recorder);
    const found = await detectSource(options({ exists: () => true, spawn: recorder.spawn }));
    expect(found.kind).toBe('rpicam');
    expect(found.target).toBe(join(bin, 'rpicam-vid'));
    expect(found.reasons).toEqual([]);
    const frames = await lastValueFrom(found.source.pipe(toArray()));
    expect(frames.map((f) => f.data)).toEqual([fakeCameraFrame(64, 4, 0), fakeCameraFrame(64, 4, 1)]);
    expect(recorder.calls.map((c) => c.command)).toEqual([join(bin, 'rpicam-vid')]);
    expect(patternOptions).toEqual([]);
  });

  it('passes over a libcamera app that has no camera', async () => {
    install('rpicam-vid', 'FAKE_CAMERA_LIST=none');
    install('libcamera-vid');
    const found = await detectSource(options());
    expect(found.kind).toBe('libcamera');
    expect(found.reasons).toEqual(['rpicam-vid: no camera connected']);
  });

  it('picks raspividyuv when no libcamera app is there', async () => {
    install('raspividyuv');
    const found = await detectSource(options({ exists: () => true }));
    expect(found.kind).toBe('raspivid');
    expect(found.reasons).toEqual(['rpicam-vid: not on PATH', 'libcamera-vid: not on PATH']);
  });

  it('picks the V4L2 device when there is no Pi camera program', async () => {
    const found = await detectSource(options({ exists: (p) => p === '/dev/video0', ffmpeg: resolveFfmpeg().path }));
    expect(found.kind).toBe('v4l2');
    expect(found.reasons).toEqual(['rpicam-vid: not on PATH', 'libcamera-vid: not on PATH', 'raspividyuv: not on PATH']);
  });

  it('passes over the V4L2 device when there is no ffmpeg', async () => {
    const found = await detectSource(options({ exists: () => true, ffmpeg: '/nonexistent/ffmpeg' }));
    expect(found.kind).toBe('test');
    expect(found.reasons[3]).toMatch(/^v4l2: \/dev\/video0 exists but ffmpeg not found/);
  });

  it('uses the injected camera probe', async () => {
    install('rpicam-vid');
    const found = await detectSource(options({ listCameras: async () => 'camera busy' }));
    expect(found.kind).toBe('test');
    expect(found.reasons[0]).toBe('rpicam-vid: camera busy');
  });

  it('rejects bad options', async () => {
    await expect(detectSource(options({ rotation: 90 as 0 }))).rejects.toThrow('source rotation must be 0 or 180');
  });
});

describe('listLibcameraCameras', () => {
  it('reads --list-cameras', async () => {
    install('rpicam-vid');
    install('empty-vid', 'FAKE_CAMERA_LIST=none');
    expect(await listLibcameraCameras(join(bin, 'rpicam-vid'))).toBeUndefined();
    expect(await listLibcameraCameras(join(bin, 'empty-vid'))).toBe('no camera connected');
    expect(await listLibcameraCameras(join(bin, 'missing'))).toMatch(/^--list-cameras failed: /);
  });
});
