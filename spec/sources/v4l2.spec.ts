import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { ChildProcessError } from '../../src/process/child-process';
import { v4l2, v4l2Args } from '../../src/sources/v4l2';
import { exited, pidGone, reap, recordingSpawn } from '../helpers/recording-spawn';

const ffmpeg = resolveFfmpeg().path;
const started: ReturnType<typeof recordingSpawn>[] = [];
function spawner() {
  const s = recordingSpawn();
  started.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => reap(s.children)));
});

describe('v4l2Args', () => {
  it('reads the device at the requested size and rate and writes raw I420 to stdout', () => {
    expect(v4l2Args({ width: 640, height: 480, fps: 30 }).join(' ')).toBe(
      '-hide_banner -nostdin -loglevel error -f v4l2 -video_size 640x480 -framerate 30 -i /dev/video0 ' +
        '-an -vf scale=640:480 -f rawvideo -pix_fmt yuv420p -flush_packets 1 -',
    );
  });

  it('asks for an input format and flips with filters (rotation 180 is both flips)', () => {
    const args = v4l2Args({
      device: '/dev/video2',
      inputFormat: 'mjpeg',
      width: 320,
      height: 240,
      fps: 15,
      hflip: true,
      rotation: 180,
    });
    expect(args.join(' ')).toContain('-f v4l2 -input_format mjpeg -video_size 320x240 -framerate 15 -i /dev/video2');
    expect(args[args.indexOf('-vf') + 1]).toBe('scale=320:240,vflip');
  });
});

describe('v4l2', () => {
  it('rejects bad options at once', () => {
    expect(() => v4l2({ width: 640, height: 480, fps: 30, rotation: 90 as 0 })).toThrow('v4l2 rotation must be 0 or 180');
  });

  it('emits frames scaled to the requested size (ffmpeg reading lavfi in place of a device), and kills ffmpeg on unsubscribe', async () => {
    const { spawn, children } = spawner();
    const frames = await lastValueFrom(
      v4l2({
        width: 32,
        height: 24,
        fps: 25,
        ffmpeg,
        spawn,
        input: ['-f', 'lavfi', '-i', 'color=c=black:size=64x48:rate=25'],
      }).pipe(take(3), toArray()),
    );
    expect(frames.map((f) => [f.seq, f.width, f.height, f.data.length])).toEqual([
      [0, 32, 24, 1152],
      [1, 32, 24, 1152],
      [2, 32, 24, 1152],
    ]);
    // Black in limited-range I420: Y 16, U and V 128.
    expect([...new Set(frames[0].data.subarray(0, 768))]).toEqual([16]);
    expect([...new Set(frames[0].data.subarray(768))]).toEqual([128]);
    const pid = children[0].pid!;
    await exited(children[0]);
    expect(pidGone(pid)).toBe(true);
  });

  it('fails naming ffmpeg, with its complaint, when the device is missing', async () => {
    const device = join(tmpdir(), 'pistream-no-such-video-device');
    const err = await firstValueFrom(v4l2({ device, width: 32, height: 24, fps: 25, ffmpeg, spawn: spawner().spawn })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChildProcessError);
    expect((err as ChildProcessError).message).toMatch(new RegExp(`^${ffmpeg} exited with code \\d+`));
    expect((err as ChildProcessError).stderr.join('\n')).toContain(device);
  });

  it('fails when ffmpeg is not there', async () => {
    const err = await firstValueFrom(v4l2({ width: 32, height: 24, fps: 25, ffmpeg: '/nonexistent/ffmpeg' })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ffmpeg not found or not executable at \/nonexistent\/ffmpeg/);
  });
});
