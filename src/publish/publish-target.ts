import { CODECS } from '../codecs';
import type { Codec } from '../codecs/codec';
import { redactUrl } from './url-secrets';

export { redactUrl };

/** What a publish URL's scheme asks for: how ffmpeg sends it (the muxer) and what it can carry. */
export type PublishProtocol = 'rtmp' | 'rtmps' | 'srt' | 'rtsp';

/** `silent`: a silent AAC track (YouTube and others refuse video without audio); `none`: video only. */
export type PublishAudio = 'silent' | 'none';

/** One publish target as the plugin takes it: the URL (credentials and stream key included) and its audio. */
export interface PublishTargetSpec {
  readonly url: string;
  readonly audio?: PublishAudio;
}

/** A checked target: what the publisher needs, and the redacted `label` that logs, `/healthz` and `/metrics` show. */
export interface PublishTarget {
  /** The URL as given: it may hold a stream key or a password, so it goes only to ffmpeg, never to a log. */
  readonly url: string;
  readonly protocol: PublishProtocol;
  readonly audio: PublishAudio;
  /** `rtmp://a.rtmp.youtube.com/live2/***`: no user info, no query, no path but an RTMP app (see `redactUrl`). */
  readonly label: string;
}

export const PUBLISH_PROTOCOLS: readonly PublishProtocol[] = ['rtmp', 'rtmps', 'srt', 'rtsp'];

/** The ffmpeg muxer each protocol is sent with: a codec says which of them carry it (`Codec.publishMuxers`). */
export const PUBLISH_MUXERS: Readonly<Record<PublishProtocol, string>> = {
  rtmp: 'flv',
  rtmps: 'flv',
  rtsp: 'rtsp',
  srt: 'mpegts',
};

/**
 * Whether a target of `protocol` can take `codec`'s pictures as they are (no second encode).
 * @example
 * canPublish(mpeg1, 'rtmp'); // false: FLV here carries H.264 only
 */
export function canPublish(codec: Codec, protocol: PublishProtocol): boolean {
  return codec.pipeInput !== undefined && (codec.publishMuxers ?? []).includes(PUBLISH_MUXERS[protocol]);
}

/**
 * The codecs of the registry that a target of `protocol` can take, by id (for messages).
 * @example
 * publishableCodecs('rtmp'); // ['h264']
 */
export function publishableCodecs(protocol: PublishProtocol): string[] {
  return CODECS.filter((codec) => canPublish(codec, protocol)).map((codec) => codec.id);
}

/** A publish URL pistream cannot use; the message shows only the redacted URL. */
export class PublishTargetError extends Error {
  constructor(
    readonly label: string,
    readonly problem: string,
  ) {
    super(`${label} ${problem}`);
    this.name = 'PublishTargetError';
  }
}

/**
 * Checks one target (scheme, host) and resolves its defaults; throws {@link PublishTargetError}, never quoting
 * the URL's secrets.
 * @example
 * publishTarget('rtmp://127.0.0.1/live/cam').label; // 'rtmp://127.0.0.1/live/***'
 */
export function publishTarget(spec: string | PublishTargetSpec, audio: PublishAudio = 'silent'): PublishTarget {
  const { url, audio: own } = typeof spec === 'string' ? { url: spec, audio: undefined } : spec;
  const label = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PublishTargetError(label, 'is not a URL (e.g. rtmp://host/app/key, srt://host:port, rtsp://host:port/path)');
  }
  const protocol = parsed.protocol.slice(0, -1).toLowerCase() as PublishProtocol;
  if (!PUBLISH_PROTOCOLS.includes(protocol)) {
    throw new PublishTargetError(label, `has an unsupported scheme: use ${PUBLISH_PROTOCOLS.map((p) => `${p}://`).join(', ')}`);
  }
  if (parsed.hostname === '') throw new PublishTargetError(label, 'has no host');
  return { url, protocol, audio: own ?? audio, label };
}
