import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { ChildProcessError } from '../../src/process/child-process';
import { fileSource, fileSourceArgs } from '../../src/sources/file';
import { exited, pidGone, reap, recordingSpawn } from '../helpers/recording-spawn';

const ffmpeg = resolveFfmpeg().path;
let dir: string;
let video: string;
const started: ReturnType<typeof recordingSpawn>[] = [];
function spawner() {
  const s = recordingSpawn();
  started.push(s);
  return s;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pistream-file-'));
  video = join(dir, 'clip.mpg');
  // 0.4 s of mid-grey, 64x48 at 25 fps: 10 frames.
  execFileSync(ffmpeg, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'color=c=gray:size=64x48:rate=25',
    '-t',
    '0.4',
    '-c:v',
    'mpeg1video',
    '-q:v',
    '2',
    '-y',
    video,
  ]);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => reap(s.children)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fileSourceArgs', () => {
  it('plays in real time, looping, at the configured rate and size', () => {
    expect(fileSourceArgs({ path: 'a.mp4', width: 640, height: 480, fps: 24 }).join(' ')).toBe(
      '-hide_banner -nostdin -loglevel error -re -stream_loop -1 -i a.mp4 -r 24 ' +
        '-an -vf scale=640:480 -f rawvideo -pix_fmt yuv420p -flush_packets 1 -',
    );
    expect(fileSourceArgs({ path: 'a.mp4', loop: false, width: 640, height: 480, fps: 24, vflip: true })).not.toContain('-stream_loop');
  });
});

describe('fileSource', () => {
  it('rejects bad options at once', () => {
    expect(() => fileSource({ path: '', width: 64, height: 48, fps: 25 })).toThrow(/path/);
    expect(() => fileSource({ path: video, width: 63, height: 48, fps: 25 })).toThrow(/width/);
  });

  it('plays the file once, scaled, and completes when not looping', async () => {
    const { spawn, children } = spawner();
    const frames = await lastValueFrom(
      fileSource({ path: video, loop: false, width: 32, height: 24, fps: 25, ffmpeg, spawn }).pipe(toArray()),
    );
    // The file's 10 frames, no more and no fewer: `-r 25` is the file's own rate, so ffmpeg's rate conversion
    // (on timestamps, not on the clock) neither duplicates nor drops, and `-re` only paces the reading. Both ffmpeg
    // 4.1 and 5.1 give 10; a loaded machine only makes them come later.
    expect(frames).toHaveLength(10);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    expect(frames.every((f) => f.width === 32 && f.height === 24 && f.data.length === 1152)).toBe(true);
    // Mid-grey survives the round trip through MPEG-1 within a few levels.
    expect(Math.abs(frames[0].data[0] - 126)).toBeLessThan(8);
    expect(children[0].exitCode).toBe(0);
  });

  it('loops past the end of the file and kills ffmpeg on unsubscribe', async () => {
    const { spawn, children } = spawner();
    const frames = await lastValueFrom(
      fileSource({ path: video, width: 32, height: 24, fps: 25, ffmpeg, spawn }).pipe(take(15), toArray()),
    );
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    expect(frames).toHaveLength(15);
    const pid = children[0].pid!;
    await exited(children[0]);
    expect(pidGone(pid)).toBe(true);
  });

  it('fails naming ffmpeg, with its complaint, when the file is missing', async () => {
    const missing = join(dir, 'missing.mp4');
    const err = await firstValueFrom(fileSource({ path: missing, width: 32, height: 24, fps: 25, ffmpeg, spawn: spawner().spawn })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChildProcessError);
    expect((err as ChildProcessError).message).toMatch(new RegExp(`^${ffmpeg} exited with code \\d+`));
    expect((err as ChildProcessError).stderr.join('\n')).toContain(missing);
  });
});
