import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { h264 } from '../../src/codecs/h264/h264-codec';
import type { H264Picture } from '../../src/codecs/h264/h264-picture';
import { NAL_TYPE, nalType, nalUnits } from '../../src/codecs/h264/nal';
import { mpeg1 } from '../../src/codecs/mpeg1/mpeg1-codec';
import type { Picture } from '../../src/picture';
import { minFreeBytes, Recorder, type RecorderOptions } from '../../src/recording/recorder';
import { nodeRecorderFs, type RecorderFs } from '../../src/recording/recorder-fs';
import { x264Packets } from '../helpers/h264-streams';
import { pic } from '../helpers/pictures';
import { decodeFile, mpeg1Pictures, segmentFiles, T0, tsLayout } from '../helpers/recordings';

type LogLine = { level: string; message: string };

function setup(codec: { id: string; label: string } = mpeg1, options: Partial<RecorderOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pistream-rec-'));
  const pictures = new Subject<Picture>();
  const logs: LogLine[] = [];
  const recorder = new Recorder(
    { pictures$: pictures, codec },
    { dir, segmentMs: 1000, log: (level, message) => logs.push({ level, message }), ...options },
  );
  recorder.start();
  return { dir, pictures, logs, recorder };
}

/** Moves a virtual clock to `to`, running every timer due on the way. */
function advance(scheduler: VirtualTimeScheduler, to: number): void {
  scheduler.maxFrames = to;
  scheduler.flush();
  scheduler.frame = to;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('Recorder: segments', () => {
  it('cuts MPEG-TS segments at the first keyframe after the segment length; each plays in ffmpeg, whole, from a keyframe', async () => {
    const all = await mpeg1Pictures(60, 12);
    const { dir, pictures, recorder } = setup();
    dirs.push(dir);
    for (const picture of all) pictures.next(picture);
    await recorder.stop();

    // Keyframes every 12 pictures = 0.5 s; cuts at the keyframes 1.0 s and 2.0 s in: 24 + 24 + 12 pictures.
    const files = segmentFiles(dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual([
      'pistream-20250114T093000.000Z.ts',
      'pistream-20250114T093001.000Z.ts',
      'pistream-20250114T093002.000Z.ts',
    ]);
    const counts = [24, 24, 12];
    for (const [i, file] of files.entries()) {
      const layout = tsLayout(readFileSync(file));
      expect(layout).toMatchObject({ startsWithTables: true, firstIsKeyframe: true, pictures: counts[i] });
      expect(layout.keyframes).toBe(counts[i]! / 12);
      expect(await decodeFile(file)).toEqual({ pictures: counts[i], errors: '' });
    }
    expect(recorder.stats).toMatchObject({ segments: 3, dropped: 0, failures: 0 });

    const list = await recorder.list();
    expect(list.map((entry) => [entry.startMs - T0, Math.round(entry.endMs - entry.startMs), entry.open])).toEqual([
      [0, 1000, false],
      [1000, 1000, false],
      [2000, 500, false],
    ]);
    expect(list.map((entry) => entry.size)).toEqual(files.map((file) => statSync(file).size));
  });

  it('writes H.264 as fragmented MP4, one init segment per file, that ffmpeg plays whole', async () => {
    const units = await x264Packets({ frames: 48, gop: 12, width: 320, height: 240 });
    const all: H264Picture[] = units.map((data, i) => ({
      data,
      codec: 'h264',
      codecString: 'avc1.42C00D',
      keyframe: nalUnits(data).some((nal) => nalType(nal) === NAL_TYPE.idr),
      seq: i,
      capturedAt: T0 + Math.round((i * 1000) / 24),
      width: 320,
      height: 240,
    }));
    const { dir, pictures, recorder } = setup(h264);
    dirs.push(dir);
    for (const picture of all) pictures.next(picture);
    await recorder.stop();

    const files = segmentFiles(dir);
    expect(files.map((f) => f.slice(-8))).toEqual(['000Z.mp4', '000Z.mp4']);
    for (const file of files) {
      const bytes = readFileSync(file);
      expect(bytes.toString('latin1', 4, 8)).toBe('ftyp');
      expect(bytes.toString('latin1').split('moov').length - 1).toBe(1);
      expect(await decodeFile(file)).toEqual({ pictures: 24, errors: '' });
    }
  });

  it('never queues without bound: a disk slower than the stream drops pictures up to the next keyframe', async () => {
    const all = await mpeg1Pictures(60, 12);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let waiting = 0;
    const slowFs: RecorderFs = {
      ...nodeRecorderFs,
      create: async (path) => {
        const file = await nodeRecorderFs.create(path);
        return {
          ...file,
          write: async (bytes) => {
            waiting += bytes.length;
            await gate;
            await file.write(bytes);
          },
        };
      },
    };
    const pictureBytes = Math.max(...all.map((p) => p.data.length));
    const { dir, pictures, recorder } = setup(mpeg1, { fs: slowFs, segmentMs: 60_000, maxQueuedBytes: 20 * pictureBytes });
    dirs.push(dir);
    for (const picture of all) pictures.next(picture);
    // The disk has taken nothing yet: what waits is bounded by maxQueuedBytes (muxing adds a few % of TS overhead).
    await new Promise((resolve) => setImmediate(resolve));
    expect(waiting).toBeLessThanOrEqual(20 * pictureBytes * 1.1);
    expect(recorder.stats.dropped).toBeGreaterThan(0);
    release();
    await recorder.stop();

    const [file] = segmentFiles(dir);
    const layout = tsLayout(readFileSync(file!));
    expect(layout.pictures).toBe(60 - recorder.stats.dropped);
    // Dropping resumed only at keyframes, so what was written decodes without a missing reference.
    expect(await decodeFile(file!)).toEqual({ pictures: layout.pictures, errors: '' });
  });
});

describe('Recorder: a failing disk', () => {
  it('stops on ENOSPC with one log line and a problem, retries on its timer, and resumes in a new segment', async () => {
    const all = await mpeg1Pictures(96, 12);
    let full = false;
    const fullFs: RecorderFs = {
      ...nodeRecorderFs,
      create: async (path) => {
        const file = await nodeRecorderFs.create(path);
        return {
          ...file,
          write: async (bytes) => {
            if (full) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
            await file.write(bytes);
          },
        };
      },
    };
    const scheduler = new VirtualTimeScheduler();
    const { dir, pictures, logs, recorder } = setup(mpeg1, { fs: fullFs, scheduler, retryMs: 5000 });
    dirs.push(dir);
    const feed = async (from: number, to: number) => {
      for (const picture of all.slice(from, to)) pictures.next(picture);
      await recorder.settled();
    };

    await feed(0, 30); // segment 1: pictures 0–23; segment 2 opened at 24
    expect(recorder.problem).toBeUndefined();
    full = true;
    await feed(30, 48);
    expect(recorder.problem).toMatch(/^recording stopped: ENOSPC: no space left on device, write; retrying every 5 s$/);
    expect(logs.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(recorder.stats.failures).toBe(1);

    // The retry comes after 5 s (virtual), at the next keyframe; the disk is still full: no second line.
    advance(scheduler, 5000);
    await feed(48, 62);
    expect(recorder.problem).toMatch(/ENOSPC/);
    expect(logs.filter((l) => l.level === 'warn')).toHaveLength(1);

    // Space is back: after the next retry, recording resumes at a keyframe and says so once.
    full = false;
    await feed(62, 72); // before the timer: still stopped
    expect(recorder.problem).toMatch(/ENOSPC/);
    advance(scheduler, 10_000);
    await feed(72, 96);
    expect(recorder.problem).toBeUndefined();
    expect(logs.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(logs[1]!.message).toMatch(/^recording resumed: writing .*pistream-20250114T093003\.000Z\.ts$/);
    await recorder.stop();

    // What was written before the failure plays; the retry on a full disk left no empty file behind.
    const files = segmentFiles(dir).map((f) => f.slice(dir.length + 1));
    expect(files).toEqual(['pistream-20250114T093000.000Z.ts', 'pistream-20250114T093001.000Z.ts', 'pistream-20250114T093003.000Z.ts']);
    const played = await Promise.all(segmentFiles(dir).map(decodeFile));
    expect(played).toEqual([
      { pictures: 24, errors: '' },
      { pictures: 6, errors: '' },
      { pictures: 24, errors: '' },
    ]);
  });

  it('degrades when the directory cannot be made (a file is in the way) and recovers when it can', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'pistream-rec-'));
    dirs.push(parent);
    const dir = join(parent, 'blocked');
    const { writeFileSync, unlinkSync } = await import('node:fs');
    writeFileSync(dir, 'not a directory');
    const scheduler = new VirtualTimeScheduler();
    const pictures = new Subject<Picture>();
    const logs: LogLine[] = [];
    const recorder = new Recorder(
      { pictures$: pictures, codec: mpeg1 },
      { dir, segmentMs: 1000, scheduler, log: (level, message) => logs.push({ level, message }) },
    );
    recorder.start();
    const all = await mpeg1Pictures(48, 12);
    for (const picture of all.slice(0, 12)) pictures.next(picture);
    await recorder.settled();
    expect(recorder.problem).toMatch(/^recording stopped: EEXIST: file already exists, mkdir .*blocked.*; retrying every 5 s$/);

    unlinkSync(dir);
    advance(scheduler, 5000);
    for (const picture of all.slice(12, 48)) pictures.next(picture);
    await recorder.stop();
    expect(recorder.problem).toBeUndefined();
    expect(logs.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(await Promise.all(segmentFiles(dir).map(decodeFile))).toEqual([
      { pictures: 24, errors: '' },
      { pictures: 12, errors: '' },
    ]);
  });
});

describe('Recorder: retention (virtual clock)', () => {
  /** Stand-in pictures at 10 fps, a keyframe each second: one segment per second of capture time from 0. */
  const at = (i: number): Picture => ({ ...pic(i % 10 === 0 ? 'I' : 'P', i), capturedAt: i * 100 });

  async function run(policy: Partial<RecorderOptions>, seconds: number) {
    const scheduler = new VirtualTimeScheduler();
    const setupResult = setup(mpeg1, { scheduler, fps: 10, retentionCheckMs: 1000, ...policy });
    dirs.push(setupResult.dir);
    for (let i = 0; i < seconds * 10; i++) {
      advance(scheduler, i * 100);
      setupResult.pictures.next(at(i));
      await setupResult.recorder.settled();
    }
    const names = async () => (await setupResult.recorder.list()).map((e) => e.startMs / 1000);
    return { ...setupResult, scheduler, names };
  }

  it('deletes segments whose footage is older than keepMs, oldest first, at each cut and on its timer', async () => {
    const { recorder, scheduler, names } = await run({ keepMs: 2500 }, 7);
    // Now 6.9 s: segments 0–6 made; at the last cut (6 s) those ending by 3.5 s went; the timer has not run since.
    expect(await names()).toEqual([3, 4, 5, 6]);
    advance(scheduler, 7000);
    await recorder.settled();
    expect(await names()).toEqual([4, 5, 6]); // 3–4 s ended more than 2.5 s before 7 s; 4–5 s did not
    // No more pictures (a stalled camera): the timer still deletes by age, but never the open segment.
    advance(scheduler, 20_000);
    await recorder.settled();
    expect(await names()).toEqual([6]);
    await recorder.stop();
  });

  it('deletes the oldest segments while all of them take more than maxBytes, never the open one', async () => {
    const size = (await mpeg1PictureSegmentSize()) * 2.5;
    const { recorder, names, scheduler } = await run({ maxBytes: Math.floor(size) }, 7);
    // At the last cut (6 s) the open segment was one picture: two closed ones and it fit.
    expect(await names()).toEqual([4, 5, 6]);
    // The open one has grown to a full second since; the timer's next pass makes room again.
    advance(scheduler, 7000);
    await recorder.settled();
    expect(await names()).toEqual([5, 6]);
    const total = (await recorder.list()).reduce((sum, e) => sum + e.size, 0);
    expect(total).toBeLessThanOrEqual(size);
    await recorder.stop();

    const tiny = await run({ maxBytes: 10 }, 3);
    expect(await tiny.names()).toEqual([2]);
    await tiny.recorder.stop();
  });

  /** Bytes of one closed second of {@link at} pictures, as the recorder writes it. */
  async function mpeg1PictureSegmentSize(): Promise<number> {
    const { recorder, dir } = await run({}, 2);
    await recorder.stop();
    return statSync(segmentFiles(dir)[0]!).size;
  }
});

describe('Recorder: fsync of the open segment and the free-space floor (virtual clock)', () => {
  const at = (i: number): Picture => ({ ...pic(i % 10 === 0 ? 'I' : 'P', i), capturedAt: i * 100 });

  /** The real file system, counting fsyncs of segment files, with a disk whose free space the test sets. */
  function countingFs(disk: { free: number; total: number }) {
    const syncs: number[] = [];
    const fs: RecorderFs = {
      ...nodeRecorderFs,
      create: async (path) => {
        const file = await nodeRecorderFs.create(path);
        return { ...file, sync: () => (syncs.push(Date.now()), file.sync()) };
      },
      statfs: async () => disk,
    };
    return { fs, syncs };
  }

  it('fsyncs the segment being written every syncMs while it gets pictures, not while it gets none', async () => {
    const scheduler = new VirtualTimeScheduler();
    const { fs, syncs } = countingFs({ free: 1e12, total: 2e12 });
    const { dir, pictures, recorder } = setup(mpeg1, { scheduler, fps: 10, fs, syncMs: 2000, segmentMs: 60_000 });
    dirs.push(dir);
    for (let i = 0; i < 50; i++) {
      advance(scheduler, i * 100);
      pictures.next(at(i));
      await recorder.settled();
    }
    // 5 s of pictures in one open segment: synced at 2 s and 4 s.
    expect(syncs).toHaveLength(2);
    // No pictures for 10 s: nothing new to sync.
    advance(scheduler, 15_000);
    await recorder.settled();
    expect(syncs).toHaveLength(3); // the bytes of 4–5 s, once
    await recorder.stop();
  });

  it('deletes the oldest segments while the disk has less free than minFree, never the open one', async () => {
    const scheduler = new VirtualTimeScheduler();
    const disk = { free: 1e12, total: 2e12 };
    const { fs } = countingFs(disk);
    const { dir, pictures, recorder } = setup(mpeg1, { scheduler, fps: 10, fs, retentionCheckMs: 1000, minFree: '5%' });
    dirs.push(dir);
    for (let i = 0; i < 50; i++) {
      advance(scheduler, i * 100);
      pictures.next(at(i));
      await recorder.settled();
    }
    const names = async () => (await recorder.list()).map((e) => e.startMs / 1000);
    expect(await names()).toEqual([0, 1, 2, 3, 4]);
    // The disk fills from elsewhere: 1 byte short of 5 % free. The oldest segment frees enough.
    disk.free = 0.05 * disk.total - 1;
    advance(scheduler, 6000);
    await recorder.settled();
    expect(await names()).toEqual([1, 2, 3, 4]);
    // Far short: everything but the open segment goes.
    disk.free = 0;
    advance(scheduler, 7000);
    await recorder.settled();
    expect(await names()).toEqual([4]);
    await recorder.stop();
  });

  it('minFreeBytes: bytes as they are, a percentage of the disk', () => {
    expect(minFreeBytes(1024, 1e9)).toBe(1024);
    expect(minFreeBytes('5%', 1000)).toBe(50);
    expect(minFreeBytes('0.5%', 1000)).toBe(5);
  });
});
