import { AudioRtp, ntpTime, rtpPacket, senderReport } from '../../src/webrtc/audio-rtp';
import { readRtcp } from '../../src/webrtc/rtcp';
import { parseRtp, senderReports } from './rtp-receiver';

const OPTIONS = { ssrc: 0x1234_5678, cname: 'pistream', payloadType: 111, clockRate: 48_000 };

describe('the sound’s RTP and sender reports', () => {
  it('writes NTP times as seconds since 1900 and a 32-bit fraction', () => {
    expect(ntpTime(0)).toEqual({ seconds: 2_208_988_800, fraction: 0 });
    expect(ntpTime(1500)).toEqual({ seconds: 2_208_988_801, fraction: 2 ** 31 });
  });

  it('writes an RTP packet a receiver reads back', () => {
    const packet = rtpPacket(111, 0x1_0005, 2 ** 32 + 7, 42, true, Buffer.from([1, 2, 3]));
    expect(parseRtp(packet)).toEqual({
      payloadType: 111,
      marker: true,
      sequence: 5,
      timestamp: 7,
      ssrc: 42,
      extensions: new Map(),
      payload: Buffer.from([1, 2, 3]),
    });
  });

  it('writes a compound SR + SDES (CNAME) whose lengths a reader walks, 32-bit aligned', () => {
    const report = senderReport({ ssrc: 9, cname: 'pistream', ntpMs: 1_700_000_000_250, rtpTimestamp: 960, packets: 3, octets: 300 });
    expect(report.length % 4).toBe(0);
    expect(senderReports(report)).toEqual([{ ssrc: 9, ntpMs: 1_700_000_000_250, rtpTimestamp: 960 }]);
    expect(readRtcp(report).malformed).toBe(false);
    expect(report.subarray(28).toString('latin1')).toContain('pistream');
  });

  it('timestamps each packet from its capture time on the shared origin, and puts a sender report on capture time + the video’s delay', () => {
    const rtp = new AudioRtp(OPTIONS, 1000);
    const origin = 1_700_000_000_000;
    // First packet: a report goes with it at once (capture 20 ms after the origin, video delay 7 ms).
    const [first, firstReport] = rtp.packets(Buffer.alloc(10), origin + 20, origin, 7, origin + 60);
    expect(parseRtp(first!)).toMatchObject({ timestamp: 1000 + 960, marker: true, ssrc: OPTIONS.ssrc, payloadType: 111 });
    expect(senderReports(firstReport!)).toEqual([{ ssrc: OPTIONS.ssrc, ntpMs: origin + 27, rtpTimestamp: 1960 }]);
    // Within the second: packets alone, 960 apart; a report again a second later.
    const next = rtp.packets(Buffer.alloc(10), origin + 40, origin, 7, origin + 80);
    expect(next).toHaveLength(1);
    expect(parseRtp(next[0]!)).toMatchObject({ timestamp: 1000 + 1920, marker: false });
    expect(rtp.packets(Buffer.alloc(10), origin + 1040, origin, 9, origin + 1080)).toHaveLength(2);
    expect(rtp.packetsSent).toBe(3);
    // Captured before the origin (sound ahead of the first picture): the timestamp wraps below the base.
    expect(rtp.timestamp(origin - 20, origin)).toBe(40);
    expect(new AudioRtp(OPTIONS, 0).timestamp(origin - 20, origin)).toBe(2 ** 32 - 960);
  });
});
