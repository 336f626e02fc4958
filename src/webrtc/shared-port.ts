import { createSocket } from 'node:dgram';
import { closeNow, gathered, type WebRtcConnection, type WebRtcLibrary } from './peer-session';

/**
 * The one UDP port every WebRTC viewer shares (ICE UDP mux): held open for the server's life, and whether it can be
 * bound. The library's connections are made in peer-session.ts (node-datachannel's one edge); this file only asks it
 * for an idle one.
 */

/** The shared UDP port held open: see {@link holdSharedPort}. */
export interface SharedPortHold {
  /** Whether it still holds the port (its connection has neither failed nor closed). */
  readonly held: boolean;
  /** Lets go of the port (with the last connection on it). */
  close(): void;
  /** Resolves once its connection has closed (before the library's `cleanup()`, as for a session). */
  readonly released: Promise<void>;
}

/**
 * The offer a {@link holdSharedPort} connection answers: from nobody (no candidates, so no check is ever sent), a
 * data channel section only (no track: none to keep until cleanup, see `addTrack` in peer-session.ts). Answering, not offering:
 * the library throws a failed gathering to the caller of `setRemoteDescription`, where an offerer's gathering fails on
 * the library's own thread and aborts the process.
 */
const HOLD_OFFER = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:pistreamhold',
  'a=ice-pwd:pistreamholdsharedport0',
  `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => 'AB').join(':')}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
  '',
].join('\r\n');

/**
 * How often a hold's connection is replaced by a new one: libjuice gives up on a connection that has no candidate
 * to check after about 40 s (measured: failed between 36 and 41 s), and the new one joins the socket before the old
 * one lets go, so the socket never closes.
 */
const HOLD_RENEW_MS = 15_000;

/** One idle connection on the shared port, answering {@link HOLD_OFFER}; rejects when the port cannot be bound. */
async function holdingConnection(library: WebRtcLibrary, port: number, timeoutMs: number): Promise<WebRtcConnection> {
  const pc = new library.PeerConnection('pistream-port', {
    iceServers: [],
    enableIceUdpMux: true,
    portRangeBegin: port,
    portRangeEnd: port,
  });
  try {
    pc.setRemoteDescription(HOLD_OFFER, 'offer');
    await gathered(pc, timeoutMs);
    return pc;
  } catch (err) {
    await closeNow(pc, timeoutMs);
    throw new Error(`UDP port ${port} cannot be bound: ${String((err as Error)?.message ?? err)}`, { cause: err });
  }
}

/**
 * Holds the shared UDP port open until closed: an idle connection of ours (answering an offer from nobody, it sends
 * nothing), replaced every {@link HOLD_RENEW_MS}, whose ICE agent keeps libjuice's socket on `port`, so that every
 * session joins that socket. Without it, libjuice closes the socket with the last connection and binds the port
 * again for the next one; but the socket is not close-on-exec, so every child process started meanwhile (ffmpeg: the
 * encoder, a transcoder, a snapshot, a recording) holds a copy, and the next bind fails ("Failed to gather local ICE
 * candidates") until that child exits. Rejects, once what it opened has closed, when the port cannot be bound
 * (another program holds it).
 * @example
 * const hold = await holdSharedPort(library, 8189); // then PeerSession.answer(…, { port: 8189 }) for each viewer
 */
export async function holdSharedPort(
  library: WebRtcLibrary,
  port: number,
  { timeoutMs = 5000, renewMs = HOLD_RENEW_MS }: { readonly timeoutMs?: number; readonly renewMs?: number } = {},
): Promise<SharedPortHold> {
  let open = 0;
  let closing = false;
  let lost = false;
  let released!: () => void;
  const allClosed = new Promise<void>((resolve) => (released = resolve));
  let current: WebRtcConnection | undefined;
  const connect = async (): Promise<WebRtcConnection> => {
    const pc = await holdingConnection(library, port, timeoutMs);
    open++;
    pc.onStateChange((state) => {
      if (state === 'failed' && pc === current) lost = true;
      if (state !== 'closed') return;
      if (--open === 0 && closing) released();
    });
    return pc;
  };
  current = await connect();
  const renew = async (): Promise<void> => {
    const old = current!;
    try {
      current = await connect();
    } catch {
      lost = true; // Another program took the port in a moment when it was free: the next answer takes it again.
      return;
    }
    old.close();
    if (closing) current.close();
  };
  const timer = setInterval(() => void renew(), renewMs).unref();
  return {
    get held() {
      return !closing && !lost;
    },
    close: () => {
      if (closing) return;
      closing = true;
      clearInterval(timer);
      current!.close();
      if (open === 0) released();
    },
    released: allClosed,
  };
}

/** Whether `port` can be bound for UDP right now (a plain socket, without SO_REUSEADDR). */
export function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, () => socket.close(() => resolve(true)));
  });
}

/**
 * Resolves once the shared UDP port can be bound again (true), or false after `timeoutMs` (another program holds
 * it). libdatachannel lets go of the port on its own thread some time after the last connection has closed, and
 * says nothing: a port taken in that moment fails to gather. Call it before {@link holdSharedPort} when no
 * connection of the process is open (a server stopped and started again on the same port).
 * @example
 * if (noPeers) await sharedPortReleased(8189);
 */
export async function sharedPortReleased(port: number, timeoutMs = 1500): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 25))) {
    if (await udpPortFree(port)) return true;
    if (Date.now() > deadline) return false;
  }
}
