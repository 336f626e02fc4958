import {
  createEncoderCounters,
  encoderArgs,
  MPEG1_FRAME_RATES,
  validateEncoderOptions,
  type EncoderOptions,
} from '../../src/encoder/encoder-options';

const base: EncoderOptions = { width: 640, height: 480, fps: 24 };

/** The value after `flag` in `args` (undefined when the flag is absent). */
const after = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
};

describe('encoderArgs', () => {
  it('reads raw I420 of the frame size and rate from stdin and writes MPEG-1 in mpjpeg framing to stdout', () => {
    const args = encoderArgs(base, true);
    expect(args.slice(args.indexOf('-f'), args.indexOf('-i') + 2)).toEqual(
      '-f rawvideo -pix_fmt yuv420p -video_size 640x480 -framerate 24 -i pipe:0'.split(' '),
    );
    expect(after(args, '-c:v')).toBe('mpeg1video');
    expect(args.slice(-3)).toEqual(['-f', 'mpjpeg', 'pipe:1']);
    expect(after(args, '-flush_packets')).toBe('1');
    expect(args).toContain('-an');
  });

  it('sets the low-delay flags: no B pictures, +low_delay, strict unofficial', () => {
    const args = encoderArgs(base, true);
    expect(after(args, '-bf')).toBe('0');
    expect(after(args, '-flags')).toBe('+low_delay');
    expect(after(args, '-strict')).toBe('unofficial');
  });

  it('uses -fps_mode passthrough where the binary knows it, else -vsync passthrough', () => {
    const modern = encoderArgs(base, true);
    expect(after(modern, '-fps_mode')).toBe('passthrough');
    expect(modern).not.toContain('-vsync');
    const old = encoderArgs(base, false);
    expect(after(old, '-vsync')).toBe('passthrough');
    expect(old).not.toContain('-fps_mode');
  });

  it('defaults to 800 kbit/s, takes a bitrate, and a quality instead of a bitrate', () => {
    expect(after(encoderArgs(base, true), '-b:v')).toBe('800k');
    expect(after(encoderArgs({ ...base, bitrate: 1500 }, true), '-b:v')).toBe('1500k');
    const q = encoderArgs({ ...base, bitrate: 1500, quality: 5 }, true);
    expect(after(q, '-q:v')).toBe('5');
    expect(q).not.toContain('-b:v');
  });

  it('defaults the GOP to the rounded frame rate (one I picture a second) and takes an explicit one', () => {
    expect(after(encoderArgs(base, true), '-g')).toBe('24');
    expect(after(encoderArgs({ ...base, fps: 30000 / 1001 }, true), '-g')).toBe('30');
    expect(after(encoderArgs({ ...base, fps: 24000 / 1001 }, true), '-g')).toBe('24');
    expect(after(encoderArgs({ ...base, fps: 2, allowNonstandardFps: true }, true), '-g')).toBe('2');
    expect(after(encoderArgs({ ...base, gop: 12 }, true), '-g')).toBe('12');
  });

  it('adds the full→limited range scale filter only for full-range input', () => {
    expect(after(encoderArgs({ ...base, fullRange: true }, true), '-vf')).toBe('scale=in_range=full:out_range=limited');
    expect(encoderArgs(base, true)).not.toContain('-vf');
  });

  it('passes threads only when given', () => {
    expect(after(encoderArgs({ ...base, threads: 2 }, true), '-threads')).toBe('2');
    expect(encoderArgs(base, true)).not.toContain('-threads');
  });

  it('passes the input rate through as given', () => {
    expect(after(encoderArgs({ ...base, fps: 30000 / 1001 }, true), '-framerate')).toBe(String(30000 / 1001));
  });
});

describe('validateEncoderOptions', () => {
  const check = (o: Partial<EncoderOptions>) => () => validateEncoderOptions({ ...base, ...o });

  it('accepts the defaults and every MPEG-1 rate', () => {
    expect(check({})).not.toThrow();
    for (const fps of MPEG1_FRAME_RATES) expect(check({ fps })).not.toThrow();
    expect(check({ fps: 23.976 })).not.toThrow();
  });

  it('rejects odd or out-of-range sizes, naming the dimension', () => {
    expect(check({ width: 641 })).toThrow('encoder width must be an even whole number from 2 to 4094, got 641');
    expect(check({ height: 479 })).toThrow('encoder height must be an even whole number from 2 to 4094, got 479');
    expect(check({ width: 4096 })).toThrow(/encoder width/);
  });

  it('rejects rates MPEG-1 cannot code, pointing at allowNonstandardFps', () => {
    expect(check({ fps: 15 })).toThrow(
      'encoder fps must be from 23.976 to 60 (the rates MPEG-1 can code), got 15; ' +
        'allow lower rates with allowNonstandardFps (--allow-nonstandard-fps)',
    );
    expect(check({ fps: 61 })).toThrow(/encoder fps must be from 23\.976 to 60.*got 61/);
    expect(check({ fps: Number.NaN })).toThrow(/encoder fps/);
  });

  it('accepts low rates with allowNonstandardFps, still not above 60 or below 1', () => {
    expect(check({ fps: 15, allowNonstandardFps: true })).not.toThrow();
    expect(check({ fps: 1, allowNonstandardFps: true })).not.toThrow();
    expect(check({ fps: 61, allowNonstandardFps: true })).toThrow('encoder fps must be from 1 to 60, got 61');
    expect(check({ fps: 0.5, allowNonstandardFps: true })).toThrow('encoder fps must be from 1 to 60, got 0.5');
  });

  it('rejects a quality outside 2–31 or not whole', () => {
    expect(check({ quality: 1 })).toThrow('encoder quality must be a whole number from 2 to 31, got 1');
    expect(check({ quality: 32 })).toThrow(/encoder quality/);
    expect(check({ quality: 4.5 })).toThrow(/encoder quality/);
    expect(check({ quality: 2 })).not.toThrow();
    expect(check({ quality: 31 })).not.toThrow();
  });

  it('rejects a bitrate outside 16–100000 kbit/s', () => {
    expect(check({ bitrate: 5 })).toThrow('encoder bitrate must be 16–100000 kbit/s, got 5');
    expect(check({ bitrate: 100_001 })).toThrow(/encoder bitrate/);
    expect(check({ bitrate: 16 })).not.toThrow();
  });

  it('rejects a bad gop or thread count, naming it', () => {
    expect(check({ gop: 0 })).toThrow('encoder gop must be a whole number from 1 to 600, got 0');
    expect(check({ gop: 1.5 })).toThrow(/encoder gop/);
    expect(check({ threads: 17 })).toThrow('encoder threads must be a whole number from 1 to 16, got 17');
    expect(check({ gop: 1, threads: 1 })).not.toThrow();
  });
});

describe('createEncoderCounters', () => {
  it('starts at zero, fresh each time', () => {
    const a = createEncoderCounters();
    expect(a).toEqual({ framesIn: 0, framesDropped: 0, pictures: 0 });
    a.framesIn++;
    expect(createEncoderCounters().framesIn).toBe(0);
  });
});
