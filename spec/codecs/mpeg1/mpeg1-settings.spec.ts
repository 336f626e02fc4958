import type { EncoderSettings } from '../../../src/codecs/codec';
import { checkEncoderSettings } from '../../../src/codecs/encoder-settings';
import { MPEG1_FRAME_RATES, MPEG1_NONSTANDARD_RATES, frameRateText, matchMpeg1Rate } from '../../../src/codecs/mpeg1/frame-rates';
import { mpeg1Settings } from '../../../src/codecs/mpeg1/mpeg1-settings';

const base: EncoderSettings = { width: 640, height: 480, fps: 24 };

// The one rule for MPEG-1 settings: the encoder, the plugin's options and the CLI all go through this schema.
describe('mpeg1Settings (checkEncoderSettings)', () => {
  const check = (o: Partial<EncoderSettings>) => () => checkEncoderSettings(mpeg1Settings, { ...base, ...o });

  it('accepts the defaults and every MPEG-1 rate, converting the usual roundings to the exact rate', () => {
    expect(check({})).not.toThrow();
    for (const [num, den] of MPEG1_FRAME_RATES) expect(check({ fps: num / den })).not.toThrow();
    expect(checkEncoderSettings(mpeg1Settings, { ...base, fps: 29.97 }).fps).toBe(30000 / 1001);
    expect(checkEncoderSettings(mpeg1Settings, { ...base, fps: 23.976 }).fps).toBe(24000 / 1001);
    expect(checkEncoderSettings(mpeg1Settings, { ...base, fps: 59.94 }).fps).toBe(60000 / 1001);
  });

  it('rejects odd or out-of-range sizes, naming the dimension', () => {
    expect(check({ width: 641 })).toThrow('encoder width must be an even whole number from 2 to 4094, got 641');
    expect(check({ height: 479 })).toThrow('encoder height must be an even whole number from 2 to 4094, got 479');
    expect(check({ width: 4096 })).toThrow(/encoder width/);
  });

  it('rejects rates MPEG-1 cannot code, pointing at the nonstandard switch', () => {
    expect(check({ fps: 15 })).toThrow(
      /^encoder fps must be one of MPEG-1's frame rates: .* \(5, 10, 12 or 15 only with --allow-nonstandard-fps\), got 15$/,
    );
    expect(check({ fps: 61 })).toThrow(/encoder fps must be one of MPEG-1's frame rates.*got 61/);
    expect(check({ fps: 20, allowNonstandardFps: true })).toThrow(/encoder fps/);
    expect(check({ fps: Number.NaN })).toThrow(/encoder fps/);
  });

  it('accepts exactly the unofficial 5, 10, 12 and 15 with allowNonstandardFps', () => {
    for (const [fps] of MPEG1_NONSTANDARD_RATES) {
      expect(check({ fps, allowNonstandardFps: true })).not.toThrow();
      expect(check({ fps })).toThrow(/encoder fps/);
    }
    expect(check({ fps: 1, allowNonstandardFps: true })).toThrow(/encoder fps/);
  });

  it('rejects a quality outside 2–31 or not whole', () => {
    expect(check({ quality: 1 })).toThrow('encoder quality must be a whole number from 2 to 31, got 1');
    expect(check({ quality: 32 })).toThrow(/encoder quality/);
    expect(check({ quality: 4.5 })).toThrow(/encoder quality/);
    expect(check({ quality: 2 })).not.toThrow();
    expect(check({ quality: 31 })).not.toThrow();
  });

  it('rejects a bitrate outside 16–100000 kbit/s, and a bitrate together with a quality', () => {
    expect(check({ bitrate: 5 })).toThrow('encoder bitrate must be a whole number of kbit/s from 16 to 100000, got 5');
    expect(check({ bitrate: 100_001 })).toThrow(/encoder bitrate/);
    expect(check({ bitrate: 16 })).not.toThrow();
    expect(check({ bitrate: 800, quality: 4 })).toThrow(/bitrate and quality cannot be used together/);
  });

  it('rejects a bad gop or thread count, naming it', () => {
    expect(check({ gop: 0 })).toThrow('encoder gop must be a whole number of frames from 1 to 600, got 0');
    expect(check({ gop: 1.5 })).toThrow(/encoder gop/);
    expect(check({ threads: 17 })).toThrow('encoder threads must be a whole number from 1 to 16, got 17');
    expect(check({ gop: 1, threads: 1 })).not.toThrow();
  });
});

describe('MPEG-1 frame rates', () => {
  it('match within the usual rounding, and print as ffmpeg reads them', () => {
    expect(matchMpeg1Rate(29.97, false)).toEqual([30000, 1001]);
    expect(matchMpeg1Rate(29.9, false)).toBeUndefined();
    expect(matchMpeg1Rate(15, false)).toBeUndefined();
    expect(matchMpeg1Rate(15, true)).toEqual([15, 1]);
    expect(frameRateText(30000 / 1001)).toBe('30000/1001');
    expect(frameRateText(24)).toBe('24');
  });
});
