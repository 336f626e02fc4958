import { lastValueFrom, of, toArray } from 'rxjs';
import type { H264Picture } from '../../src/codecs/h264/h264-picture';
import type { AudioPacket } from '../../src/audio/audio-codec';
import { opus } from '../../src/audio/opus';
import { h264Units, soundMessage, unitMessage } from '../../src/formats/h264-units';
import { protocol } from '../../src/protocol';
import type { MuxedSound } from '../../src/formats/wire-format';

const unit = (more: Partial<H264Picture> = {}): H264Picture => ({
  data: Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84]),
  codec: 'h264',
  codecString: 'avc1.42C01E',
  keyframe: true,
  seq: 70000,
  capturedAt: 1764543600123.5,
  width: 640,
  height: 480,
  ...more,
});

/** The page's reading of a message (public/protocol.js), as an ArrayBuffer of its own like a WebSocket gives. */
const read = (message: Buffer) =>
  protocol.readUnitHeader(message.buffer.slice(message.byteOffset, message.byteOffset + message.length) as ArrayBuffer);

describe('the /h264 wire format', () => {
  it('writes a key unit as the page reads it: version, key flag, size, seq, capture time, codec string, then the access unit', () => {
    const message = unitMessage(unit());
    expect(message.subarray(0, 8)).toEqual(Buffer.from([1, 1, 0, 31, 0x02, 0x80, 0x01, 0xe0]));
    expect(read(message)).toEqual({
      version: 1,
      key: true,
      width: 640,
      height: 480,
      seq: 70000,
      capturedAt: 1764543600123.5,
      codec: 'avc1.42C01E',
      offset: 31,
    });
    expect(message.subarray(31)).toEqual(unit().data);
  });

  it('carries no codec string on a delta unit', () => {
    const message = unitMessage(unit({ keyframe: false, data: Buffer.from([0, 0, 0, 1, 0x41, 0x9a]) }));
    expect(read(message)).toMatchObject({ key: false, codec: '', offset: 20 });
    expect(message.length).toBe(26);
  });

  it('is read as nothing when it is not one (too short, another version, a size past the end)', () => {
    const good = unitMessage(unit());
    expect(read(good.subarray(0, 19))).toBeNull();
    const other = Buffer.from(good);
    other[0] = 2;
    expect(read(other)).toBeNull();
    const long = Buffer.from(good);
    long.writeUInt16BE(good.length + 1, 2);
    expect(read(long)).toBeNull();
  });

  it('muxes each picture once into its message, keeping the picture', async () => {
    const out = await lastValueFrom(of(unit(), unit({ keyframe: false })).pipe(h264Units.mux(), toArray()));
    expect(out.map((p) => [p.format, p.seq, p.keyframe, p.wire.length])).toEqual([
      ['h264', 70000, true, 38],
      ['h264', 70000, false, 27],
    ]);
    expect(h264Units).toMatchObject({ id: 'h264', path: '/h264', codecs: ['h264'] });
  });
});

describe('the /h264 sound messages', () => {
  const packet = (more: Partial<AudioPacket> = {}): AudioPacket => ({
    data: Buffer.from([0x78, 0x01, 0x02, 0x03]),
    codec: 'opus',
    capturedAt: 1764543600000.25,
    durationMs: 20,
    ...more,
  });
  const readSound = (message: Buffer) =>
    protocol.readSoundHeader(message.buffer.slice(message.byteOffset, message.byteOffset + message.length) as ArrayBuffer);

  it('writes a frame as the page reads it: kind 2, channels, size, sample rate, capture time, codec string, then the frame', () => {
    const message = soundMessage(packet());
    expect(message.subarray(0, 8)).toEqual(Buffer.from([2, 1, 0, 20, 0x00, 0x00, 0xbb, 0x80]));
    expect(readSound(message)).toEqual({ channels: 1, sampleRate: 48_000, capturedAt: 1764543600000.25, codec: 'opus', offset: 20 });
    expect(message.subarray(20)).toEqual(packet().data);
  });

  it('is told from an access unit by its first byte, both ways', () => {
    const sound = soundMessage(packet());
    const picture = unitMessage(unit());
    expect(read(sound)).toBeNull();
    expect(readSound(picture)).toBeNull();
  });

  it('is read as nothing when malformed (too short, a size past the end or below the fixed header)', () => {
    const good = soundMessage(packet());
    expect(readSound(good.subarray(0, 15))).toBeNull();
    const long = Buffer.from(good);
    long.writeUInt16BE(good.length + 1, 2);
    expect(readSound(long)).toBeNull();
    const short = Buffer.from(good);
    short.writeUInt16BE(15, 2);
    expect(readSound(short)).toBeNull();
  });

  it('the format sends Opus apart, on request (the codec every WebRTC viewer shares), each frame that message', () => {
    expect(h264Units.audio).toBe(opus);
    expect(h264Units.soundOnRequest).toBe(true);
    const muxed: MuxedSound[] = [];
    of(packet())
      .pipe(h264Units.muxSound!())
      .subscribe((sound) => muxed.push(sound));
    expect(muxed).toEqual([{ wire: soundMessage(packet()), capturedAt: packet().capturedAt, format: 'h264' }]);
  });
});
