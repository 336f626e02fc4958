import { createEncoderCounters, type EncoderSettings } from '../../../src/codecs/codec';
import { encoderArgs } from '../../../src/codecs/mpeg1/encoder-args';

const base: EncoderSettings = { width: 640, height: 480, fps: 24 };

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

  it('passes the input rate as the exact fraction ffmpeg reads (30000/1001, not 29.97002997…)', () => {
    expect(after(encoderArgs({ ...base, fps: 30000 / 1001 }, true), '-framerate')).toBe('30000/1001');
    expect(after(encoderArgs({ ...base, fps: 24000 / 1001 }, true), '-framerate')).toBe('24000/1001');
    expect(after(encoderArgs({ ...base, fps: 25 }, true), '-framerate')).toBe('25');
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
