import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { H264_KBPS, HD, SD, label } from '../../bench/streams';
import { H264_DEFAULT_BITRATE } from '../../src/codecs/h264/encoder-args';

/** bench/README.md, its lines joined (a sentence may wrap anywhere). */
const readme = readFileSync(join(__dirname, '..', '..', 'bench', 'README.md'), 'utf8').replace(/\s*\n\s*/g, ' ');

describe('bench/README.md quotes the bitrates from their owners', () => {
  it("the bench's H.264 rates: H264_KBPS in bench/streams.ts", () => {
    const quoted = /\*\*(\d+) kbit\/s at (\S+), (\d+) at (\S+) and (\d+) at (\S+)\*\*, passed explicitly/.exec(readme);
    expect(quoted).not.toBeNull();
    const [, a, at, b, bt, c, ct] = quoted!;
    expect({ [at!]: Number(a), [bt!]: Number(b), [ct!]: Number(c) }).toEqual(H264_KBPS);
  });

  it("the codec's default: H264_DEFAULT_BITRATE, which the README does not confuse with the bench's rate", () => {
    const quoted = /at \*\*(\d+) kbit\/s\*\*, `H264_DEFAULT_BITRATE`/.exec(readme);
    expect(quoted).not.toBeNull();
    expect(Number(quoted![1])).toBe(H264_DEFAULT_BITRATE);
  });

  it("MPEG-1's streams: SD and HD in bench/streams.ts", () => {
    const quoted = /`bench\/streams.ts`, their one owner\): (\S+) at (\d+) kbit\/s and (\S+) at (\d+) kbit\/s/.exec(readme);
    expect(quoted).not.toBeNull();
    expect([quoted![1], Number(quoted![2]), quoted![3], Number(quoted![4])]).toEqual([
      label(SD),
      SD.bitrateKbps,
      label(HD),
      HD.bitrateKbps,
    ]);
  });
});
