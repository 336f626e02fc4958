/**
 * The sound's RTP and RTCP sender reports (RFC 3550, RFC 7587 for Opus), built here rather than by libdatachannel's
 * packetizer and `RtcpSrReporter`: lip sync in a browser rests on the sender reports of both tracks mapping their RTP
 * timestamps onto one clock, and libdatachannel stamps its reports with the wall clock of the moment it sends (its
 * NTP time says "the last packet's timestamp is now"). For the video that puts each picture at its capture time plus
 * the video's send delay (encoder, hub); the sound's send delay is another (capture chunks, 10 ms frames, libopus's
 * lookahead: some 40 ms), and a browser aligning the two by such reports would play sound late by the difference. So
 * the sound's reports place its timestamps on the capture clock plus the video's own send delay, measured as the
 * video goes out: both tracks then say "capture time + the same delay", and a browser lines up what was captured
 * together.
 */

/** The NTP era's offset from the Unix epoch, in seconds (1900 → 1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
/** Sender reports at most this often (RFC 3550 §6.2 asks for about one per 5 s at least; browsers sync sooner with more). */
const REPORT_EVERY_MS = 1000;
const RTP_VERSION = 0x80;
const SR = 200;
const SDES = 202;
const CNAME_ITEM = 1;

/** The 64-bit NTP time of a Unix time in ms, as two 32-bit words. */
export function ntpTime(unixMs: number): { seconds: number; fraction: number } {
  const whole = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - whole * 1000) / 1000) * 2 ** 32);
  return { seconds: (whole + NTP_UNIX_OFFSET_S) >>> 0, fraction: fraction >>> 0 };
}

/** What a sender report says about one SSRC. */
export interface SenderReportFields {
  readonly ssrc: number;
  readonly cname: string;
  /** The NTP time (as a Unix time in ms) that `rtpTimestamp` stands for. */
  readonly ntpMs: number;
  readonly rtpTimestamp: number;
  readonly packets: number;
  readonly octets: number;
}

/**
 * One compound RTCP packet: a sender report without report blocks, then an SDES with the CNAME (RFC 3550 §6.1: every
 * compound packet carries the CNAME, which ties the tracks of one source together).
 * @example
 * senderReport({ ssrc: 1, cname: 'pistream', ntpMs: Date.now(), rtpTimestamp: 960, packets: 1, octets: 120 });
 */
export function senderReport(fields: SenderReportFields): Buffer {
  const sr = Buffer.alloc(28);
  sr.writeUInt8(RTP_VERSION, 0);
  sr.writeUInt8(SR, 1);
  sr.writeUInt16BE(sr.length / 4 - 1, 2);
  sr.writeUInt32BE(fields.ssrc >>> 0, 4);
  const ntp = ntpTime(fields.ntpMs);
  sr.writeUInt32BE(ntp.seconds, 8);
  sr.writeUInt32BE(ntp.fraction, 12);
  sr.writeUInt32BE(fields.rtpTimestamp >>> 0, 16);
  sr.writeUInt32BE(fields.packets >>> 0, 20);
  sr.writeUInt32BE(fields.octets >>> 0, 24);
  const cname = Buffer.from(fields.cname, 'utf8').subarray(0, 255);
  // SSRC, then the item (type, length, text), then at least one zero octet ending the list, padded to 32 bits.
  const chunkLength = Math.ceil((4 + 2 + cname.length + 1) / 4) * 4;
  const sdes = Buffer.alloc(4 + chunkLength);
  sdes.writeUInt8(RTP_VERSION | 1, 0);
  sdes.writeUInt8(SDES, 1);
  sdes.writeUInt16BE(sdes.length / 4 - 1, 2);
  sdes.writeUInt32BE(fields.ssrc >>> 0, 4);
  sdes.writeUInt8(CNAME_ITEM, 8);
  sdes.writeUInt8(cname.length, 9);
  cname.copy(sdes, 10);
  return Buffer.concat([sr, sdes]);
}

/** One RTP packet (RFC 3550 §5.1: no CSRC, no extension) around `payload`. */
export function rtpPacket(
  payloadType: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
  marker: boolean,
  payload: Buffer,
): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt8(RTP_VERSION, 0);
  header.writeUInt8((marker ? 0x80 : 0) | (payloadType & 0x7f), 1);
  header.writeUInt16BE(sequence & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([header, payload]);
}

export interface AudioRtpOptions {
  readonly ssrc: number;
  readonly cname: string;
  readonly payloadType: number;
  /** RTP clock rate (48 kHz for Opus). */
  readonly clockRate: number;
}

/**
 * One peer's sound as RTP: each packet's timestamp from its capture time (`(capturedAt − origin) · rate`, on the
 * origin the session's video timestamps count from), and a sender report in front of a packet at most once a
 * {@link REPORT_EVERY_MS}. Gives the datagrams to send; sends nothing itself.
 * @example
 * const rtp = new AudioRtp({ ssrc, cname: 'pistream', payloadType: 111, clockRate: 48000 }, Math.random() * 2 ** 32);
 * for (const datagram of rtp.packets(opusPacket, capturedAt, origin, videoDelayMs, Date.now())) track.sendMessageBinary(datagram);
 */
export class AudioRtp {
  private sequence = Math.floor(Math.random() * 0x10000);
  private sent = 0;
  private octets = 0;
  private lastReportAt = -Infinity;

  constructor(
    private readonly options: AudioRtpOptions,
    /** The timestamp of capture time `origin` (random, as RFC 3550 asks). */
    private readonly timestampBase: number,
  ) {}

  /** The RTP timestamp of capture time `capturedAtMs`, counted from `originMs`. */
  timestamp(capturedAtMs: number, originMs: number): number {
    return (this.timestampBase + Math.round(((capturedAtMs - originMs) * this.options.clockRate) / 1000)) >>> 0;
  }

  /**
   * The datagrams for one coded frame: a sender report first when one is due (its NTP time is the frame's capture
   * time plus `sendDelayMs`, the delay the video's reports carry), then the RTP packet.
   */
  packets(payload: Buffer, capturedAtMs: number, originMs: number, sendDelayMs: number, nowMs: number): Buffer[] {
    const { ssrc, cname, payloadType } = this.options;
    const timestamp = this.timestamp(capturedAtMs, originMs);
    const packet = rtpPacket(payloadType, this.sequence, timestamp, ssrc, this.sent === 0, payload);
    this.sequence = (this.sequence + 1) & 0xffff;
    this.sent++;
    this.octets += payload.length;
    if (nowMs - this.lastReportAt < REPORT_EVERY_MS) return [packet];
    this.lastReportAt = nowMs;
    const report = senderReport({
      ssrc,
      cname,
      ntpMs: capturedAtMs + sendDelayMs,
      rtpTimestamp: timestamp,
      packets: this.sent,
      octets: this.octets,
    });
    return [packet, report];
  }

  /** Packets made so far. */
  get packetsSent(): number {
    return this.sent;
  }
}
