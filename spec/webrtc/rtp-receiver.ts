import type * as NodeDataChannel from 'node-datachannel';
import { addTrack } from '../../src/webrtc/peer-session';

/** One RTP packet as received (RFC 3550 §5.1). */
export interface RtpPacket {
  readonly payloadType: number;
  readonly marker: boolean;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payload: Buffer;
  /** One-byte header extension elements (RFC 8285 §4.2), id → data. */
  readonly extensions: ReadonlyMap<number, Buffer>;
}

/** The elements of a one-byte header extension block (profile 0xBEDE), id → data; empty for any other profile. */
function oneByteExtensions(block: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (block.readUInt16BE(0) !== 0xbede) return out;
  for (let at = 4; at < block.length;) {
    const id = block[at]! >> 4;
    if (id === 0) {
      at++; // padding
      continue;
    }
    if (id === 15) break;
    const length = (block[at]! & 0x0f) + 1;
    out.set(id, block.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  return out;
}

/** Parses an RTP packet; undefined for RTCP (PT 192–223 in the second byte) or what is too short. */
export function parseRtp(packet: Buffer): RtpPacket | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2 || (packet[1]! >= 192 && packet[1]! <= 223)) return undefined;
  const csrcs = packet[0]! & 0x0f;
  let at = 12 + csrcs * 4;
  let extensions = new Map<number, Buffer>();
  if (packet[0]! & 0x10) {
    const end = at + 4 + packet.readUInt16BE(at + 2) * 4;
    extensions = oneByteExtensions(packet.subarray(at, end));
    at = end;
  }
  const end = packet[0]! & 0x20 ? packet.length - packet[packet.length - 1]! : packet.length;
  return {
    payloadType: packet[1]! & 0x7f,
    marker: (packet[1]! & 0x80) !== 0,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(at, end),
    extensions,
  };
}

/**
 * The NAL units of RTP H.264 payloads, in the order given (RFC 6184 packetization-mode 1: single NAL units, STAP-A,
 * FU-A), written from the RFC for the specs, independently of libdatachannel's packetizer.
 */
export function depacketizeH264(packets: readonly RtpPacket[]): Buffer[] {
  const nals: Buffer[] = [];
  let fragments: Buffer[] = [];
  for (const { payload } of packets) {
    const type = payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) nals.push(payload);
    else if (type === 24) {
      for (let at = 1; at + 2 <= payload.length;) {
        const size = payload.readUInt16BE(at);
        nals.push(payload.subarray(at + 2, at + 2 + size));
        at += 2 + size;
      }
    } else if (type === 28) {
      const header = payload[1]!;
      if (header & 0x80) fragments = [Buffer.from([(payload[0]! & 0xe0) | (header & 0x1f)])];
      fragments.push(payload.subarray(2));
      if (header & 0x40) nals.push(Buffer.concat(fragments));
    }
  }
  return nals;
}

/** A receiving peer, as a browser would be: a recvonly offer with one H.264 format, collecting RTP. */
export interface Receiver {
  readonly pc: NodeDataChannel.PeerConnection;
  readonly track: NodeDataChannel.Track;
  /**
   * The offer without candidates, as a browser POSTs it when it does not wait for gathering: the server learns the
   * receiver's address from its connectivity checks. (With candidates in the offer, the server's checks could reach
   * a libdatachannel receiver before it has the answer, and it would start DTLS without the server's fingerprint
   * and fail; browsers hold such early handshakes back.)
   */
  readonly offer: string;
  readonly packets: RtpPacket[];
  /** With `audio`: the sound's RTP packets (Opus), as they came. */
  readonly audioPackets: RtpPacket[];
  /** Every RTCP sender report the peer got (either track), as they came. */
  readonly senderReports: SenderReport[];
  /** Resolves once the receiving track is open (it may open a moment after the sender's). */
  readonly opened: Promise<void>;
  /** Resolves once `count` packets with the marker bit (ends of access units) have arrived. */
  accessUnits(count: number): Promise<void>;
  /**
   * Sends one RTCP receiver report about the stream received, saying `fractionLost` (0–1) of its packets were lost
   * (`reports: 'manual'` only). Gives whether the library sent it.
   */
  sendReport(fractionLost: number): boolean;
  close(): void;
  /** Resolves once the connection has reported itself closed. */
  readonly released: Promise<void>;
}

/** An RTCP sender report (RFC 3550 §6.4.1): which SSRC, the NTP time (as Unix ms) its RTP timestamp stands for. */
export interface SenderReport {
  readonly ssrc: number;
  readonly ntpMs: number;
  readonly rtpTimestamp: number;
}

/** The sender reports of a compound RTCP packet. */
export function senderReports(packet: Buffer): SenderReport[] {
  const reports: SenderReport[] = [];
  for (let at = 0; at + 4 <= packet.length; at += (packet.readUInt16BE(at + 2) + 1) * 4) {
    if (packet[at + 1] !== 200 || at + 20 > packet.length) continue;
    const seconds = packet.readUInt32BE(at + 8) - 2_208_988_800;
    const fraction = packet.readUInt32BE(at + 12) / 2 ** 32;
    reports.push({ ssrc: packet.readUInt32BE(at + 4), ntpMs: (seconds + fraction) * 1000, rtpTimestamp: packet.readUInt32BE(at + 16) });
  }
  return reports;
}

/** The payload type the receiver offers Opus on (`audio: true`), as browsers do. */
export const OFFERED_OPUS_PT = 111;

/** How a {@link receiver} offers and reports. */
export interface ReceiverOptions {
  /** Offer an Opus audio section too (bundled, as a browser offers it); its packets in `audioPackets`. */
  readonly audio?: boolean;
  /**
   * `auto` (default): libdatachannel's `RtcpReceivingSession`, which sends a receiver report in answer to each of
   * the sender's reports. `manual`: none of its own; {@link Receiver.sendReport} sends one. (The section is then
   * offered sendrecv, as the library sends nothing on a receive-only track; the server still answers sendonly.)
   */
  readonly reports?: 'auto' | 'manual';
  /** False: no receiver reports at all, and the video's sender reports are collected in `senderReports`. */
  readonly receiverReports?: boolean;
  /** Offer these header extensions on the video (`a=extmap` lines), as a browser offers its own. */
  readonly extmaps?: readonly string[];
}

/** Makes a receiver's offer (after gathering, with every candidate): H.264 video, and with `audio` Opus too. */
export async function receiver(library: typeof NodeDataChannel, name: string, options: ReceiverOptions = {}): Promise<Receiver> {
  const manual = options.reports === 'manual';
  const pc = new library.PeerConnection(name, { iceServers: [] });
  const video = new library.Video('0', manual ? 'SendRecv' : 'RecvOnly');
  video.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
  for (const line of options.extmaps ?? []) video.parseSdpLine(line);
  const track = addTrack(pc, video);
  const audioPackets: RtpPacket[] = [];
  const reports: SenderReport[] = [];
  if (options.audio) {
    const audio = new library.Audio('1', 'RecvOnly');
    audio.addOpusCodec(OFFERED_OPUS_PT, 'minptime=10;useinbandfec=1');
    // No handler: RTP and RTCP both come to onMessage.
    addTrack(pc, audio).onMessage((message) => {
      const rtp = parseRtp(message);
      if (rtp) audioPackets.push(rtp);
      else reports.push(...senderReports(message));
    });
  }
  // Sends receiver reports and answers nothing else: what a browser's receiver does, in part. It keeps the sender
  // reports to itself: a receiver that reads them (`receiverReports: false`) sends none.
  if (!manual && options.receiverReports !== false) track.setMediaHandler(new library.RtcpReceivingSession());
  const opened = new Promise<void>((resolve) => track.onOpen(resolve));
  const released = new Promise<void>((resolve) => pc.onStateChange((state) => state === 'closed' && resolve()));
  const packets: RtpPacket[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let markers = 0;
  track.onMessage((message) => {
    const rtp = parseRtp(message);
    if (!rtp) return void reports.push(...senderReports(message));
    packets.push(rtp);
    if (rtp.marker) markers++;
    for (const w of waiters.filter((x) => markers >= x.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  pc.setLocalDescription();
  await new Promise<void>((resolve) => {
    if (pc.gatheringState() === 'complete') resolve();
    pc.onGatheringStateChange((state) => state === 'complete' && resolve());
  });
  return {
    pc,
    track,
    opened,
    released,
    offer: pc.localDescription()!.sdp.replace(/^a=candidate:.*\r?\n/gm, ''),
    packets,
    audioPackets,
    senderReports: reports,
    sendReport: (fractionLost) => {
      const ssrc = packets[0]?.ssrc;
      if (ssrc === undefined) throw new Error('no packet yet: the report would name no stream');
      return track.sendMessageBinary(receiverReport(ssrc, fractionLost, packets[packets.length - 1]!.sequence));
    },
    accessUnits: (count) => (markers >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => pc.close(),
  };
}

/** An RTCP receiver report (RFC 3550 §6.4.2) with one report block about `ssrc`. */
function receiverReport(ssrc: number, fractionLost: number, highestSequence: number): Buffer {
  const rr = Buffer.alloc(32);
  rr[0] = 0x81; // version 2, one report block
  rr[1] = 201;
  rr.writeUInt16BE(7, 2); // length in 32-bit words, minus one
  rr.writeUInt32BE(0x5eed, 4); // our own SSRC: any
  rr.writeUInt32BE(ssrc, 8);
  rr.writeUInt32BE(((Math.round(fractionLost * 256) & 0xff) << 24) >>> 0, 12);
  rr.writeUInt32BE(highestSequence, 16);
  return rr; // jitter, LSR and DLSR 0
}

/** Whether an RTP H.264 payload holds (a piece of) an IDR slice or an SPS: single NAL unit, STAP-A or FU-A. */
export function startsKeyframe(packet: RtpPacket): boolean {
  const { payload } = packet;
  const type = payload[0]! & 0x1f;
  const key = (nalType: number): boolean => nalType === 5 || nalType === 7;
  if (type === 28) return key(payload[1]! & 0x1f);
  if (type !== 24) return key(type);
  for (let at = 1; at + 2 < payload.length; at += 2 + payload.readUInt16BE(at)) if (key(payload[at + 2]! & 0x1f)) return true;
  return false;
}
