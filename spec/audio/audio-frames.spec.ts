import { aac } from '../../src/audio/aac';
import { AudioFrameSplitter, frameStart, SampleClock } from '../../src/audio/audio-frames';
import { mp2, mp2Bitrate } from '../../src/audio/mp2';
import { MpegTsMuxer, TS_PACKET_SIZE } from '../../src/formats/mpegts';

/** An MPEG-1 Layer II frame header at 64 kbit/s, 48 kHz: 144 000 · 64 / 48 000 = 192 bytes. */
const mp2Frame = (fill: number) => Buffer.concat([Buffer.from([0xff, 0xfd, 0x44, 0xc4]), Buffer.alloc(188, fill)]);
/** An ADTS frame (no CRC) of `length` bytes. */
function adtsFrame(length: number): Buffer {
  const frame = Buffer.alloc(length, 0x11);
  frame.set([0xff, 0xf1, 0x4c, 0x40 | ((length >> 11) & 0x03), (length >> 3) & 0xff, ((length & 0x07) << 5) | 0x1f, 0xfc]);
  return frame;
}

describe('audio frames', () => {
  it('cuts an encoder’s output into frames by their headers, across any chunk boundaries', () => {
    const stream = Buffer.concat([mp2Frame(1), mp2Frame(2), mp2Frame(3)]);
    for (const cut of [1, 3, 100, 192, 200, 500]) {
      const splitter = new AudioFrameSplitter(mp2);
      const frames = [...splitter.push(stream.subarray(0, cut)), ...splitter.push(stream.subarray(cut))];
      expect(frames.map((f) => f[4])).toEqual([1, 2, 3]);
      expect(frames.every((f) => f.length === 192)).toBe(true);
    }
    const adts = new AudioFrameSplitter(aac);
    expect(adts.push(Buffer.concat([adtsFrame(100), adtsFrame(37)])).map((f) => f.length)).toEqual([100, 37]);
  });

  it('refuses a stream that lost its framing', () => {
    expect(() => new AudioFrameSplitter(mp2).push(Buffer.from([0, 1, 2, 3, 4]))).toThrow(/no MP2 frame header at byte 0/);
    expect(() => new AudioFrameSplitter(aac).push(Buffer.alloc(9))).toThrow(/no ADTS header/);
  });

  it('MP2 takes the nearest bitrate of its list', () => {
    expect([16, 64, 70, 100, 500].map(mp2Bitrate)).toEqual([32, 64, 64, 96, 192]);
  });

  it('stamps frame k at input sample k·N − delay by the chunks written, a gap moving what follows', () => {
    const clock = new SampleClock();
    clock.wrote(960, 1000); // 20 ms from 1000
    clock.wrote(960, 1020);
    clock.wrote(960, 1100); // after a gap of 60 ms
    expect(clock.at(0)).toBe(1000);
    expect(clock.at(-48)).toBe(999); // the encoder's priming, before the first sample
    expect(clock.at(960 + 480)).toBe(1030);
    expect(clock.at(1920 + 48)).toBe(1101);
    expect(frameStart({ samplesPerFrame: 1024, encoderDelay: 1024 }, 1, clock)).toBe(1000);
    clock.forgetBefore(1920);
    expect(clock.at(1920)).toBe(1100);
  });
});

describe('MPEG-TS with a sound track', () => {
  const picture = { data: Buffer.alloc(3000, 7), codec: 'mpeg1', keyframe: true, seq: 0, capturedAt: 1000, width: 640, height: 480 };
  const frame = (at: number) => ({ data: mp2Frame(9), codec: 'mp2', capturedAt: at, durationMs: 24 });

  it('declares the audio PID in the PMT and writes the frames given with a picture before it, whole packets', () => {
    const muxer = new MpegTsMuxer({ audio: mp2.mpegts! });
    const out = muxer.mux(picture, [frame(950), frame(974)]);
    expect(out.length % TS_PACKET_SIZE).toBe(0);
    const packets = Array.from({ length: out.length / TS_PACKET_SIZE }, (_, i) =>
      out.subarray(i * TS_PACKET_SIZE, (i + 1) * TS_PACKET_SIZE),
    );
    const pid = (p: Buffer) => ((p[1]! & 0x1f) << 8) | p[2]!;
    expect(packets.map(pid).slice(0, 6)).toEqual([0, 0x1000, 0x101, 0x101, 0x101, 0x101]);
    // PMT: video (type 1, PID 0x100), then audio (type 3, PID 0x101).
    const pmt = packets[1]!;
    expect(pmt.subarray(17, 22)).toEqual(Buffer.from([0x01, 0xe1, 0x00, 0xf0, 0x00]));
    expect(pmt.subarray(22, 27)).toEqual(Buffer.from([0x03, 0xe1, 0x01, 0xf0, 0x00]));
    // Each frame one closed PES (00 00 01 C0, length 8 + 192) starting in a packet with PUSI; continuity counts on.
    const audio = packets.filter((p) => pid(p) === 0x101);
    expect(audio.map((p) => p[1]! & 0x40)).toEqual([0x40, 0, 0x40, 0]);
    expect(audio.map((p) => p[3]! & 0x0f)).toEqual([0, 1, 2, 3]);
    expect(audio[0]!.subarray(4, 10)).toEqual(Buffer.from([0, 0, 1, 0xc0, 0, 200]));
    expect(packets.slice(6).every((p) => pid(p) === 0x100)).toBe(true);
  });

  it('without an audio track, the frames are ignored and the stream is as before', () => {
    expect(new MpegTsMuxer().mux(picture, [frame(950)])).toEqual(new MpegTsMuxer().mux(picture));
  });
});
