import { parseSps } from '../codecs/h264/sps';
import type { RtpAudio } from '../audio/audio-codec';
import { type MediaSection, type Readout, type RtpFormat, type SdpOffer } from './sdp-offer';
import { PLAYOUT_DELAY_URI, playoutDelayFor, type PlayoutDelay } from './playout-delay';

/**
 * The H.264 profiles a WebRTC receiver tells apart (RFC 6184 §8.1, profile-level-id): a profile is named by
 * profile_idc together with the constraint flags, so `42e01f` and `4d801f` are both Constrained Baseline while
 * `42001f` is Baseline. Anything else is named by its profile_idc alone (`idc-122` …).
 */
export type H264ProfileName = 'constrained-baseline' | 'baseline' | 'main' | 'extended' | 'high' | 'constrained-high' | `idc-${number}`;

/** The stream's side of the negotiation: what its SPS says, and the `profile-level-id` an answer must carry. */
export interface StreamProfile {
  readonly profile: H264ProfileName;
  readonly levelIdc: number;
  /** The three bytes after the SPS NAL header, lowercase hex: `42c01e`. */
  readonly profileLevelId: string;
  /** Level 1b (level_idc 11 with constraint_set3 in the Baseline family, or level_idc 9). */
  readonly level1b: boolean;
}

/** What the answer carries: the section we send on, the payload type and fmtp, and the sections we refuse. */
export interface H264AnswerChoice {
  /** mid of the video section we answer `sendonly`. */
  readonly mid: string;
  readonly payloadType: number;
  /** The `a=fmtp` value of our answer: packetization-mode 1 and the stream's `profile-level-id`. */
  readonly fmtp: string;
  readonly profileLevelId: string;
  /** The offered `a=rtcp-fb` of the chosen payload type (NACK and PLI are what we serve). */
  readonly rtcpFb: readonly string[];
  /** The offered id of the playout-delay header extension, when the offer has it. */
  readonly playoutDelayExtensionId?: number;
  /** What we ask for in that extension (playout-delay.ts: it depends on the offering browser). */
  readonly playoutDelay: PlayoutDelay;
  /** The audio section we send the server's sound on, when there is sound and the offer can take it. */
  readonly audio?: AudioAnswerChoice;
  /** The other audio and video sections (with a mid): answered `inactive`. */
  readonly refused: readonly RefusedSection[];
}

/**
 * A section answered `inactive`, with the first format it offered (`opus/48000/2`, as an `a=rtpmap` names it): an
 * answer's media line needs one format at least, and Chromium refuses to parse one without ("Invalid value").
 */
export interface RefusedSection {
  readonly mid: string;
  readonly kind: string;
  readonly format?: { readonly payloadType: number; readonly rtpmap: string };
}

/** A refused section of the offer, with its first offered format. */
function refusedSection(section: MediaSection): RefusedSection {
  const first = section.formats[0];
  const rtpmap = first && `${first.codec}/${first.clockRate}${first.channels ? `/${first.channels}` : ''}`;
  return { mid: section.mid!, kind: section.kind, ...(first ? { format: { payloadType: first.payloadType, rtpmap: rtpmap! } } : {}) };
}

/** The audio section answered `sendonly`: its mid, the offered payload type of the codec, and our `a=fmtp`. */
export interface AudioAnswerChoice {
  readonly mid: string;
  readonly payloadType: number;
  readonly fmtp: string;
}

/**
 * Our Opus fmtp (RFC 7587 §7): we send mono (`sprop-stereo=0`, so the receiver may decode mono) in 10 ms packets, the
 * shortest that browsers take (`minptime=10`, what they offer), and take packets down to 10 ms.
 */
const OPUS_FMTP = 'minptime=10;sprop-stereo=0';

/**
 * The first receiving, bundled audio section offering `sound` (its encoding name, clock rate and channels), with the
 * offered payload type; undefined when the offer takes no such audio (it is then refused, as without sound).
 */
function chooseAudio(offer: SdpOffer, videoMid: string, sound: RtpAudio): AudioAnswerChoice | undefined {
  for (const section of offer.media) {
    if (section.kind !== 'audio' || section.port === 0 || section.mid === undefined || section.mid === videoMid) continue;
    if (section.direction !== 'recvonly' && section.direction !== 'sendrecv') continue;
    if (!offer.bundle.includes(section.mid)) continue;
    const format = section.formats.find(
      (f) =>
        f.codec.toLowerCase() === sound.encodingName.toLowerCase() &&
        f.clockRate === sound.clockRate &&
        (f.channels ?? 1) === sound.channels,
    );
    if (format) return { mid: section.mid, payloadType: format.payloadType, fmtp: OPUS_FMTP };
  }
  return undefined;
}

const BASELINE_FAMILY = new Set([0x42, 0x4d, 0x58]);

/**
 * Names the profile of profile_idc + constraint flags as a WebRTC stack does (the constraint flags carry the
 * difference: constraint_set1 makes Baseline "constrained", constraint_set0 makes Main decodable as it, and so on).
 * @example
 * h264ProfileName(0x42, 0xe0); // 'constrained-baseline'
 * h264ProfileName(0x64, 0x00); // 'high'
 */
export function h264ProfileName(profileIdc: number, constraintFlags: number): H264ProfileName {
  const set0 = (constraintFlags & 0x80) !== 0;
  const set1 = (constraintFlags & 0x40) !== 0;
  switch (profileIdc) {
    case 0x42:
      return set1 ? 'constrained-baseline' : 'baseline';
    case 0x4d:
      return set0 ? 'constrained-baseline' : 'main';
    case 0x58:
      return set0 && set1 ? 'constrained-baseline' : set0 ? 'baseline' : 'extended';
    case 0x64:
      return (constraintFlags & 0x0c) === 0x0c ? 'constrained-high' : 'high';
    default:
      return `idc-${profileIdc}`;
  }
}

/** A level as a number that orders correctly, with level 1b between 1 and 1.1. */
function levelRank(levelIdc: number, level1b: boolean): number {
  return level1b ? 10.5 : levelIdc;
}

function profileOf(profileIdc: number, constraintFlags: number, levelIdc: number, profileLevelId: string): StreamProfile {
  const level1b = levelIdc === 9 || (levelIdc === 11 && BASELINE_FAMILY.has(profileIdc) && (constraintFlags & 0x10) !== 0);
  return { profile: h264ProfileName(profileIdc, constraintFlags), levelIdc, profileLevelId, level1b };
}

/**
 * The stream's profile from its SPS NAL (header byte first), or why it cannot be read.
 * @example
 * streamProfile(sps); // { ok: true, value: { profile: 'constrained-baseline', levelIdc: 30, profileLevelId: '42c01e', … } }
 */
export function streamProfile(spsNal: Buffer): Readout<StreamProfile> {
  try {
    const sps = parseSps(spsNal);
    const hex = Buffer.from(spsNal.subarray(1, 4)).toString('hex');
    return { ok: true, value: profileOf(sps.profileIdc, sps.constraintFlags, sps.levelIdc, hex) };
  } catch (err) {
    return { ok: false, reason: `the stream's SPS cannot be read: ${(err as Error).message}` };
  }
}

/** The profile an offered `profile-level-id` names; RFC 6184's default (`420010`) when absent; undefined if garbled. */
function offeredProfile(format: RtpFormat): StreamProfile | undefined {
  const plid = (format.fmtp['profile-level-id'] ?? '420010').toLowerCase();
  if (!/^[0-9a-f]{6}$/.test(plid)) return undefined;
  const byte = (i: number): number => parseInt(plid.slice(i * 2, i * 2 + 2), 16);
  return profileOf(byte(0), byte(1), byte(2), plid);
}

const isH264Mode1 = (f: RtpFormat): boolean =>
  f.codec.toUpperCase() === 'H264' && f.clockRate === 90000 && f.fmtp['packetization-mode'] === '1';

/**
 * The offered payload type to send the stream on: H.264, packetization-mode 1, the stream's profile. One whose
 * level covers the stream's is preferred; else one with `level-asymmetry-allowed=1` (browsers offer level 3.1 and
 * decode higher levels: Chrome, Firefox and Safari all do so), in the offer's order. Undefined, with a reason, if none.
 */
function pickFormat(section: MediaSection, stream: StreamProfile): Readout<RtpFormat> {
  const h264 = section.formats.filter((f) => f.codec.toUpperCase() === 'H264');
  if (h264.length === 0) return { ok: false, reason: 'the offer has no H.264 for video (the stream is H.264)' };
  const mode1 = h264.filter(isH264Mode1);
  if (mode1.length === 0) return { ok: false, reason: 'the offer has no H.264 with packetization-mode=1' };
  const sameProfile = mode1.filter((f) => offeredProfile(f)?.profile === stream.profile);
  const streamLevel = levelRank(stream.levelIdc, stream.level1b);
  const covers = sameProfile.find((f) => {
    const o = offeredProfile(f)!;
    return levelRank(o.levelIdc, o.level1b) >= streamLevel;
  });
  const asymmetric = sameProfile.find((f) => f.fmtp['level-asymmetry-allowed'] === '1');
  const chosen = covers ?? asymmetric;
  if (chosen) return { ok: true, value: chosen };
  const offered = mode1.map((f) => f.fmtp['profile-level-id'] ?? '420010').join(', ');
  const why = sameProfile.length === 0 ? `profile ${stream.profile}` : `level_idc ${stream.levelIdc} (and no level-asymmetry-allowed)`;
  return {
    ok: false,
    reason: `the offer's H.264 (profile-level-id ${offered}) cannot take the stream's ${why}, profile-level-id ${stream.profileLevelId}`,
  };
}

/**
 * Chooses how to answer a read offer with the stream's H.264: the first usable video section (it must receive:
 * `recvonly` or `sendrecv`, have a mid, and be on), its payload type (see the rules above), and the fmtp of the
 * answer; with `sound` (how RTP carries the server's sound, when it has some) the first receiving bundled audio
 * section that offers it. Every other audio/video section is refused. Rejections carry a reason fit for a 400 body.
 *
 * @example
 * const choice = chooseH264Answer(offer, profile, opus.rtp);
 * if (choice.ok) video.addH264Codec(choice.value.payloadType, choice.value.fmtp);
 */
export function chooseH264Answer(offer: SdpOffer, stream: StreamProfile, sound?: RtpAudio): Readout<H264AnswerChoice> {
  if (!offer.hasIceCredentials) return { ok: false, reason: 'the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)' };
  if (!offer.hasFingerprint)
    return { ok: false, reason: 'the offer has no well-formed DTLS fingerprint (a=fingerprint: a hash and its digest)' };
  const video = offer.media.filter((m) => m.kind === 'video' && m.port !== 0);
  if (video.length === 0) return { ok: false, reason: 'the offer has no video section' };
  const receiving = video.filter((m) => m.direction === 'recvonly' || m.direction === 'sendrecv');
  if (receiving.length === 0) return { ok: false, reason: 'the offer does not receive video (it must be recvonly or sendrecv)' };
  let firstReason = '';
  for (const section of receiving) {
    if (section.mid === undefined) {
      firstReason ||= "the offer's video section has no a=mid";
      continue;
    }
    if (offer.media.length > 1 && !offer.bundle.includes(section.mid)) {
      firstReason ||= "the offer must bundle its sections (a=group:BUNDLE with the video's mid)";
      continue;
    }
    const picked = pickFormat(section, stream);
    if (!picked.ok) {
      firstReason ||= picked.reason;
      continue;
    }
    const format = picked.value;
    const asymmetry = format.fmtp['level-asymmetry-allowed'] === '1' ? 'level-asymmetry-allowed=1;' : '';
    const mid = section.mid;
    const audio = sound ? chooseAudio(offer, mid, sound) : undefined;
    return {
      ok: true,
      value: {
        mid,
        payloadType: format.payloadType,
        fmtp: `${asymmetry}packetization-mode=1;profile-level-id=${stream.profileLevelId}`,
        profileLevelId: stream.profileLevelId,
        rtcpFb: format.rtcpFb,
        playoutDelayExtensionId: section.extensions.find((e) => e.uri === PLAYOUT_DELAY_URI)?.id,
        playoutDelay: playoutDelayFor(offer.originUser),
        ...(audio ? { audio } : {}),
        refused: offer.media
          .filter((m) => m.mid !== undefined && m.mid !== mid && m.mid !== audio?.mid && (m.kind === 'audio' || m.kind === 'video'))
          .map(refusedSection),
      },
    };
  }
  return { ok: false, reason: firstReason };
}
