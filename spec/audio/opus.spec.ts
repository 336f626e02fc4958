import { firstValueFrom, take, toArray } from 'rxjs';
import { encodeAudio } from '../../src/audio/encode-audio';
import { opus, opusAccessUnits, opusBitrate, OpusTsSplitter } from '../../src/audio/opus';
import { testTone } from '../../src/audio/test-tone';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';

jest.setTimeout(60_000);

/** One TS packet of PID 0x100 carrying `payload` (stuffed with an adaptation field to 188 bytes). */
function tsPacket(payload: Buffer, unitStart: boolean): Buffer {
  const stuffing = 184 - payload.length;
  const head = Buffer.from([0x47, (unitStart ? 0x40 : 0) | 0x01, 0x00, stuffing > 0 ? 0x30 : 0x10]);
  const adaptation = stuffing > 0 ? Buffer.concat([Buffer.from([stuffing - 1]), Buffer.alloc(stuffing - 1, 0xff)]) : Buffer.alloc(0);
  if (stuffing > 1) adaptation[1] = 0x00; // adaptation flags
  return Buffer.concat([head, adaptation, payload]);
}

/** A PES (private stream 1) holding `packets` behind Opus control headers, the first with a start trim. */
function opusPes(packets: Buffer[]): Buffer {
  const units = packets.map((packet, i) => {
    const sizeBytes = [...Array<number>(Math.floor(packet.length / 255)).fill(0xff), packet.length % 255];
    const trim = i === 0 ? [0x01, 0x38] : [];
    return Buffer.concat([Buffer.from([0x7f, i === 0 ? 0xf0 : 0xe0, ...sizeBytes, ...trim]), packet]);
  });
  const body = Buffer.concat([Buffer.from([0x80, 0x80, 0x05, 0x21, 0x00, 0x01, 0x00, 0x01]), ...units]);
  const head = Buffer.from([0x00, 0x00, 0x01, 0xbd, 0, 0]);
  head.writeUInt16BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** What a TOC byte (RFC 6716 §3.1) says a packet lasts, in ms: its configuration's frame size times its frame count. */
function tocDurationMs(toc: number): number {
  const config = toc >> 3;
  const frame = config < 12 ? [10, 20, 40, 60][config % 4]! : config < 16 ? [10, 20][config % 2]! : [2.5, 5, 10, 20][config % 4]!;
  return (toc & 0x03) === 0 ? frame : NaN; // code 0: one frame (what libopus writes at a fixed frame duration)
}

describe('Opus (WebRTC sound)', () => {
  it('reads the Opus packets out of a PES, skipping the control header, its size and trims', () => {
    const a = Buffer.alloc(283, 0xa1);
    const b = Buffer.alloc(17, 0xb2);
    const pes = opusPes([a, b]);
    expect(opusAccessUnits(pes.subarray(9 + pes[8]!))).toEqual([a, b]);
    expect(() => opusAccessUnits(Buffer.from([0x12, 0x34]))).toThrow(/no Opus control header/);
  });

  it('cuts MPEG-TS into Opus packets once each PES is complete, across any chunk boundaries', () => {
    const first = Buffer.alloc(300, 1);
    const second = Buffer.alloc(20, 2);
    const pes1 = opusPes([first]);
    const pes2 = opusPes([second]);
    const stream = Buffer.concat([
      tsPacket(pes1.subarray(0, 184), true),
      tsPacket(pes1.subarray(184), false),
      Buffer.concat([Buffer.from([0x47, 0x40, 0x00, 0x10]), Buffer.alloc(184, 0xff)]), // PAT: another PID
      tsPacket(pes2, true),
    ]);
    for (const cut of [1, 188, 200, 376, 500]) {
      const splitter = new OpusTsSplitter();
      const out = [...splitter.push(stream.subarray(0, cut)), ...splitter.push(stream.subarray(cut))];
      expect(out).toEqual([first, second]);
    }
    // The first PES is out as soon as its last TS packet is: nothing waits for the next.
    expect(new OpusTsSplitter().push(stream.subarray(0, 376))).toEqual([first]);
    expect(() => new OpusTsSplitter().push(Buffer.alloc(188))).toThrow(/no MPEG-TS sync byte/);
  });

  it('keeps the bitrate where every packet leaves the MPEG-TS muxer at once, and within what libopus takes', () => {
    expect([1, 64, 150.4, 1000].map(opusBitrate)).toEqual([144, 144, 150, 510]);
  });

  it('encodes the capture with the ffmpeg found here (libopus): 10 ms packets stamped 10 ms apart on the capture clock', async () => {
    const ffmpeg = resolveFfmpeg().path;
    const packets = await firstValueFrom(testTone().pipe(encodeAudio(opus, { ffmpeg, bitrateKbps: 64 }), take(30), toArray()));
    expect(packets).toHaveLength(30);
    for (const packet of packets) {
      expect(packet).toMatchObject({ codec: 'opus', durationMs: 10 });
      expect(tocDurationMs(packet.data[0]!)).toBe(10);
      // Constant bitrate, silence too: above the 170 bytes ffmpeg's MPEG-TS muxer would gather into one PES.
      expect(packet.data.length).toBe(180);
    }
    const steps = packets.slice(1).map((p, i) => p.capturedAt - packets[i]!.capturedAt);
    for (const step of steps) expect(step).toBeCloseTo(10, 6);
  });
});
