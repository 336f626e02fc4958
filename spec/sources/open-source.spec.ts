import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { checkFfmpeg, checkSource, SourceCheckError } from '../../src/sources/check-source';
import { openSource, sourceText, type SourceSpec } from '../../src/sources/open-source';
import { FAKE_CAMERA } from '../helpers/fake-camera-frames';

const ffmpeg = resolveFfmpeg();
let dir: string;
let bin: string;
let clip: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pistream-check-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
  clip = join(dir, 'clip.mpg');
  writeFileSync(clip, 'not really a video: the check does not play it');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An executable shell script in the test folder. */
function script(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, ['#!/bin/sh', ...lines, ''].join('\n'));
  chmodSync(path, 0o755);
  return path;
}

/** What `checkSource` (or any promise) rejected with, as a SourceCheckError. */
async function refusal(checking: Promise<unknown>): Promise<SourceCheckError> {
  const err = await checking.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceCheckError);
  return err as SourceCheckError;
}

describe('sourceText', () => {
  it('writes a spec as --source takes it', () => {
    expect(sourceText({ kind: 'file', path: 'demo.mp4', hflip: true })).toBe('file:demo.mp4');
    expect(sourceText({ kind: 'v4l2' })).toBe('v4l2');
    expect(sourceText({ kind: 'v4l2', device: '/dev/video1' })).toBe('v4l2:/dev/video1');
    expect(sourceText({ kind: 'rpicam', vflip: true })).toBe('rpicam');
  });
});

describe('checkSource', () => {
  it('refuses a file that does not exist, naming it, in one line', async () => {
    const missing = join(dir, 'missing.mp4');
    const err = await refusal(checkSource({ kind: 'file', path: missing }));
    expect(err).toMatchObject({ option: 'source', given: `file:${missing}`, problem: 'no such file' });
    expect(err.message).toBe(`pistream: source file:${missing}: no such file`);
  });

  it('refuses a folder given as the file', async () => {
    const err = await refusal(checkSource({ kind: 'file', path: dir }));
    expect(err).toMatchObject({ given: `file:${dir}`, problem: 'is a directory, not a video file' });
  });

  it('takes a readable file, and checks the ffmpeg that will play it', async () => {
    const check = await checkSource({ kind: 'file', path: clip });
    expect(check.ffmpeg).toEqual({ ...ffmpeg, version: expect.stringMatching(/^\S+$/) });
    expect(check.ffmpeg?.version).not.toBe('unknown');
  });

  it('leaves a URL given as the file to ffmpeg', async () => {
    await expect(checkSource({ kind: 'file', path: 'rtsp://camera.invalid/stream' })).resolves.toHaveProperty('ffmpeg');
  });

  it('refuses a V4L2 device that does not exist: the one named, or the default', async () => {
    const named = await refusal(checkSource({ kind: 'v4l2', device: join(dir, 'video9') }));
    expect(named).toMatchObject({ given: `v4l2:${join(dir, 'video9')}`, problem: 'no such device (ls /dev/video* lists them)' });
    // The default device: checked only where it is missing here.
    const fallback = await checkSource({ kind: 'v4l2' }).then(
      () => undefined,
      (e: unknown) => e as SourceCheckError,
    );
    if (fallback) {
      expect(fallback).toMatchObject({
        given: 'v4l2',
        problem: 'no such device /dev/video0 (ls /dev/video* lists them; name one as v4l2:/dev/videoN)',
      });
    }
  });

  it('refuses a file that is not a device, and takes a device (/dev/null stands in)', async () => {
    const err = await refusal(checkSource({ kind: 'v4l2', device: clip }));
    expect(err).toMatchObject({ given: `v4l2:${clip}`, problem: 'is not a device' });
    await expect(checkSource({ kind: 'v4l2', device: '/dev/null' })).resolves.toHaveProperty('ffmpeg.path', ffmpeg.path);
  });

  it.each([
    ['rpicam', 'rpicam-vid', 'rpicam-apps'],
    ['libcamera', 'libcamera-vid', 'libcamera-apps'],
    ['raspivid', 'raspividyuv', 'libraspberrypi-bin'],
  ] as const)('refuses %s when %s is not on PATH, and takes it when it is', async (kind, program, pkg) => {
    const env = { PATH: bin };
    const err = await refusal(checkSource({ kind }, { env }));
    expect(err).toMatchObject({ option: 'source', given: kind, problem: `${program} is not on PATH (it comes with ${pkg})` });
    expect(err.message).toBe(`pistream: source ${kind}: ${program} is not on PATH (it comes with ${pkg})`);
    symlinkSync(FAKE_CAMERA, join(bin, program));
    try {
      // The camera needs no ffmpeg; the encoder does: the one this PATH finds (none here, so the bundled one).
      await expect(checkSource({ kind }, { env })).resolves.toEqual({});
      await expect(checkSource({ kind }, { env, encoder: true })).resolves.toHaveProperty('ffmpeg', {
        ...resolveFfmpeg(undefined, env),
        version: expect.any(String),
      });
    } finally {
      rmSync(join(bin, program));
    }
  });

  it('checks nothing for auto and test (auto falls back to the test pattern), only the encoder’s ffmpeg when asked', async () => {
    await expect(checkSource({ kind: 'auto' }, { env: { PATH: bin } })).resolves.toEqual({});
    await expect(checkSource({ kind: 'test' })).resolves.toEqual({});
    await expect(checkSource({ kind: 'test' }, { encoder: true })).resolves.toHaveProperty('ffmpeg.origin', ffmpeg.origin);
  });

  it('refuses the source before ffmpeg, and a bad ffmpeg for a good source', async () => {
    const missing = join(dir, 'nope', 'ffmpeg');
    expect(await refusal(checkSource({ kind: 'file', path: join(dir, 'x.mp4') }, { ffmpeg: missing }))).toHaveProperty('option', 'source');
    expect(await refusal(checkSource({ kind: 'file', path: clip }, { ffmpeg: missing }))).toHaveProperty('option', 'ffmpeg');
  });
});

describe('checkFfmpeg', () => {
  it('finds ffmpeg as resolveFfmpeg does, runs it, and gives its version', async () => {
    const found = await checkFfmpeg();
    expect(found).toEqual({ ...ffmpeg, version: expect.any(String) });
    expect(await checkFfmpeg(ffmpeg.path)).toEqual({ path: ffmpeg.path, origin: 'option', version: found.version });
    expect(await checkFfmpeg(undefined, { ...process.env, PISTREAM_FFMPEG: ffmpeg.path })).toMatchObject({
      path: ffmpeg.path,
      origin: 'env',
    });
  });

  it.each([
    ['does not exist', (): string => join(dir, 'none', 'ffmpeg'), 'no such file'],
    ['is a directory', (): string => dir, 'is a directory'],
    ['is not executable', (): string => clip, 'not executable (permission denied)'],
  ])('refuses a given path that %s, naming where it came from', async (_what, path, problem) => {
    const given = await refusal(checkFfmpeg(path()));
    expect(given).toMatchObject({ option: 'ffmpeg', given: path(), origin: 'option', problem });
    expect(given.message).toBe(`pistream: encoder.ffmpeg ${path()}: ${problem}`);
    const fromEnv = await refusal(checkFfmpeg(undefined, { PATH: bin, PISTREAM_FFMPEG: path() }));
    expect(fromEnv).toMatchObject({ given: path(), origin: 'env', problem });
    expect(fromEnv.message).toBe(`pistream: PISTREAM_FFMPEG=${path()}: ${problem}`);
  });

  it('refuses a binary that does not run, or is not ffmpeg', async () => {
    const broken = script('broken-ffmpeg', ['echo "error while loading shared libraries: libavdevice.so.60" >&2', 'exit 127']);
    const err = await refusal(checkFfmpeg(broken));
    expect(err).toMatchObject({ given: broken, origin: 'option', problem: expect.stringMatching(/^does not run \(.+\)$/) });
    expect(err.message).not.toContain('\n');
    const ffprobe = script('ffprobe', ['echo "ffprobe version 6.1.1 Copyright (c) 2007-2023 the FFmpeg developers"']);
    expect(await refusal(checkFfmpeg(ffprobe))).toMatchObject({
      given: ffprobe,
      problem: 'is not ffmpeg (its -version does not start with "ffmpeg version")',
    });
  });
});

describe('openSource', () => {
  const options = { width: 64, height: 48, fps: 24 };

  it('says what each source reads: the file (absolute), the device; nothing for the test pattern', async () => {
    const spec = (s: SourceSpec) => openSource(s, options);
    expect((await spec({ kind: 'file', path: relative(process.cwd(), clip) })).target).toBe(clip);
    expect((await spec({ kind: 'v4l2' })).target).toBe('/dev/video0');
    expect((await spec({ kind: 'v4l2', device: '/dev/video3' })).target).toBe('/dev/video3');
    const test = await spec({ kind: 'test' });
    expect(test.target).toBeUndefined();
    expect((await firstValueFrom(test.source!)).width).toBe(64);
  });
});
