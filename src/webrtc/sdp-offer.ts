/**
 * Reading a WHEP offer: the few things of an SDP body (RFC 8866) that answering it needs. Not a general SDP parser:
 * lines this does not need are skipped, and anything it cannot read is a reason, never an exception, because the
 * body comes from any HTTP client.
 */

/** The media direction of a section, as the offerer says it (RFC 3264 §5.1); `sendrecv` when absent. */
export type SdpDirection = 'sendrecv' | 'recvonly' | 'sendonly' | 'inactive';

/** One offered RTP payload type of a media section. */
export interface RtpFormat {
  readonly payloadType: number;
  /** Encoding name as written (`H264`, `opus`, `rtx` …). */
  readonly codec: string;
  readonly clockRate: number;
  /** The rtpmap's encoding parameters for audio: channels (`opus/48000/2` → 2); undefined when absent. */
  readonly channels?: number;
  /** `a=fmtp` parameters, names lowercased. */
  readonly fmtp: Readonly<Record<string, string>>;
  /** `a=rtcp-fb` values for this payload type (and `*`), e.g. `nack`, `nack pli`, `ccm fir`. */
  readonly rtcpFb: readonly string[];
}

/** A header extension the offerer can receive (`a=extmap`). */
export interface HeaderExtension {
  readonly id: number;
  readonly uri: string;
}

/** One `m=` section. */
export interface MediaSection {
  /** `video`, `audio`, `application` … */
  readonly kind: string;
  /** 0 means the offerer has turned the section off. */
  readonly port: number;
  readonly protocol: string;
  readonly mid?: string;
  readonly direction: SdpDirection;
  /** In the order of the `m=` line: the offerer's preference. Payload types without an `a=rtpmap` are left out. */
  readonly formats: readonly RtpFormat[];
  readonly extensions: readonly HeaderExtension[];
}

/** What an offer says, as far as answering it is concerned. */
export interface SdpOffer {
  readonly media: readonly MediaSection[];
  /** The mids of the `a=group:BUNDLE` line (empty without one). */
  readonly bundle: readonly string[];
  /** ICE credentials (`a=ice-ufrag` and `a=ice-pwd`) at session level or in every media section. */
  readonly hasIceCredentials: boolean;
  /** A well-formed DTLS fingerprint (a hash name and its digest's bytes) at session level or in every media section. */
  readonly hasFingerprint: boolean;
  /** The origin line's (`o=`) user name, which names the offering browser's stack (Firefox: `mozilla...THIS_IS_SDPARTA-…`); '' without one. */
  readonly originUser: string;
}

/** The result of reading untrusted input: the value, or why it was refused (fit for a 4xx body). */
export type Readout<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Offers larger than this are refused unread: a browser's offer with audio, video and data is about 5 KiB. */
export const MAX_OFFER_BYTES = 64 * 1024;

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'recvonly', 'sendonly', 'inactive']);

interface SectionDraft {
  kind: string;
  port: number;
  protocol: string;
  payloadTypes: number[];
  mid?: string;
  direction?: SdpDirection;
  rtpmap: Map<number, { codec: string; clockRate: number; channels?: number }>;
  fmtp: Map<number, Record<string, string>>;
  rtcpFb: Map<string, string[]>;
  extensions: HeaderExtension[];
  iceUfrag: boolean;
  icePwd: boolean;
  fingerprint: boolean;
}

/** The bytes of each hash's digest (RFC 8122 §5): a fingerprint of another length is refused by any DTLS stack. */
const DIGEST_BYTES: Readonly<Record<string, number>> = {
  'sha-1': 20,
  'sha-224': 28,
  'sha-256': 32,
  'sha-384': 48,
  'sha-512': 64,
  md5: 16,
  md2: 16,
};

/** Whether an `a=fingerprint` value is a known hash and a digest of its length: `sha-256 0A:…` (32 bytes). */
function wellFormedFingerprint(value: string): boolean {
  const [hash, digest, ...rest] = value.trim().split(/\s+/);
  const bytes = DIGEST_BYTES[hash?.toLowerCase() ?? ''];
  return (
    rest.length === 0 &&
    bytes !== undefined &&
    digest !== undefined &&
    new RegExp(`^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){${bytes - 1}}$`).test(digest)
  );
}

function parseFmtp(params: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of params.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    out[pair.slice(0, eq).trim().toLowerCase()] = pair.slice(eq + 1).trim();
  }
  return out;
}

const isPayloadType = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 127;

/** Parses an `m=` line's value, or gives undefined when it is not one. */
function mediaLine(value: string): SectionDraft | undefined {
  const [kind, portField, protocol, ...formats] = value.split(' ');
  const port = Number(portField?.split('/')[0]);
  if (!kind || !protocol || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const payloadTypes = protocol.includes('RTP') ? formats.map(Number).filter(isPayloadType) : [];
  return {
    kind,
    port,
    protocol,
    payloadTypes,
    rtpmap: new Map(),
    fmtp: new Map(),
    rtcpFb: new Map(),
    extensions: [],
    iceUfrag: false,
    icePwd: false,
    fingerprint: false,
  };
}

/** Applies one media-level `a=` attribute to the section being read. */
function mediaAttribute(m: SectionDraft, name: string, value: string): void {
  let r: RegExpExecArray | null;
  if (name === 'mid') m.mid = value;
  else if (DIRECTIONS.has(name)) m.direction = name as SdpDirection;
  else if (name === 'ice-ufrag') m.iceUfrag = value.length > 0;
  else if (name === 'ice-pwd') m.icePwd = value.length > 0;
  else if (name === 'fingerprint') m.fingerprint = wellFormedFingerprint(value);
  else if (name === 'rtpmap' && (r = /^(\d{1,3}) ([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(value))) {
    m.rtpmap.set(Number(r[1]), { codec: r[2]!, clockRate: Number(r[3]), ...(r[4] ? { channels: Number(r[4]) } : {}) });
  } else if (name === 'fmtp' && (r = /^(\d{1,3}) (.*)$/.exec(value))) m.fmtp.set(Number(r[1]), parseFmtp(r[2]!));
  else if (name === 'rtcp-fb' && (r = /^(\d{1,3}|\*) (.+)$/.exec(value))) {
    const list = m.rtcpFb.get(r[1]!) ?? [];
    list.push(r[2]!.trim());
    m.rtcpFb.set(r[1]!, list);
  } else if (name === 'extmap' && (r = /^(\d{1,3})(?:\/\w+)? (\S+)/.exec(value))) {
    m.extensions.push({ id: Number(r[1]), uri: r[2]! });
  }
}

function finish(m: SectionDraft, sessionDirection: SdpDirection | undefined): MediaSection {
  const formats: RtpFormat[] = [];
  for (const payloadType of m.payloadTypes) {
    const map = m.rtpmap.get(payloadType);
    if (!map) continue;
    const rtcpFb = [...(m.rtcpFb.get('*') ?? []), ...(m.rtcpFb.get(String(payloadType)) ?? [])];
    formats.push({ payloadType, ...map, fmtp: m.fmtp.get(payloadType) ?? {}, rtcpFb });
  }
  return {
    kind: m.kind,
    port: m.port,
    protocol: m.protocol,
    mid: m.mid,
    direction: m.direction ?? sessionDirection ?? 'sendrecv',
    formats,
    extensions: m.extensions,
  };
}

/**
 * Reads an SDP offer. Refuses (with a reason) what is not an SDP body at all: too large, no `v=0` first, no media
 * section. Whether the offer is usable for our stream is {@link chooseH264Answer}'s question.
 *
 * @example
 * const read = readSdpOffer(body);
 * if (read.ok) read.value.media.find((m) => m.kind === 'video')?.mid; // '0'
 */
export function readSdpOffer(text: string): Readout<SdpOffer> {
  if (typeof text !== 'string' || text.length === 0) return { ok: false, reason: 'the offer is empty' };
  if (text.length > MAX_OFFER_BYTES) return { ok: false, reason: `the offer is larger than ${MAX_OFFER_BYTES} bytes` };
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines[0]?.trim() !== 'v=0') return { ok: false, reason: 'the offer is not an SDP body (it must start with v=0)' };
  const drafts: SectionDraft[] = [];
  let bundle: string[] = [];
  let sessionDirection: SdpDirection | undefined;
  let sessionUfrag = false;
  let sessionPwd = false;
  let sessionFingerprint = false;
  let originUser = '';
  for (const line of lines) {
    if (line[1] !== '=') return { ok: false, reason: `the offer has a line that is not type=value: ${JSON.stringify(line.slice(0, 40))}` };
    const value = line.slice(2).trimEnd();
    const current = drafts[drafts.length - 1];
    if (line[0] === 'm') {
      const m = mediaLine(value);
      if (!m) return { ok: false, reason: `the offer has a malformed media line: ${JSON.stringify(line.slice(0, 60))}` };
      drafts.push(m);
      continue;
    }
    if (line[0] === 'o' && !current) originUser = value.split(' ')[0] ?? '';
    if (line[0] !== 'a') continue;
    const colon = value.indexOf(':');
    const name = colon < 0 ? value : value.slice(0, colon);
    const attr = colon < 0 ? '' : value.slice(colon + 1);
    if (current) mediaAttribute(current, name, attr);
    else if (name === 'group' && attr.startsWith('BUNDLE')) bundle = attr.split(' ').slice(1).filter(Boolean);
    else if (DIRECTIONS.has(name)) sessionDirection = name as SdpDirection;
    else if (name === 'ice-ufrag') sessionUfrag = attr.length > 0;
    else if (name === 'ice-pwd') sessionPwd = attr.length > 0;
    else if (name === 'fingerprint') sessionFingerprint = wellFormedFingerprint(attr);
  }
  if (drafts.length === 0) return { ok: false, reason: 'the offer has no media section' };
  return {
    ok: true,
    value: {
      media: drafts.map((m) => finish(m, sessionDirection)),
      bundle,
      hasIceCredentials: (sessionUfrag || drafts.every((m) => m.iceUfrag)) && (sessionPwd || drafts.every((m) => m.icePwd)),
      hasFingerprint: sessionFingerprint || drafts.every((m) => m.fingerprint),
      originUser,
    },
  };
}

/**
 * The offer as libdatachannel can read it. RFC 4585 §4.2 lets `a=rtcp-fb:*` stand for every payload type of its
 * section (SIP gateways and some WHEP clients send it), but the parser of the libdatachannel that node-datachannel
 * 0.33 ships wants a number there and refuses the whole offer ("Invalid integer"): each wildcard line becomes one
 * line per payload type of its `m=` line. A wildcard outside an RTP section says nothing and is left out. Every other
 * line is kept as it was, with the offer's own line ends.
 * @example
 * expandFeedbackWildcards('…m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtcp-fb:* nack\r\n…');
 * // '…m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:97 nack\r\n…'
 */
export function expandFeedbackWildcards(text: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let payloadTypes: readonly number[] = [];
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('m=')) payloadTypes = mediaLine(line.slice(2).trimEnd())?.payloadTypes ?? [];
    const wildcard = /^a=rtcp-fb:\*\s+(.*)$/.exec(line);
    if (!wildcard) out.push(line);
    else for (const payloadType of payloadTypes) out.push(`a=rtcp-fb:${payloadType} ${wildcard[1]!.trimEnd()}`);
  }
  return out.join(eol);
}
