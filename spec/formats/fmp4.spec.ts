import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, take, toArray } from 'rxjs';
import { readBarcode } from '../../src/barcode';
import { encodeH264 } from '../../src/codecs/h264/encode-h264';
import type { H264Picture } from '../../src/codecs/h264/h264-picture';
import { yuv420Size } from '../../src/frame';
import { fmp4, Fmp4Muxer } from '../../src/formats/fmp4';
import { FMP4_TIMESCALE } from '../../src/formats/mp4-boxes';
import { probeFfmpeg, resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { testPattern } from '../../src/sources/test-pattern';

const W = 640;
const H = 480;

/** The top-level boxes of an MP4 byte string: [type, size]. */
function boxes(bytes: Buffer): [string, number][] {
  const out: [string, number][] = [];
  for (let at = 0; at < bytes.length;) {
    const size = bytes.readUInt32BE(at);
    out.push([bytes.toString('latin1', at + 4, at + 8), size]);
    if (size < 8) throw new Error(`box of size ${size} at ${at}`);
    at += size;
  }
  return out;
}

/** The payload of the first box of `type` anywhere below `bytes` (a depth-first walk of container boxes). */
function find(bytes: Buffer, path: readonly string[]): Buffer {
  let current = bytes;
  for (const type of path) {
    let at = 0;
    let found: Buffer | undefined;
    while (at + 8 <= current.length) {
      const size = current.readUInt32BE(at);
      if (current.toString('latin1', at + 4, at + 8) === type) {
        found = current.subarray(at + 8, at + size);
        break;
      }
      at += size;
    }
    if (!found) throw new Error(`no ${type} in ${path.join('/')}`);
    current = found;
  }
  return current;
}

let units: H264Picture[];
beforeAll(async () => {
  units = await lastValueFrom(
    testPattern({ width: W, height: H, fps: 24 }).pipe(take(36), encodeH264({ width: W, height: H, fps: 24, gop: 12 }), toArray()),
  );
}, 30_000);

describe('fMP4 for MSE', () => {
  it('puts the init segment (no duration, no mehd, avcC of the SPS) in front of each key unit, and one moof+mdat per unit', () => {
    const muxer = new Fmp4Muxer();
    const messages = units.map((u) => muxer.mux(u));
    messages.forEach((message, i) => {
      expect(boxes(message).map(([type]) => type)).toEqual(units[i]!.keyframe ? ['ftyp', 'moov', 'moof', 'mdat'] : ['moof', 'mdat']);
    });
    const moov = messages[0]!;
    const mvhd = find(moov, ['moov', 'mvhd']);
    expect(mvhd.readUInt32BE(16)).toBe(0); // duration 0: a live stream
    expect(() => find(moov, ['moov', 'mvex', 'mehd'])).toThrow('no mehd');
    const avcC = find(moov, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd']).subarray(8 + 8 + 78 + 8);
    // profile, compatibility, level: what the codec string says (avc1.42C01E).
    expect(avcC.subarray(1, 4).toString('hex').toUpperCase()).toBe(units[0]!.codecString.slice(5));
    // The same configuration: the same init segment bytes, made once.
    expect(messages[12]!.subarray(0, 100)).toEqual(messages[0]!.subarray(0, 100));
  });

  it('decode times follow the capture clock in 90 kHz ticks from the first picture, strictly increasing, with sync flags on key units only', () => {
    const muxer = new Fmp4Muxer();
    const times = units.map((u) => {
      const message = muxer.mux(u);
      const moof = message.subarray(
        u.keyframe
          ? boxes(message)
              .slice(0, 2)
              .reduce((n, [, s]) => n + s, 0)
          : 0,
      );
      const tfdt = find(moof, ['moof', 'traf', 'tfdt']);
      const trun = find(moof, ['moof', 'traf', 'trun']);
      return { time: Number(tfdt.readBigUInt64BE(4)), flags: trun.readUInt32BE(20) };
    });
    units.forEach((u, i) => {
      expect(times[i]!.time).toBe(Math.round((u.capturedAt - units[0]!.capturedAt) * (FMP4_TIMESCALE / 1000)));
      expect(times[i]!.flags).toBe(u.keyframe ? 0x02000000 : 0x01010000);
    });
  });

  it('ffmpeg reads what a viewer gets (from a key unit on) without an error: every picture, the barcode intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pistream-fmp4-'));
    try {
      const file = join(dir, 'viewer.mp4');
      const muxed = await lastValueFrom(fmp4.mux()(from(units)).pipe(toArray()));
      writeFileSync(file, Buffer.concat(muxed.map((m) => m.wire)));
      const ffmpeg = resolveFfmpeg().path;
      // One picture out per sample: the capture clock is not a constant rate, so variable rate on a ms time base.
      const vfr = (await probeFfmpeg(ffmpeg)).fpsMode ? ['-fps_mode', 'vfr'] : ['-vsync', 'vfr'];
      const { stdout, stderr } = await run(ffmpeg, [
        '-v',
        'error',
        '-i',
        file,
        ...vfr,
        '-r',
        '1000',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'yuv420p',
        'pipe:1',
      ]);
      expect(stderr).toBe('');
      const bytes = yuv420Size(W, H);
      expect(stdout.length).toBe(units.length * bytes);
      const barcodes = units.map((_, i) => readBarcode((x, row) => stdout[i * bytes + row * W + x]!));
      expect(barcodes).toEqual(units.map((u) => ({ frame: u.seq, time: u.capturedAt % 2 ** 32 })));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function run(command: string, args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr.toString()}`)) : resolve({ stdout, stderr: stderr.toString() }),
    ),
  );
}
