import type { Plugin, Request, ResponseObject, ResponseToolkit, Server, ServerRoute } from '@hapi/hapi';
import type { Subscription } from 'rxjs';
import { opus } from '../../audio/opus';
import { PCM } from '../../audio/pcm';
import { version } from '../../version';
import { streamProfile, type H264AnswerChoice } from '../../webrtc/h264-answer';
import { answering, live, mayCleanUp, noneLive } from '../../webrtc/live-connections';
import { cleanupWebRtc, OfferRefusedError, PeerSession, type WebRtcLibrary } from '../../webrtc/peer-session';
import { holdSharedPort, sharedPortReleased, type SharedPortHold } from '../../webrtc/shared-port';
import { MAX_OFFER_BYTES } from '../../webrtc/sdp-offer';
import { decideWhepPatch, decideWhepPost, WhepSessions, whepReplies, type WhepReply, type WhepSession } from '../../webrtc/whep-sessions';
import { codecAudio } from '../audio-status';
import { H264_FORMAT, webRtcState } from '../webrtc-state';
import { addWebRtcMetrics, type MeasuredPeers } from '../webrtc-metrics';
import { feedSound, holdStream, spsOf, WhepViewer } from '../whep-viewer';
import { lookAtPictures, startPictureWatch, WHEP_WATCH_EVERY_MS, type PictureWatch, type PictureWatchChange } from '../whep-watch';
import { dependencyOf } from './dependency';
import { addPartRoutes } from './part-routes';
import type { PistreamCore } from './core-plugin';
import { CORE, stopOrder, VIEWERS, WEBRTC } from './plugin-names';

/** The WHEP endpoint's path (below the plugin's prefix); sessions live under it. */
export const WHEP_PATH = '/whep';

/** How long a POST waits for the stream's first keyframe (an on-demand camera starting) before its 409. */
const FIRST_KEYFRAME_WAIT_MS = 5000;

/** How long stopping waits for the peers' connections to close before leaving the library as it is. */
const RELEASE_WAIT_MS = 3000;

/** What a session keeps: its peer, the delivery feeding it, and its place under the viewer caps. */
interface Peer {
  /** Its number on this endpoint, for the metrics (the session id is a secret). */
  readonly viewer: string;
  readonly session: PeerSession;
  readonly address: string;
  readonly joinedAt: number;
  /** Whether it gets pictures (looked at every WHEP_WATCH_EVERY_MS). */
  watch: PictureWatch;
  end(why: string): void;
}

/** The log line when a viewer has gone without pictures too long, or gets them again. */
function watchLine(peer: Peer, change: PictureWatchChange): string {
  const who = `viewer ${WHEP_PATH} ${peer.address}`;
  if (change === 'flowing') return `${who} gets pictures again`;
  const stats = peer.session.stats();
  const since = peer.watch.sent ? 'since its last' : 'since it joined';
  const report =
    stats.fractionLost === undefined ? 'no receiver report' : `its last receiver report: ${Math.round(stats.fractionLost * 100)} % lost`;
  return (
    `${who} has had no picture for ${Math.round((Date.now() - peer.watch.since) / 1000)} s ${since}: its connection is ` +
    `${stats.state}, its media ${stats.mediaOpen ? 'open' : 'not open'}, ${report}`
  );
}

/** Turns a {@link WhepReply} into hapi's response, with the CORS origin the request may read it from. */
function respond(h: ResponseToolkit, reply: WhepReply, cors: Record<string, string>): ResponseObject {
  const response = h.response(reply.body).code(reply.status);
  for (const [name, value] of Object.entries({ ...reply.headers, ...cors })) {
    if (name === 'content-type') response.type(value);
    else response.header(name, value);
  }
  return response;
}

/** The `Access-Control-Allow-Origin` a request's `Origin` gets: `*` or itself when allowed, else none. */
function allowOriginOf(request: Request, allowOrigins: readonly string[]): string | undefined {
  const origin = request.headers.origin as string | undefined;
  if (allowOrigins.includes('*')) return '*';
  return origin && allowOrigins.includes(origin) ? origin : undefined;
}

/** One WHEP endpoint: its sessions, the POST that makes them, their end, and stop. */
class WhepEndpoint {
  readonly sessions: WhepSessions<Peer>;
  private stopping = false;
  private joined = 0;
  /** The look at every session's pictures, while there are sessions. */
  private watching?: NodeJS.Timeout;
  /** The shared UDP port, held from the first answer until stop (`holdSharedPort`), and the taking under way. */
  private hold?: SharedPortHold;
  private holding?: Promise<void>;
  /** What the sessions that ended were asked (their counts keep adding to the totals in /metrics). */
  private readonly departedTotals = { keyframeRequests: 0, nackedPackets: 0 };

  constructor(
    private readonly core: PistreamCore,
    private readonly library: WebRtcLibrary,
    prefix: string,
  ) {
    this.sessions = new WhepSessions<Peer>({ basePath: `${prefix}${WHEP_PATH}`, maxSessions: core.options.maxViewers });
  }

  private cors(request: Request): Record<string, string> {
    const origin = allowOriginOf(request, this.core.options.allowOrigins);
    return origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
  }

  /** `POST /whep`: the checks in their order (type and offer, room, the stream, the codec), then the answer. */
  async post(request: Request, h: ResponseToolkit): Promise<ResponseObject> {
    const cors = this.cors(request);
    const contentType = request.headers['content-type'] as string | undefined;
    const body = Buffer.isBuffer(request.payload) ? request.payload.toString('utf8') : '';
    // The offer's type and form first, without starting the camera: with no stream given, a good offer gets 409.
    const early = decideWhepPost(contentType, body, undefined, false);
    if ('reply' in early && early.reply.status !== 409) return respond(h, early.reply, cors);
    if (this.stopping) return respond(h, whepReplies.full(), cors);
    const address = this.core.addressOf(request);
    const seat = dependencyOf(request.server, VIEWERS).viewers.takeSeat(address);
    if (typeof seat === 'string') return respond(h, { ...whepReplies.full(), body: seat }, cors);
    const reply = await this.answered(contentType, body, address, seat).catch((err: Error) =>
      // The library refusing the offer is the client's 400; anything else (the port taken) is ours to retry.
      err instanceof OfferRefusedError
        ? whepReplies.badOffer(`the offer cannot be answered: ${err.message}`)
        : { ...whepReplies.full(), body: `the WebRTC answer failed: ${err.message}` },
    );
    if (reply.status !== 201) seat();
    return respond(h, reply, cors);
  }

  /** Holds the stream while its first keyframe says the profile, answers the offer with it, and starts the session. */
  private async answered(contentType: string | undefined, body: string, address: string, seat: () => void): Promise<WhepReply> {
    const held = holdStream(this.core.hub.gops(H264_FORMAT), FIRST_KEYFRAME_WAIT_MS);
    let handedOver = false;
    try {
      const keyframe = await held.keyframe;
      const sps = keyframe && spsOf(keyframe.data);
      const profile = sps && streamProfile(sps);
      // Sound for offers that take it, when the server has some: Opus, encoded once for every WebRTC viewer.
      const sound = this.core.hub.audio ? opus.rtp : undefined;
      const decision = decideWhepPost(contentType, body, profile?.ok ? profile.value : undefined, this.sessions.full, sound);
      if ('reply' in decision) return decision.reply;
      const session = await this.answer(body, decision.answer);
      const entry = this.start(session, sps!, address, seat, held.release);
      handedOver = entry !== undefined;
      return entry ? whepReplies.created(entry, session.answerSdp) : whepReplies.full();
    } finally {
      // A session holds the stream until its own subscription (from its open on) has taken over, or it ends.
      if (!handedOver) held.release();
    }
  }

  private async answer(offer: string, choice: H264AnswerChoice): Promise<PeerSession> {
    const { port, addresses, stun } = this.core.options.webrtc;
    return answering(async () => {
      await this.holdPort();
      return live(await PeerSession.answer(this.library, offer, choice, { port, addresses, iceServers: stun }));
    });
  }

  /**
   * Takes the shared UDP port for this endpoint until it stops, unless held already: libjuice would otherwise close
   * its socket with the last session and bind it again for the next, and a child process started meanwhile (ffmpeg)
   * keeps a copy of the socket, so that bind would fail (docs/webrtc.md). Rejects when the port cannot be bound.
   */
  private async holdPort(): Promise<void> {
    if (this.hold?.held) return;
    this.holding ??= this.takePort().finally(() => (this.holding = undefined));
    await this.holding;
  }

  private async takePort(): Promise<void> {
    const { port } = this.core.options.webrtc;
    this.hold?.close();
    // A connection of this process closed a moment ago (a server stopped and started again on the port) lets go of
    // it some time later, and says nothing when.
    if (noneLive()) await sharedPortReleased(port);
    const hold = live(await holdSharedPort(this.library, port));
    if (this.stopping) hold.close();
    else this.hold = hold;
  }

  /**
   * Registers the session, feeds it from its open on (then lets go of the held stream: `releaseHeld`), and ends it
   * (once) however it ends.
   */
  private start(
    session: PeerSession,
    sps: Buffer,
    address: string,
    seat: () => void,
    releaseHeld: () => void,
  ): WhepSession<Peer> | undefined {
    const { core } = this;
    let viewer: WhepViewer | undefined;
    let sound: Subscription | undefined;
    let id = '';
    const end = (why: string): void => {
      if (!this.sessions.remove(id)) return;
      viewer?.unsubscribe();
      sound?.unsubscribe();
      releaseHeld();
      session.close();
      seat();
      const stats = session.stats();
      this.departedTotals.keyframeRequests += stats.keyframeRequests;
      this.departedTotals.nackedPackets += stats.nackedPackets;
      const pictureless = stats.accessUnitsSent === 0 ? ', without a picture' : '';
      core.log('info', `viewer left ${WHEP_PATH} ${address}, ${why}${pictureless} (${this.sessions.size} WebRTC watching)`, {
        format: 'webrtc',
        path: WHEP_PATH,
        address,
        durationMs: Date.now() - peer.joinedAt,
        viewers: this.sessions.size,
        ...stats,
      });
    };
    const now = Date.now();
    const watch = startPictureWatch(core.hub.stats.pictures, now);
    const peer: Peer = { viewer: String(++this.joined), session, address, joinedAt: now, watch, end };
    const added = this.stopping ? undefined : this.sessions.add(peer);
    if (!added) {
      session.close();
      return undefined;
    }
    id = added.id;
    this.watching ??= setInterval(() => this.lookAtSessions(), WHEP_WATCH_EVERY_MS).unref();
    session.onOpen(() => {
      viewer = new WhepViewer(session, sps, end).subscribeTo(core.hub.gops(H264_FORMAT));
      // Its own subscription: the sound never waits for pictures, nor pictures for it.
      if (session.hasSound && core.hub.audio) sound = feedSound(session, core.hub.audio.packets(opus));
      releaseHeld();
    });
    // The next keyframe is at most one GOP away, and the encoder is shared: counted (stats), not forced.
    session.onClosed((why) => end(`its connection ${why}`));
    core.log('info', `viewer joined ${WHEP_PATH} ${address} (${this.sessions.size} WebRTC watching)`, {
      format: 'webrtc',
      path: WHEP_PATH,
      address,
      viewers: this.sessions.size,
    });
    return added;
  }

  /**
   * Looks at every session's pictures: a viewer that has had none for WHEP_NO_PICTURE_MS while the stream made them
   * gets a warning in the log (and counts in /metrics), and a line when it gets them again. Stops with the last session.
   */
  private lookAtSessions(): void {
    if (this.sessions.size === 0) {
      clearInterval(this.watching);
      this.watching = undefined;
      return;
    }
    const made = this.core.hub.stats.pictures;
    for (const { peer } of this.sessions.sessions()) {
      const { watch, change } = lookAtPictures(peer.watch, peer.session.stats().accessUnitsSent, made, Date.now());
      const line = change && watchLine(peer, change);
      peer.watch = watch;
      if (!line) continue;
      const fields = { format: 'webrtc', path: WHEP_PATH, address: peer.address, ...peer.session.stats() };
      this.core.log(change === 'stalled' ? 'warn' : 'info', line, fields);
    }
  }

  /** The live sessions and the totals of those that ended, for the metrics. */
  measured(): MeasuredPeers {
    return {
      peers: () =>
        [...this.sessions.sessions()].map(({ peer }) => ({
          viewer: peer.viewer,
          stats: () => peer.session.stats(),
          withoutPictures: () => peer.watch.stalled,
        })),
      departed: () => this.departedTotals,
    };
  }

  delete(request: Request, h: ResponseToolkit): ResponseObject {
    const session = this.sessions.get(String(request.params.id));
    if (!session) return respond(h, whepReplies.unknownSession(), this.cors(request));
    session.peer.end('it said goodbye (DELETE)');
    return respond(h, whepReplies.deleted(), this.cors(request));
  }

  patch(request: Request, h: ResponseToolkit): ResponseObject {
    return respond(h, decideWhepPatch(this.sessions.get(String(request.params.id))), this.cors(request));
  }

  /** Ends every session, waits for their connections to close, then frees the library's threads if no peer is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watching);
    const peers = [...this.sessions.sessions()].map((session) => session.peer);
    for (const peer of peers) peer.end('the server is stopping');
    // An answer under way took the port or will close its hold itself (`takePort`).
    this.hold?.close();
    const released = Promise.all([...peers.map((peer) => peer.session.released), this.hold?.released]);
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      released.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), RELEASE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    // Cleaning up under a connection still closing crashes the process: only when every one has closed.
    if (inTime && mayCleanUp()) cleanupWebRtc(this.library);
  }
}

/** 405 with what `path` takes, for any other method (a body is never read). */
function notAllowed(path: string, allow: string): ServerRoute[] {
  const handler = (_request: Request, h: ResponseToolkit) =>
    h.response(`Method Not Allowed: use ${allow}`).code(405).type('text/plain').header('Allow', allow);
  return [
    { method: 'GET', path, handler },
    { method: '*', path, options: { payload: { parse: false } }, handler },
  ];
}

/** The WHEP routes: POST on the endpoint, DELETE and PATCH on a session (the page's credentials), other methods 405. */
function whepRoutes(endpoint: WhepEndpoint): ServerRoute[] {
  const session = `${WHEP_PATH}/{id}`;
  return [
    {
      method: 'POST',
      path: WHEP_PATH,
      options: { payload: { parse: false, output: 'data', maxBytes: MAX_OFFER_BYTES } },
      handler: (request, h) => endpoint.post(request, h),
    },
    { method: 'DELETE', path: session, handler: (request, h) => endpoint.delete(request, h) },
    { method: 'PATCH', path: session, options: { payload: { parse: false } }, handler: (request, h) => endpoint.patch(request, h) },
    ...notAllowed(WHEP_PATH, 'OPTIONS, POST'),
    ...notAllowed(session, 'OPTIONS, DELETE, PATCH'),
  ];
}

/** OPTIONS (CORS preflight, discovery): a preflight carries no credentials, so these take none. */
function optionsRoutes(core: PistreamCore): ServerRoute[] {
  const answer = (session: boolean) => (request: Request, h: ResponseToolkit) =>
    respond(h, whepReplies.options(session, allowOriginOf(request, core.options.allowOrigins)), {});
  return [
    { method: 'OPTIONS', path: WHEP_PATH, options: { auth: false }, handler: answer(false) },
    { method: 'OPTIONS', path: `${WHEP_PATH}/{id}`, options: { auth: false }, handler: answer(true) },
  ];
}

/** What the WebRTC plugin exposes as `server.plugins['pistream-webrtc']`. */
export interface PistreamWebRtcApi {
  /** Whether WebRTC viewers are served, or why not. */
  readonly state: { readonly on: boolean; readonly reason?: string };
  /** WebRTC viewers now. */
  viewerCount(): number;
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    'pistream-webrtc': PistreamWebRtcApi;
  }
}

/**
 * WebRTC viewers over WHEP: `POST /whep` answers an `application/sdp` offer with the hub's H.264 as RTP on one UDP
 * port, `DELETE /whep/<id>` ends the session. Each session is a viewer like the WebSocket ones (the page's
 * credentials, a place under `maxViewers` and the per-address cap, the viewer log lines). Off, with a startup line
 * saying why, for MPEG-1 or where the library has no build. On stop (with the viewers): every session ended, then
 * the library's threads freed. Depends on `pistream-core` and `pistream-viewers`.
 *
 * @example
 * await server.register(pistreamWebRtc); // after pistreamCore and pistreamViewers
 */
export const pistreamWebRtc: Plugin<void> = {
  name: WEBRTC,
  version,
  dependencies: [CORE, VIEWERS],
  register: (server: Server) => {
    const core = dependencyOf(server, CORE);
    dependencyOf(server, VIEWERS);
    const state = webRtcState(core.options, core.hub);
    const endpoint = state.on ? new WhepEndpoint(core, state.library, server.realm.modifiers.route.prefix ?? '') : undefined;
    server.expose('state', state.on ? { on: true } : { on: false, reason: state.reason });
    server.expose('viewerCount', () => endpoint?.sessions.size ?? 0);
    const audio = codecAudio(opus, core.hub.audio, PCM.sampleRate, PCM.channels);
    const details = state.on ? { path: WHEP_PATH, ...(audio ? { audio } : {}) } : { off: state.reason };
    core.reports.addStreamsDetails(() => ({ webrtc: details }));
    server.ext('onPostStart', () => {
      const sound = audio ? `, with ${audio.label} sound` : '';
      if (state.on) core.log('info', `WebRTC (WHEP) at ${WHEP_PATH}: every viewer on UDP port ${core.options.webrtc.port}${sound}`);
      else core.log(core.options.webrtc.enabled ? 'warn' : 'info', state.reason);
    });
    if (!endpoint) return;
    core.reports.addViewerCount(() => endpoint.sessions.size);
    addWebRtcMetrics(core.reports.metrics, endpoint.measured());
    addPartRoutes(server, core, whepRoutes(endpoint));
    server.route(optionsRoutes(core));
    server.ext('onPreStop', () => endpoint.stop(), stopOrder(WEBRTC));
  },
};
