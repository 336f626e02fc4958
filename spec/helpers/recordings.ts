import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, of, toArray } from 'rxjs';
import { splitPictures } from '../../src/codecs/mpeg1/split-pictures';
import type { Picture } from '../../src/picture';
import { mpeg1Stream } from './ffmpeg-stream';
import { demuxPes, tsPackets } from './mpegts-demux';

/** Capture time of the first picture of {@link mpeg1Pictures}: 2025-01-14T09:30:00.000Z. */
export const T0 = Date.UTC(2025, 0, 14, 9, 30, 0, 0);

/**
 * Real MPEG-1 pictures (ffmpeg's testsrc2 at 24 fps, a keyframe every `gop`), stamped with virtual capture times
 * from {@link T0} at 1/24 s apiece: pictures as the hub hands them out, with no clock involved.
 */
export async function mpeg1Pictures(frames: number, gop = 12, width = 320, height = 240): Promise<Picture[]> {
  const stream = await mpeg1Stream({ frames, gop, width, height });
  return firstValueFrom(
    of(stream).pipe(splitPictures({ meta: (i) => ({ seq: i, capturedAt: T0 + Math.round((i * 1000) / 24) }) }), toArray()),
  );
}

/**
 * How ffmpeg reads a recorded file: the number of pictures it decodes (`framemd5` lines) and whatever it said at
 * `-v error` (empty when it read the file without complaint).
 */
export async function decodeFile(path: string): Promise<{ pictures: number; errors: string }> {
  const { execFile } = await import('node:child_process');
  const { resolveFfmpeg } = await import('../../src/process/ffmpeg-path');
  return new Promise((resolve, reject) => {
    execFile(
      resolveFfmpeg().path,
      ['-hide_banner', '-v', 'error', '-i', path, '-an', '-vsync', 'passthrough', '-f', 'framemd5', 'pipe:1'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`ffmpeg could not read ${path}: ${err.message}\n${stderr}`));
        resolve({ pictures: stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length, errors: stderr.trim() });
      },
    );
  });
}

/**
 * Whether an MPEG-TS recording starts where a player can: PAT first, then PMT, and its first PES a keyframe
 * (an MPEG-1 sequence header), plus how many PES (pictures) it holds and how many of them are keyframes.
 */
export function tsLayout(file: Buffer): { startsWithTables: boolean; firstIsKeyframe: boolean; pictures: number; keyframes: number } {
  const packets = tsPackets(file);
  const pes = demuxPes(file);
  const isKey = (data: Buffer) => data.subarray(0, 4).equals(Buffer.from([0, 0, 1, 0xb3]));
  return {
    startsWithTables: packets[0]?.pid === 0 && packets[1]?.pid === 0x1000,
    firstIsKeyframe: pes.length > 0 && isKey(pes[0]!.data),
    pictures: pes.length,
    keyframes: pes.filter((unit) => isKey(unit.data)).length,
  };
}

/** The segment files in `dir`, sorted by name (= by start). */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith('pistream-'))
    .sort()
    .map((name) => join(dir, name));
}
