import type * as NodeDataChannel from 'node-datachannel';
import { nalType, nalUnits, NAL_TYPE } from '../codecs/h264/nal';
import { AudioRtp } from './audio-rtp';
import type { H264AnswerChoice, RefusedSection } from './h264-answer';
import { ntpMiddle32, readRtcp, roundTripMs, type ReceptionReport } from './rtcp';
import { withHostCandidates } from './answer-candidates';
import { playoutDelayExtmap } from './playout-delay';
import { expandFeedbackWildcards } from './sdp-offer';

/**
 * The one file that touches node-datachannel (libdatachannel's binding): loading it, and one peer connection per
 * WebRTC viewer that sends the stream's H.264 access units as RTP. Everything it decides is decided elsewhere
 * (the codec choice in `h264-answer.ts`, RTCP in `rtcp.ts`); this is the edge.
 */

/** The node-datachannel module. */
export type WebRtcLibrary = typeof NodeDataChannel;

/** One of the library's peer connections (for the other files of src/webrtc, which do not import the library). */
export type WebRtcConnection = NodeDataChannel.PeerConnection;

/** node-datachannel, or why this machine has none (it ships no build for 32-bit ARM, for one). */
export type WebRtcAvailability = { readonly ok: true; readonly library: WebRtcLibrary } | { readonly ok: false; readonly reason: string };

/**
 * Loads node-datachannel when first asked (its native part is loaded then, not when this file is imported), so a
 * server starts without WebRTC where there is no build, and says why in one line. Never throws.
 * @example
 * const webrtc = loadWebRtc();
 * if (!webrtc.ok) log.warn(webrtc.reason); // 'WebRTC is not available on linux/arm: Unsupported platform/architecture…'
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily: a platform without a build must still start
export function loadWebRtc(load: () => unknown = () => require('node-datachannel')): WebRtcAvailability {
  try {
    return { ok: true, library: load() as WebRtcLibrary };
  } catch (err) {
    const message = String((err as Error)?.message ?? err)
      .split('\n')[0]!
      .trim();
    return { ok: false, reason: `WebRTC is not available on ${process.platform}/${process.arch}: ${message}` };
  }
}

export interface PeerSessionOptions {
  /** The UDP port every peer shares (ICE UDP mux). */
  readonly port: number;
  /** Addresses to announce as host candidates besides the machine's own (a host behind NAT, or in Docker). */
  readonly addresses?: readonly string[];
  /** STUN/TURN servers (`stun:host:port`); none on a LAN, where a missing internet would stall gathering. */
  readonly iceServers?: readonly string[];
  /** How long gathering the host candidates may take before the answer is given up. Default 5 s. */
  readonly gatheringTimeoutMs?: number;
  /** Largest RTP payload: FU-A fragments above it. Default 1200 (fits any LAN and most tunnels). */
  readonly maxPayloadBytes?: number;
}

/** How a peer is doing, from what we sent and what its receiver reports say. */
export interface PeerStats {
  /** `new`, `connecting`, `connected`, `disconnected`, `failed` or `closed`. */
  readonly state: string;
  /** Whether the media path is up (DTLS-SRTP done, the track open): access units can be sent. */
  readonly mediaOpen: boolean;
  readonly accessUnitsSent: number;
  /** Sound packets (Opus) sent; 0 when the session carries no sound. */
  readonly audioPacketsSent: number;
  /** H.264 bytes handed to the packetizer (RTP, SRTP and retransmissions add to it on the wire). */
  readonly bytesSent: number;
  readonly keyframeRequests: number;
  /** Packets the peer asked again for (NACK): answered from the send history by libdatachannel. */
  readonly nackedPackets: number;
  /** From the last receiver report: share lost since the one before, 0..1. */
  readonly fractionLost?: number;
  readonly packetsLost?: number;
  readonly jitterMs?: number;
  readonly rttMs?: number;
}

/** A peer's last receiver report, numbered: see {@link PeerSession.lossReport}. */
export interface LossReport {
  readonly number: number;
  readonly fractionLost: number;
}

/**
 * The library refused the offer itself (a part our reader does not check, such as a missing ICE password or a
 * malformed fingerprint): the client's fault, a 4xx, unlike a failure of ours (the port taken, gathering too slow).
 */
export class OfferRefusedError extends Error {
  override readonly name = 'OfferRefusedError';
}

const VIDEO_CLOCK_HZ = 90_000;
/** RTP clock of Opus (RFC 7587: always 48 kHz). */
const OPUS_CLOCK_HZ = 48_000;
const CNAME = 'pistream';
/**
 * The sound's media stream id (msid), not the video's: a browser syncs the tracks of one stream by delaying the
 * earlier one, and the sound, which arrives later (its frames, its jitter buffer, the output device), would hold the
 * picture back with it. Measured in Chromium with one stream: the picture's glass-to-glass latency went from ~15 ms to
 * 400 ms within 10 s of unmuting. Apart, the picture stays as fast as without sound and the sound plays as soon as it
 * can, as on the other players. The CNAME stays shared and the sender reports true, so a receiver that syncs by
 * CNAME (a WHEP recorder) lines the two up.
 */
const SOUND_STREAM = `${CNAME}-sound`;

/** Whether an Annex B access unit is an IDR picture (a decoder can start there). */
function isKeyframe(annexB: Buffer): boolean {
  return nalUnits(annexB).some((nal) => nalType(nal) === NAL_TYPE.idr);
}

/** The inactive media of a refused section, with its first offered format (a media line needs one). */
function inactiveMedia(library: WebRtcLibrary, { mid, kind, format }: RefusedSection): NodeDataChannel.Audio | NodeDataChannel.Video {
  if (kind === 'audio') {
    const audio = new library.Audio(mid, 'Inactive');
    if (format) audio.addAudioCodec(format.payloadType, format.rtpmap);
    return audio;
  }
  const video = new library.Video(mid, 'Inactive');
  if (format) video.addVideoCodec(format.payloadType, format.rtpmap);
  return video;
}

/** A random nonzero 32-bit SSRC. */
const randomSsrc = (): number => 1 + Math.floor(Math.random() * 0xfffffffe);

type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * One WebRTC viewer: answers its WHEP offer, then takes the stream's access units. It sends nothing before the
 * first keyframe (a decoder cannot start elsewhere); RTCP sender reports and NACK answers come from
 * libdatachannel's handler chain; PLI/FIR from the peer become {@link onKeyframeRequest}.
 *
 * @example
 * const peer = await PeerSession.answer(library, offer, choice, { port: 8189 });
 * reply(201, peer.answerSdp);
 * peer.onOpen(() => gop.forEach((au) => peer.sendAccessUnit(au.data, au.capturedAt)));
 */
export class PeerSession {
  private accessUnitsSent = 0;
  private bytesSent = 0;
  private keyframeRequests = 0;
  private nackedPackets = 0;
  private lastReport?: ReceptionReport;
  /** Receiver reports about our stream so far: tells a new report from the one already read. */
  private reports = 0;
  private rttMs?: number;
  private started = false;
  /** The capture time both tracks' RTP timestamps count from: the first sent, sound or picture. */
  private originMs: number | undefined;
  /** The video's send delay (now − capture time) at its last access unit: what its sender reports carry. */
  private videoDelayMs: number | undefined;
  private readonly timestampBase: number;
  private closed = false;
  /**
   * Resolves once libdatachannel reports the connection closed (after {@link close}, or the peer leaving). Only
   * then may the library's global `cleanup()` run: cleaning up under a connection still closing can crash.
   */
  readonly released: Promise<void>;
  private readonly openListeners: Listener<[]>[] = [];
  private readonly keyframeListeners: Listener<[]>[] = [];
  private readonly closeListeners: Listener<[string]>[] = [];

  private constructor(
    private readonly pc: NodeDataChannel.PeerConnection,
    private readonly track: NodeDataChannel.Track,
    /** The sound's track and RTP, when the answer carries sound. */
    private readonly sound: { readonly track: NodeDataChannel.Track; readonly rtp: AudioRtp } | undefined,
    /** The refused sections' tracks, closed with the video track once the connection has closed. */
    others: readonly NodeDataChannel.Track[],
    private readonly rtpConfig: NodeDataChannel.RtpPacketizationConfig,
    private readonly ssrc: number,
    /** The answer, with every host candidate (we do not trickle). */
    readonly answerSdp: string,
  ) {
    this.timestampBase = rtpConfig.timestamp;
    let released!: () => void;
    this.released = new Promise((resolve) => (released = resolve));
    track.onMessage((message) => this.onRtcp(message));
    track.onOpen(() => {
      for (const listener of this.openListeners.splice(0)) listener();
    });
    pc.onStateChange((state) => {
      // Not on `disconnected`: ICE may come back (a phone roaming between access points); it ends in `failed` if not.
      if (state === 'closed' || state === 'failed') this.end(state);
      if (state !== 'closed') return;
      closeTracks([track, ...(sound ? [sound.track] : []), ...others]);
      released();
    });
  }

  /**
   * Answers `offerSdp` as `choice` says, on the shared UDP port; resolves once gathering is complete (the answer
   * then holds every host candidate), rejects on a library error or after the gathering timeout, once what it
   * opened has closed: with an {@link OfferRefusedError} when the library refuses the offer itself.
   */
  static async answer(
    library: WebRtcLibrary,
    offerSdp: string,
    choice: H264AnswerChoice,
    options: PeerSessionOptions,
  ): Promise<PeerSession> {
    const pc = new library.PeerConnection(`whep-${choice.mid}`, {
      iceServers: [...(options.iceServers ?? [])],
      enableIceUdpMux: true,
      portRangeBegin: options.port,
      portRangeEnd: options.port,
    });
    const tracks: NodeDataChannel.Track[] = [];
    try {
      const { track, sound, others, rtpConfig, ssrc } = PeerSession.addTracks(library, pc, choice, options, tracks);
      // libdatachannel answers by itself on the remote offer, with the tracks added above for their mids.
      try {
        pc.setRemoteDescription(expandFeedbackWildcards(offerSdp), 'offer');
      } catch (err) {
        const message = String((err as Error)?.message ?? err);
        // Gathering is ours (the shared port taken); any other refusal is about the offer.
        throw /gather/i.test(message) ? err : new OfferRefusedError(message);
      }
      await gathered(pc, options.gatheringTimeoutMs ?? 5000);
      const answer = pc.localDescription()?.sdp;
      if (!answer) throw new Error('libdatachannel made no answer');
      const answerSdp = withHostCandidates(answer, options.addresses ?? [], options.port);
      return new PeerSession(pc, track, sound, others, rtpConfig, ssrc, answerSdp);
    } catch (err) {
      // Rejected only once the connection has closed: the library's cleanup() must not run under one still closing.
      await closeNow(pc, options.gatheringTimeoutMs ?? 5000);
      closeTracks(tracks);
      throw err;
    }
  }

  /**
   * The send-only video track for the chosen mid and payload type, its handler chain, the send-only sound track when
   * the choice has one (same CNAME, its own stream id: see SOUND_STREAM), and inactive others.
   */
  private static addTracks(
    library: WebRtcLibrary,
    pc: NodeDataChannel.PeerConnection,
    choice: H264AnswerChoice,
    options: PeerSessionOptions,
    /** Every track added, as it is added: a failure half-way must still close those. */
    added: NodeDataChannel.Track[],
  ): {
    track: NodeDataChannel.Track;
    sound?: { track: NodeDataChannel.Track; rtp: AudioRtp };
    others: NodeDataChannel.Track[];
    rtpConfig: NodeDataChannel.RtpPacketizationConfig;
    ssrc: number;
  } {
    const add = (media: NodeDataChannel.Video | NodeDataChannel.Audio): NodeDataChannel.Track => {
      const track = addTrack(pc, media);
      added.push(track);
      return track;
    };
    const ssrc = randomSsrc();
    const video = new library.Video(choice.mid, 'SendOnly');
    video.addH264Codec(choice.payloadType, choice.fmtp);
    video.addSSRC(ssrc, CNAME, CNAME, 'video');
    const playoutDelay = playoutDelayExtmap(choice.playoutDelayExtensionId);
    // In our answer's video section, so the browser reads the extension our packets carry (playout-delay.ts).
    if (playoutDelay) video.parseSdpLine(playoutDelay);
    const track = add(video);
    const sound = choice.audio && PeerSession.addSound(library, choice.audio, add);
    // Without a track of ours, libdatachannel would answer an offered audio section sendonly with every codec.
    const others = choice.refused.map((section) => add(inactiveMedia(library, section)));
    const rtpConfig = new library.RtpPacketizationConfig(ssrc, CNAME, choice.payloadType, VIDEO_CLOCK_HZ);
    if (playoutDelay) {
      rtpConfig.playoutDelayId = choice.playoutDelayExtensionId!;
      rtpConfig.playoutDelayMin = choice.playoutDelay.min;
      rtpConfig.playoutDelayMax = choice.playoutDelay.max;
    }
    // 3- and 4-byte start codes both: an encoder writes 3-byte ones before the later slices of a picture.
    const packetizer = new library.H264RtpPacketizer('StartSequence', rtpConfig, options.maxPayloadBytes ?? 1200);
    packetizer.addToChain(new library.RtcpSrReporter(rtpConfig));
    packetizer.addToChain(new library.RtcpNackResponder());
    track.setMediaHandler(packetizer);
    return { track, ...(sound ? { sound } : {}), others, rtpConfig, ssrc };
  }

  /**
   * The send-only Opus track. It has no media handler: its RTP and sender reports are {@link AudioRtp}'s (see there
   * why), sent as they are through the connection's SRTP. No NACK answers: browsers ask none for sound.
   */
  private static addSound(
    library: WebRtcLibrary,
    choice: NonNullable<H264AnswerChoice['audio']>,
    add: (media: NodeDataChannel.Audio) => NodeDataChannel.Track,
  ): { track: NodeDataChannel.Track; rtp: AudioRtp } {
    const ssrc = randomSsrc();
    const audio = new library.Audio(choice.mid, 'SendOnly');
    audio.addOpusCodec(choice.payloadType, choice.fmtp);
    audio.addSSRC(ssrc, CNAME, SOUND_STREAM, 'audio');
    const track = add(audio);
    const rtp = new AudioRtp({ ssrc, cname: CNAME, payloadType: choice.payloadType, clockRate: OPUS_CLOCK_HZ }, randomSsrc());
    return { track, rtp };
  }

  /** Calls `listener` once the media path is up (at once if it is): the moment to send the GOP so far. */
  onOpen(listener: () => void): void {
    if (this.open) listener();
    else if (!this.closed) this.openListeners.push(listener);
  }

  /** Calls `listener` once per RTCP packet from the peer that asks for a keyframe (PLI, FIR or both). */
  onKeyframeRequest(listener: () => void): void {
    this.keyframeListeners.push(listener);
  }

  /** Calls `listener` once, when the connection has `failed` or closed, or {@link close} was called. */
  onClosed(listener: (why: string) => void): void {
    this.closeListeners.push(listener);
  }

  /** Whether access units can be sent now. */
  get open(): boolean {
    return !this.closed && this.track.isOpen();
  }

  /**
   * Sends one access unit (Annex B, 4-byte start codes) captured at `capturedAtMs`; its RTP timestamp is that time
   * on the 90 kHz clock, counted from the first unit sent. Gives false when not sent: not open yet, closed, or
   * before the first keyframe.
   */
  sendAccessUnit(annexB: Buffer, capturedAtMs: number): boolean {
    if (!this.open) return false;
    if (!this.started) {
      if (!isKeyframe(annexB)) return false;
      this.started = true;
    }
    this.originMs ??= capturedAtMs;
    this.videoDelayMs = Date.now() - capturedAtMs;
    const ticks = Math.round(((capturedAtMs - this.originMs) * VIDEO_CLOCK_HZ) / 1000);
    this.rtpConfig.timestamp = (this.timestampBase + ticks) >>> 0;
    if (!this.track.sendMessageBinary(annexB)) return false;
    this.accessUnitsSent++;
    this.bytesSent += annexB.length;
    return true;
  }

  /** Whether this session carries sound (its answer took the server's Opus). */
  get hasSound(): boolean {
    return this.sound !== undefined;
  }

  /**
   * Sends one Opus packet captured at `capturedAtMs` (its first sample), timestamped on the video's time base (see
   * {@link AudioRtp}). Gives false when not sent: no sound in this session, not open yet, or closed.
   */
  sendAudio(opusPacket: Buffer, capturedAtMs: number): boolean {
    const sound = this.sound;
    if (!sound || this.closed || !sound.track.isOpen()) return false;
    this.originMs ??= capturedAtMs;
    const now = Date.now();
    const datagrams = sound.rtp.packets(opusPacket, capturedAtMs, this.originMs, this.videoDelayMs ?? now - capturedAtMs, now);
    let sent = true;
    for (const datagram of datagrams) sent = sound.track.sendMessageBinary(datagram) && sent;
    return sent;
  }

  /**
   * The peer's last receiver report about our stream: its number (1 for the first; a new number means a new report)
   * and the share of packets it says it lost since the one before (0–1). Undefined before the first. A field read.
   */
  lossReport(): LossReport | undefined {
    return this.lastReport && { number: this.reports, fractionLost: this.lastReport.fractionLost };
  }

  stats(): PeerStats {
    const report = this.lastReport;
    return {
      state: this.closed ? 'closed' : this.pc.state(),
      mediaOpen: this.open,
      accessUnitsSent: this.accessUnitsSent,
      audioPacketsSent: this.sound?.rtp.packetsSent ?? 0,
      bytesSent: this.bytesSent,
      keyframeRequests: this.keyframeRequests,
      nackedPackets: this.nackedPackets,
      fractionLost: report?.fractionLost,
      packetsLost: report?.cumulativeLost,
      jitterMs: report ? (report.jitter / VIDEO_CLOCK_HZ) * 1000 : undefined,
      rttMs: this.rttMs,
    };
  }

  /** Ends the session and releases the peer connection (and with the last one, the shared UDP port). */
  close(): void {
    this.end('closed');
  }

  private end(why: string): void {
    if (this.closed) return;
    this.closed = true;
    // The connection closes its tracks. Closing a track first would leave the transport up with a closed track, and
    // an RTCP answer (NACK) to send on it would throw in libdatachannel's thread and abort the process.
    this.pc.close();
    this.openListeners.length = 0;
    this.keyframeListeners.length = 0;
    for (const listener of this.closeListeners.splice(0)) listener(why);
  }

  private onRtcp(message: Buffer): void {
    const arrival = ntpMiddle32(Date.now());
    const rtcp = readRtcp(message);
    this.nackedPackets += rtcp.nacked.length;
    for (const report of rtcp.reports) {
      if (report.ssrc !== this.ssrc) continue;
      this.lastReport = report;
      this.reports++;
      this.rttMs = roundTripMs(report, arrival) ?? this.rttMs;
    }
    // One compound packet is one request, whether it holds a PLI, a FIR or both.
    if (rtcp.pli + rtcp.fir === 0) return;
    this.keyframeRequests++;
    for (const listener of this.keyframeListeners) listener();
  }
}

/**
 * Every track this process has added, until the library's `cleanup()`. node-datachannel 0.33's track object stays in
 * the library's list of tracks after it is garbage-collected (its destructor closes the track but never removes it
 * from the list), and `cleanup()` closes every track in that list: after one collected track, `cleanup()` reads freed
 * memory and the process dies (SIGSEGV or SIGBUS; spec/webrtc/track-lifetime.spec.ts shows it in a child process).
 * So no track object may be collected before `cleanup()`: each is kept here, and its native part (the track with
 * its packetizer and send history) is freed by `close()` once its connection has closed, leaving a small shell per
 * ended session until {@link cleanupWebRtc}.
 */
const tracksUntilCleanup = new Set<NodeDataChannel.Track>();

/**
 * `pc.addTrack(media)`, with the track kept from garbage collection until {@link cleanupWebRtc}. Every track of the
 * process must be added through this (the specs' and the bench's receivers too).
 */
export function addTrack(pc: NodeDataChannel.PeerConnection, media: NodeDataChannel.Video | NodeDataChannel.Audio): NodeDataChannel.Track {
  const track = pc.addTrack(media);
  tracksUntilCleanup.add(track);
  return track;
}

/** Frees the native part of tracks whose connection has closed (their shells stay kept until cleanup). */
function closeTracks(tracks: readonly NodeDataChannel.Track[]): void {
  for (const track of tracks) track.close();
}

/**
 * The library's `cleanup()` (it stops its threads, so the process can exit), then lets go of the kept tracks: after
 * it the library's list is empty, and collecting them is safe. Call only once every connection has closed.
 * @example
 * await Promise.all(sessions.map((session) => session.released));
 * cleanupWebRtc(library);
 */
export function cleanupWebRtc(library: Pick<WebRtcLibrary, 'cleanup'>): void {
  library.cleanup();
  tracksUntilCleanup.clear();
}

/** How many track objects are kept until cleanup (for the specs and the memory bench). */
export function keptTracks(): number {
  return tracksUntilCleanup.size;
}

/** Closes `pc` and resolves once it reports itself closed (or after `timeoutMs`, not to hang on a library fault). */
export function closeNow(pc: NodeDataChannel.PeerConnection, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.onStateChange((state) => {
      if (state !== 'closed') return;
      clearTimeout(timer);
      resolve();
    });
    pc.close();
    if (pc.state() === 'closed') {
      clearTimeout(timer);
      resolve();
    }
  });
}

/** Resolves when `pc` has gathered every candidate; rejects after `timeoutMs`. */
export function gathered(pc: NodeDataChannel.PeerConnection, timeoutMs: number): Promise<void> {
  if (pc.gatheringState() === 'complete') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ICE gathering took longer than ${timeoutMs} ms`)), timeoutMs);
    pc.onGatheringStateChange((state) => {
      if (state !== 'complete') return;
      clearTimeout(timer);
      resolve();
    });
  });
}
