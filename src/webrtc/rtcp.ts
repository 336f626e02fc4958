/**
 * Reading what a WebRTC receiver sends back (RFC 3550 §6.4, RFC 4585 §6, RFC 5104 §4.3.1): keyframe requests,
 * NACKs and reception reports. Total: every length is checked against the packet, and garbage ends the walk with
 * what was read so far (`malformed: true`), never an exception, since the bytes come from the network.
 */

/** One reception report block (RFC 3550 §6.4.1) about one of our SSRCs. */
export interface ReceptionReport {
  /** The SSRC the report is about (ours). */
  readonly ssrc: number;
  /** Share of packets lost since the previous report, 0..1 (an 8-bit fixed-point fraction). */
  readonly fractionLost: number;
  /** Packets lost since the start (24-bit signed: duplicates can make it negative). */
  readonly cumulativeLost: number;
  readonly highestSequence: number;
  /** Interarrival jitter in RTP timestamp units (90 kHz for video). */
  readonly jitter: number;
  /** Middle 32 bits of the NTP time of the last SR the receiver got from us; 0 before the first. */
  readonly lastSenderReport: number;
  /** Delay since that SR, in 1/65536 s. */
  readonly delaySinceLastSenderReport: number;
}

/** What one compound RTCP packet says. */
export interface RtcpReadout {
  /** Picture loss indications (PT 206 FMT 1): a receiver asking for a keyframe. */
  readonly pli: number;
  /** Full intra requests (PT 206 FMT 4): the same request, older style. */
  readonly fir: number;
  /** Sequence numbers the receiver reports lost (generic NACK, PT 205 FMT 1), in packet order. */
  readonly nacked: readonly number[];
  /** Report blocks from receiver reports (PT 201) and sender reports (PT 200). */
  readonly reports: readonly ReceptionReport[];
  /** The walk stopped at bytes that are no RTCP (what came before is still reported). */
  readonly malformed: boolean;
}

const SR = 200;
const RR = 201;
const RTPFB = 205;
const PSFB = 206;
const NACK_FMT = 1;
const PLI_FMT = 1;
const FIR_FMT = 4;

function reportBlocks(view: DataView, at: number, count: number, end: number, into: ReceptionReport[]): boolean {
  for (let i = 0; i < count; i++, at += 24) {
    if (at + 24 > end) return false;
    const lost = view.getUint32(at + 4);
    const cumulative = lost & 0xffffff;
    into.push({
      ssrc: view.getUint32(at),
      fractionLost: (lost >>> 24) / 256,
      cumulativeLost: cumulative & 0x800000 ? cumulative - 0x1000000 : cumulative,
      highestSequence: view.getUint32(at + 8),
      jitter: view.getUint32(at + 12),
      lastSenderReport: view.getUint32(at + 16),
      delaySinceLastSenderReport: view.getUint32(at + 20),
    });
  }
  return true;
}

/** Generic NACK FCIs (RFC 4585 §6.2.1): a packet id and a bitmask of the 16 packets after it. */
function nackItems(view: DataView, at: number, end: number, into: number[]): void {
  for (; at + 4 <= end; at += 4) {
    const pid = view.getUint16(at);
    const mask = view.getUint16(at + 2);
    into.push(pid);
    for (let bit = 0; bit < 16; bit++) if (mask & (1 << bit)) into.push((pid + bit + 1) & 0xffff);
  }
}

/**
 * Walks a compound RTCP packet (as node-datachannel's `track.onMessage` hands it over, already decrypted).
 * @example
 * const rtcp = readRtcp(message);
 * if (rtcp.pli + rtcp.fir > 0) requestKeyframe();
 */
export function readRtcp(packet: Uint8Array): RtcpReadout {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const nacked: number[] = [];
  const reports: ReceptionReport[] = [];
  let pli = 0;
  let fir = 0;
  let at = 0;
  let malformed = false;
  while (at < packet.length) {
    if (at + 4 > packet.length || packet[at]! >> 6 !== 2) {
      malformed = true;
      break;
    }
    const count = packet[at]! & 0x1f;
    const type = packet[at + 1]!;
    const end = at + (view.getUint16(at + 2) + 1) * 4;
    if (end > packet.length || type < 192 || type > 223) {
      malformed = true;
      break;
    }
    // Padding (the P bit) is counted in the length, with its size in the last byte.
    const padding = packet[at]! & 0x20 ? packet[end - 1]! : 0;
    const body = end - padding;
    if (body < at + 4) {
      malformed = true;
      break;
    }
    if (type === SR) malformed = !reportBlocks(view, at + 28, count, body, reports);
    else if (type === RR) malformed = !reportBlocks(view, at + 8, count, body, reports);
    else if (type === RTPFB && count === NACK_FMT) nackItems(view, at + 12, body, nacked);
    else if (type === PSFB && count === PLI_FMT) pli++;
    else if (type === PSFB && count === FIR_FMT) fir++;
    if (malformed) break;
    at = end;
  }
  return { pli, fir, nacked, reports, malformed };
}

/** Seconds from NTP's epoch (1900) to Unix's (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/**
 * The middle 32 bits of the NTP time of a Unix time in ms (16.16 fixed-point seconds): the unit of
 * `lastSenderReport`, for {@link roundTripMs}.
 * @example
 * ntpMiddle32(Date.now());
 */
export function ntpMiddle32(unixMs: number): number {
  const seconds = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET_S;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 65536);
  return ((seconds & 0xffff) * 65536 + fraction) >>> 0;
}

/**
 * How far below zero a computed round trip may fall and still read as 0: the arrival clock's whole milliseconds,
 * plus a unit of 1/65536 s each for the receiver's delay and our sender report's time.
 */
export const CLOCK_SLACK_MS = 1 + (2 * 1000) / 65536;

/**
 * Round-trip time from a report block (RFC 3550 §6.4.1: arrival − LSR − DLSR), in ms; undefined before the
 * receiver has had a sender report or when the result makes no sense (more than {@link CLOCK_SLACK_MS} below zero
 * or over a minute: clocks that disagree, or a report about someone else's SR). `arrivalNtpMiddle32` is
 * {@link ntpMiddle32} of the report's arrival; the sender reports' NTP times come from the same wall clock, read in
 * µs by libdatachannel but in whole ms by `Date.now()`, so a loopback round trip (well under a millisecond) often
 * computes slightly negative: that reads as 0.
 * @example
 * roundTripMs(report, ntpMiddle32(Date.now())); // 0.4
 */
export function roundTripMs(report: ReceptionReport, arrivalNtpMiddle32: number): number | undefined {
  if (report.lastSenderReport === 0) return undefined;
  const units = (arrivalNtpMiddle32 - report.lastSenderReport - report.delaySinceLastSenderReport) | 0;
  const ms = (units / 65536) * 1000;
  return ms < -CLOCK_SLACK_MS || ms > 60_000 ? undefined : Math.max(0, ms);
}
