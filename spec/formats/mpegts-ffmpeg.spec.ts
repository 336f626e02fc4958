/**
 * Our TS against real tools: pictures that ffmpeg encoded, muxed by toMpegTs, then (a) demuxed and decoded by
 * ffmpeg, which must decode every frame to the same image as the raw elementary stream gives, and (b) fed to
 * JSMpeg's own TS demuxer, which must hand each picture to its decoder on that picture's own bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { from, lastValueFrom, toArray } from 'rxjs';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { describePicture, findStartCode, START_CODE } from '../../src/codecs/mpeg1/start-codes';
import type { Mpeg1Picture } from '../../src/codecs/mpeg1/mpeg1-picture';
import type { MuxedPicture } from '../../src/picture';
type Muxed = MuxedPicture<Mpeg1Picture>;
import { ptsOf, toMpegTs } from '../../src/formats/mpegts';
import { mpeg1Stream, mpeg1StreamArgs, type Mpeg1StreamOptions } from '../helpers/ffmpeg-stream';
import { jsmpegVideoDemuxer } from '../helpers/jsmpeg-node';
import { demuxPes } from '../helpers/mpegts-demux';

jest.setTimeout(60_000);

const running = new Set<ChildProcess>();
afterAll(() => {
  // Only if a test timed out mid-run: every run below waits for its process to exit.
  for (const child of running) child.kill('SIGKILL');
});

interface Run {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs ffmpeg with `input` on stdin; resolves once the process has exited and its pipes are closed. */
function runFfmpeg(args: readonly string[], input?: Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(resolveFfmpeg().path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {}); // EPIPE if ffmpeg gives up early: its exit code and stderr tell why
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

/**
 * Splits an elementary stream into pictures: a new picture starts at the first sequence, GOP or picture start code
 * after a slice (good enough for ffmpeg's output, where every picture ends in slices).
 */
function splitPictures(es: Buffer): Buffer[] {
  const pictures: Buffer[] = [];
  let start = 0;
  let sawSlice = false;
  for (let i = findStartCode(es); i >= 0; i = findStartCode(es, i + 3)) {
    const code = es[i + 3]!;
    if (code >= START_CODE.sliceFirst && code <= START_CODE.sliceLast) sawSlice = true;
    else if (sawSlice && (code === START_CODE.sequenceHeader || code === START_CODE.group || code === START_CODE.picture)) {
      pictures.push(es.subarray(start, i));
      start = i;
      sawSlice = false;
    }
  }
  pictures.push(es.subarray(start));
  return pictures;
}

const T0 = 1_700_000_000_000;

function toPictures(es: Buffer, fps: number): Mpeg1Picture[] {
  let width = 0;
  let height = 0;
  return splitPictures(es).map((data, seq) => {
    const info = describePicture(data);
    if (!info) throw new Error(`picture ${seq} has no picture header`);
    width = info.width ?? width;
    height = info.height ?? height;
    return {
      data,
      codec: 'mpeg1' as const,
      type: info.type,
      keyframe: info.keyframe,
      seq,
      capturedAt: T0 + (seq * 1000) / fps,
      width,
      height,
    };
  });
}

/** The per-frame CRCs (last column of ffmpeg's framecrc) of what ffmpeg decodes from `input` in `format`. */
async function decodedFrameCrcs(format: string, input: Buffer): Promise<{ crcs: string[]; stderr: string; code: number | null }> {
  const run = await runFfmpeg(['-hide_banner', '-v', 'error', '-nostdin', '-f', format, '-i', 'pipe:0', '-f', 'framecrc', 'pipe:1'], input);
  const crcs = run.stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(',').at(-1)!.trim());
  return { crcs, stderr: run.stderr, code: run.code };
}

interface Case {
  readonly name: string;
  readonly frames: number;
  /** Raw MPEG-1 elementary stream. */
  readonly stream: () => Promise<Buffer>;
  /** What the case is there for, checked so the case cannot quietly stop covering it. */
  readonly covers: (muxed: readonly Muxed[]) => void;
}

/** A still grey picture: its P pictures are a few dozen bytes, so each fits in one TS packet. */
async function stillStream(options: Mpeg1StreamOptions): Promise<Buffer> {
  const args = mpeg1StreamArgs(options).map((arg) => (arg.startsWith('testsrc2=') ? arg.replace('testsrc2=', 'color=c=gray:') : arg));
  const run = await runFfmpeg(args);
  if (run.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

const cases: Case[] = [
  {
    name: 'testsrc2 640x480, 48 pictures, GOP 24',
    frames: 48,
    stream: () => mpeg1Stream({ frames: 48, gop: 24, quality: 4 }),
    covers: (muxed) => {
      expect(muxed.filter((p) => p.keyframe)).toHaveLength(2);
      expect(muxed.filter((p) => p.type === 'P')).toHaveLength(46);
    },
  },
  {
    name: 'still grey 640x480: one-packet P pictures',
    frames: 24,
    stream: () => stillStream({ frames: 24, gop: 12 }),
    covers: (muxed) => {
      // Every P picture of a still picture is a few dozen bytes (78 from ffmpeg 4.1 and 5.1 alike, a fixed
      // quantizer on an offline encode: no clock involved), so each of the 22 goes out as one packet.
      const pictures = muxed.filter((p) => p.type === 'P');
      expect(pictures).toHaveLength(22);
      for (const p of pictures) expect(p.wire.length).toBe(188);
    },
  },
  {
    name: 'testsrc2 1280x720 at q 2: pictures over 64 KiB (PES_packet_length 0)',
    frames: 24,
    stream: () => mpeg1Stream({ frames: 24, gop: 12, width: 1280, height: 720, quality: 2 }),
    covers: (muxed) => {
      // At q 2 both I pictures are over 64 KiB (about 75 KiB from ffmpeg 4.1 and 5.1 alike; the P pictures
      // stay near 55 KiB): the case covers its reason whichever ffmpeg encoded it. Every long one, whatever its
      // type, must say PES_packet_length 0.
      const long = muxed.filter((p) => p.data.length > 0xffff);
      expect(muxed.filter((p) => p.keyframe).every((p) => p.data.length > 0xffff)).toBe(true);
      expect(long.length).toBeGreaterThanOrEqual(2);
      for (const p of long) expect(demuxPes(p.wire)[0]!.pesPacketLength).toBe(0);
    },
  },
];

describe.each(cases)('toMpegTs on real MPEG-1: $name', ({ frames, stream, covers }) => {
  let es: Buffer;
  let pictures: Mpeg1Picture[];
  let muxed: Muxed[];

  beforeAll(async () => {
    es = await stream();
    pictures = toPictures(es, 24);
    muxed = await lastValueFrom(from(pictures).pipe(toMpegTs(), toArray()));
  });

  it('splits into the frames that were encoded and covers its case', () => {
    expect(pictures).toHaveLength(frames);
    expect(Buffer.concat(pictures.map((p) => p.data)).equals(es)).toBe(true);
    expect(pictures[0]!.keyframe).toBe(true);
    covers(muxed);
  });

  it('is decoded by ffmpeg without an error, to the same frames as the elementary stream', async () => {
    const ts = Buffer.concat(muxed.map((p) => p.wire));
    // 'mpegvideo' is ffmpeg's demuxer for a raw MPEG-1/2 video elementary stream
    const [fromTs, fromEs] = await Promise.all([decodedFrameCrcs('mpegts', ts), decodedFrameCrcs('mpegvideo', es)]);
    expect({ code: fromTs.code, stderr: fromTs.stderr }).toEqual({ code: 0, stderr: '' });
    expect({ code: fromEs.code, stderr: fromEs.stderr }).toEqual({ code: 0, stderr: '' });
    expect(fromTs.crcs).toHaveLength(frames);
    expect(fromTs.crcs).toEqual(fromEs.crcs);
  });

  it('is handed to JSMpeg’s decoder picture by picture, each on its own bytes', () => {
    const jsmpeg = jsmpegVideoDemuxer();
    muxed.forEach((picture, k) => {
      jsmpeg.write(picture.wire);
      // Delivered now, not when the next picture's first packet arrives: that would cost a frame of latency.
      expect(jsmpeg.delivered).toHaveLength(k + 1);
      const delivered = jsmpeg.delivered[k]!;
      expect(delivered.data.length).toBe(picture.data.length);
      expect(delivered.data.equals(picture.data)).toBe(true);
      expect(delivered.pts).toBe(ptsOf(picture.capturedAt) / 90_000);
    });
  });
});
