import { firstValueFrom, take, toArray } from 'rxjs';
import { audioEncoderArgs, encodeAudio } from '../../src/audio/encode-audio';
import { mp2 } from '../../src/audio/mp2';
import { PCM, wavHeader } from '../../src/audio/pcm';
import { testTone } from '../../src/audio/test-tone';
import { probeFfmpeg, resolveFfmpeg } from '../../src/process/ffmpeg-path';

jest.setTimeout(60_000);

/** The value after `flag` in `args`. */
const after = (args: readonly string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

describe('the sound encoder reads PCM in small packets where the binary can', () => {
  it('gives ffmpeg WAV read in 1 KiB packets with wavInput, raw s16le without', () => {
    const wav = audioEncoderArgs(mp2, 64, true);
    expect(after(wav, '-f')).toBe('wav');
    expect(after(wav, '-max_size')).toBe('1024');
    expect(wav.indexOf('-max_size')).toBeLessThan(wav.indexOf('-i'));
    const raw = audioEncoderArgs(mp2, 64);
    expect(after(raw, '-f')).toBe(PCM.ffmpegFormat);
    expect(raw).not.toContain('-max_size');
    // Both flush each frame out of ffmpeg at once.
    for (const args of [wav, raw]) expect(after(args, '-flush_packets')).toBe('1');
  });

  it('writes a WAV header for an endless stream of the one PCM layout', () => {
    const header = wavHeader();
    expect(header).toHaveLength(44);
    expect(header.toString('latin1', 0, 4)).toBe('RIFF');
    expect(header.toString('latin1', 8, 16)).toBe('WAVEfmt ');
    expect(header.toString('latin1', 36, 40)).toBe('data');
    expect(header.readUInt32LE(40)).toBe(0xffffffff);
    expect({
      format: header.readUInt16LE(20),
      channels: header.readUInt16LE(22),
      rate: header.readUInt32LE(24),
      bits: header.readUInt16LE(34),
    }).toEqual({ format: 1, channels: PCM.channels, rate: PCM.sampleRate, bits: PCM.bytesPerSample * 8 });
  });

  it('encodes the test tone through the input this ffmpeg takes: whole MP2 frames stamped 24 ms apart (where the beep lands: spec/audio/audio-stream.spec.ts)', async () => {
    const ffmpeg = resolveFfmpeg().path;
    const { wavMaxSize } = await probeFfmpeg(ffmpeg);
    const frames = await firstValueFrom(
      testTone().pipe(encodeAudio(mp2, { ffmpeg, bitrateKbps: 64, wavInput: wavMaxSize }), take(60), toArray()),
    );
    expect(frames.every((frame) => frame.data.length === 192 && frame.data[0] === 0xff)).toBe(true);
    const steps = frames.slice(1).map((frame, i) => frame.capturedAt - frames[i]!.capturedAt);
    for (const step of steps) expect(step).toBeCloseTo(24, 6);
  });
});
