import type { ChildProcess } from 'node:child_process';
import { filter, firstValueFrom, skip, take, toArray } from 'rxjs';
import { createHub } from '../src/hub';
import type { MuxedPicture } from '../src/picture';
import { testPattern } from '../src/sources/test-pattern';
import { exited, pidGone } from './helpers/recording-spawn';

/** PAT: sync byte, payload_unit_start with PID 0. JSMpeg needs it before it can find the video PID. */
const PAT_START = [0x47, 0x40, 0x00];

describe('createHub with the test pattern and a real ffmpeg', () => {
  const spawned: ChildProcess[] = [];

  afterAll(async () => {
    // Whatever happened above, no ffmpeg outlives this file.
    for (const child of spawned) child.kill('SIGKILL');
    await Promise.all(spawned.map(exited));
  });

  it('runs one ffmpeg for every subscriber, starts each at a keyframe, and stops it after the grace period', async () => {
    const hub = createHub({
      source: testPattern({ fps: 24 }),
      encoder: { width: 640, height: 480, fps: 24, gop: 12, onSpawn: (child) => spawned.push(child) },
      graceMs: 100,
    });
    const take$ = (n: number) => firstValueFrom(hub.stream('mpegts').pipe(take(n), toArray()));

    // Three subscribers at once, each for a GOP and a half.
    const early = Promise.all([take$(18), take$(18), take$(18)]);
    expect(hub.stats.subscribers).toBe(3);

    // Once the first GOP is three P pictures in, a fourth subscriber joins mid-GOP.
    const midGop = await firstValueFrom(
      hub.stream('mpegts').pipe(
        filter((p) => !p.keyframe),
        skip(2),
      ),
    );
    const late = await take$(4);
    const pictureLists: MuxedPicture[][] = [...(await early), late];

    expect(spawned).toHaveLength(1);
    // Each picture was muxed once for every subscriber: they hold the very same Buffer, not equal copies.
    const [a, b, c] = pictureLists as [MuxedPicture[], MuxedPicture[], MuxedPicture[]];
    a.forEach((picture, i) => {
      expect(b[i]!.wire).toBe(picture.wire);
      expect(c[i]!.wire).toBe(picture.wire);
    });
    for (const list of pictureLists) {
      const first = list[0]!;
      expect(first.keyframe).toBe(true);
      expect([...first.wire.subarray(0, 3)]).toEqual(PAT_START);
      expect(first.wire.length % 188).toBe(0);
    }
    // The late subscriber got the GOP it joined, from its keyframe, without waiting for the next one.
    expect(late[0]!.seq).toBeLessThan(midGop.seq);
    // …and then went on in order (seq may skip a frame the encoder dropped, never go back).
    for (let i = 1; i < late.length; i++) expect(late[i]!.seq).toBeGreaterThan(late[i - 1]!.seq);

    // Everyone has left: ffmpeg still runs through the grace period, then goes.
    expect(hub.stats.subscribers).toBe(0);
    expect(hub.stats.running).toBe(true);
    const ffmpeg = spawned[0]!;
    await exited(ffmpeg);
    expect(pidGone(ffmpeg.pid!)).toBe(true);
    expect(hub.stats.running).toBe(false);
    expect(spawned).toHaveLength(1);
  });
});
