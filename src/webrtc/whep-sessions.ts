import { randomBytes } from 'node:crypto';
import type { RtpAudio } from '../audio/audio-codec';
import { chooseH264Answer, type H264AnswerChoice, type StreamProfile } from './h264-answer';
import { readSdpOffer } from './sdp-offer';

/**
 * WHEP (draft-ietf-wish-whep) as data: the session registry and the HTTP answers the draft asks for. No HTTP
 * framework here: a route turns a {@link WhepReply} into its response, so these decisions are tested without one.
 */

export const SDP_CONTENT_TYPE = 'application/sdp';

/** The seconds a client is told to wait (`Retry-After`) when there is no stream yet or no room. */
export const WHEP_RETRY_AFTER_S = 2;

/** An HTTP answer: status, headers, and a body (SDP for 201, a one-line reason for errors). */
export interface WhepReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** One WHEP session: where it lives (its `Location`), its `ETag`, and what the server keeps for it. */
export interface WhepSession<T> {
  /** Unguessable: 128 random bits. Knowing it is what allows DELETE. */
  readonly id: string;
  readonly location: string;
  readonly etag: string;
  readonly peer: T;
}

export interface WhepSessionsOptions {
  /** The endpoint's path; sessions live under it (`/whep` → `/whep/<id>`). */
  readonly basePath: string;
  readonly maxSessions: number;
  /** A source of session ids; crypto-random by default (tests pass their own). */
  readonly newId?: () => string;
}

const randomId = (): string => randomBytes(16).toString('base64url');

/**
 * The sessions of one WHEP endpoint, by id.
 * @example
 * const sessions = new WhepSessions<PeerSession>({ basePath: '/whep', maxSessions: 50 });
 * const session = sessions.add(peer); // undefined when full
 * whepReplies.created(session, answerSdp); // 201, Location: /whep/<id>, ETag
 */
export class WhepSessions<T> {
  private readonly byId = new Map<string, WhepSession<T>>();
  private readonly newId: () => string;

  constructor(private readonly options: WhepSessionsOptions) {
    this.newId = options.newId ?? randomId;
  }

  get size(): number {
    return this.byId.size;
  }

  get full(): boolean {
    return this.byId.size >= this.options.maxSessions;
  }

  /** Registers a session for `peer`, or gives undefined when {@link full}. */
  add(peer: T): WhepSession<T> | undefined {
    if (this.full) return undefined;
    let id = this.newId();
    while (this.byId.has(id)) id = this.newId();
    const session: WhepSession<T> = { id, location: `${this.options.basePath}/${id}`, etag: `"${this.newId()}"`, peer };
    this.byId.set(id, session);
    return session;
  }

  get(id: string): WhepSession<T> | undefined {
    return this.byId.get(id);
  }

  /** Forgets a session; gives it back (for its peer to be closed) or undefined when there was none. */
  remove(id: string): WhepSession<T> | undefined {
    const session = this.byId.get(id);
    this.byId.delete(id);
    return session;
  }

  sessions(): IterableIterator<WhepSession<T>> {
    return this.byId.values();
  }
}

const text = (status: number, body: string, headers: Record<string, string> = {}): WhepReply => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  body,
});

/** The headers a browser page on another origin may read from a WHEP answer. */
const EXPOSED = 'Location, ETag, Accept-Patch, Link, Retry-After';

/** The HTTP answers of a WHEP endpoint and its sessions. */
export const whepReplies = {
  /** 201 with the answer: `Location` of the session, its `ETag`, `application/sdp`. */
  created(session: WhepSession<unknown>, answerSdp: string): WhepReply {
    return {
      status: 201,
      headers: {
        'content-type': SDP_CONTENT_TYPE,
        location: session.location,
        etag: session.etag,
        'access-control-expose-headers': EXPOSED,
      },
      body: answerSdp,
    };
  },
  /** 415: the offer must be `application/sdp`. */
  unsupportedMediaType(got: string | undefined): WhepReply {
    return text(415, `a WHEP offer must be ${SDP_CONTENT_TYPE}, not ${got || 'no content type'}`, { 'accept-post': SDP_CONTENT_TYPE });
  },
  /** 400 with why the offer cannot be answered. */
  badOffer(reason: string): WhepReply {
    return text(400, reason);
  },
  /** 409 + Retry-After: no stream to answer with yet (the draft's "not live"). */
  noStream(retryAfterS = WHEP_RETRY_AFTER_S): WhepReply {
    return text(409, 'the stream has not started yet', { 'retry-after': String(retryAfterS) });
  },
  /** 503 + Retry-After: no room for one more session. */
  full(retryAfterS = WHEP_RETRY_AFTER_S): WhepReply {
    return text(503, 'too many WebRTC viewers', { 'retry-after': String(retryAfterS) });
  },
  /** 200: the session is over. */
  deleted(): WhepReply {
    return { status: 200, headers: {} };
  },
  /** 404: no session at that path (never was, or already ended). */
  unknownSession(): WhepReply {
    return text(404, 'no such WHEP session');
  },
  /**
   * PATCH: we support neither trickle ICE nor ICE restarts (the answer carries every candidate at once, and a
   * client's candidates are learnt from its connectivity checks), and the draft's answer for that is 405.
   */
  patch(): WhepReply {
    return text(405, 'this WHEP server takes no trickle ICE or ICE restart: the answer holds every candidate', {
      allow: 'OPTIONS, DELETE',
    });
  },
  /**
   * OPTIONS (CORS preflight and discovery) on the endpoint (`session` false) or a session. `allowOrigin` is the
   * server's CORS policy; without it no `Access-Control-Allow-Origin` is sent, so only same-origin pages may call.
   */
  options(session: boolean, allowOrigin?: string): WhepReply {
    const methods = session ? 'OPTIONS, DELETE' : 'OPTIONS, POST';
    return {
      status: 204,
      headers: {
        allow: methods,
        ...(session ? {} : { 'accept-post': SDP_CONTENT_TYPE }),
        'access-control-allow-methods': methods,
        'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
        'access-control-expose-headers': EXPOSED,
        ...(allowOrigin ? { 'access-control-allow-origin': allowOrigin, vary: 'Origin' } : {}),
      },
    };
  },
} as const;

/** A media type without its parameters, lowercased: `Application/SDP; charset=utf-8` → `application/sdp`. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** What a POST on the endpoint comes to: answer with this choice (then {@link whepReplies.created}), or reply now. */
export type WhepPostDecision = { readonly answer: H264AnswerChoice } | { readonly reply: WhepReply };

/**
 * The decision for `POST <endpoint>`: 415 for a body that is not `application/sdp`, 400 for an unreadable offer,
 * 409 without a stream, 503 when full, 400 for an offer that cannot take the stream; else the answer's choice (with
 * the server's `sound`, when it has some, on an audio section that takes it).
 * @example
 * const decision = decideWhepPost(request.headers['content-type'], body, profile, sessions.full);
 * if ('reply' in decision) return respond(decision.reply);
 */
export function decideWhepPost(
  contentType: string | undefined,
  body: string,
  stream: StreamProfile | undefined,
  full: boolean,
  sound?: RtpAudio,
  retryAfterS = WHEP_RETRY_AFTER_S,
): WhepPostDecision {
  if (mediaType(contentType) !== SDP_CONTENT_TYPE) return { reply: whepReplies.unsupportedMediaType(contentType) };
  const offer = readSdpOffer(body);
  if (!offer.ok) return { reply: whepReplies.badOffer(offer.reason) };
  if (!stream) return { reply: whepReplies.noStream(retryAfterS) };
  if (full) return { reply: whepReplies.full(retryAfterS) };
  const choice = chooseH264Answer(offer.value, stream, sound);
  return choice.ok ? { answer: choice.value } : { reply: whepReplies.badOffer(choice.reason) };
}

/**
 * The decision for `PATCH <session>`: 404 for an unknown session, else 405 whatever the body (see
 * {@link whepReplies.patch}).
 */
export function decideWhepPatch(session: WhepSession<unknown> | undefined): WhepReply {
  return session ? whepReplies.patch() : whepReplies.unknownSession();
}
