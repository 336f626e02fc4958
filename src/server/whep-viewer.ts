import { LIMITS } from '../defaults';
import type { Observable, Subscription } from 'rxjs';
import type { AudioPacket } from '../audio/audio-codec';
import { nalType, nalUnits, NAL_TYPE } from '../codecs/h264/nal';
import { DeliverySubscriber } from '../operators/deliver';
import type { Gop } from '../operators/gop-cache';
import type { MuxedPicture } from '../picture';
import type { PeerSession } from '../webrtc/peer-session';

/** The part of a {@link PeerSession} a WebRTC viewer drives (a stand-in in tests). */
export type WhepPeer = Pick<PeerSession, 'sendAccessUnit' | 'lossReport' | 'close'>;

/**
 * Share of packets a peer may report lost (RTCP receiver report, per interval) before it is dropped to the next
 * keyframe: the pictures until then would be decoded from references it may have lost.
 */
export const WHEP_LOSSY_FRACTION = 0.1;

/** Why a WebRTC viewer skips pictures: its receiver reports too much loss. */
export type WhepDropReason = 'loss';

/**
 * The SPS NAL unit (header byte first) of an Annex B access unit, or undefined: a key unit carries it in front.
 * @example
 * spsOf(keyframe.data); // <Buffer 67 42 c0 1e …>
 */
export function spsOf(annexB: Buffer): Buffer | undefined {
  return nalUnits(annexB).find((nal) => nalType(nal) === NAL_TYPE.sps);
}

/** Each keyframe's SPS, read once however many WebRTC viewers check it (the hub shares one buffer per picture). */
const KEYFRAME_SPS = new WeakMap<Buffer, Buffer | null>();

function keyframeSps(annexB: Buffer): Buffer | undefined {
  let sps = KEYFRAME_SPS.get(annexB);
  if (sps === undefined) KEYFRAME_SPS.set(annexB, (sps = spsOf(annexB) ?? null));
  return sps ?? undefined;
}

/**
 * One WebRTC viewer's delivery: the hub's H.264 GOP updates (`hub.gops('h264')`) to its peer, the GOP so far as a
 * burst on joining (a clean first picture at once), then live. Each receiver report of more than
 * {@link WHEP_LOSSY_FRACTION} lost drops the peer to the next keyframe, once: a report is acted on when it comes,
 * never again, and a keyframe always goes. A lasting report must not hold a peer: one that reports only in answer to
 * our sender reports (libdatachannel's receiver), which go out with our packets, would never report again, and a
 * browser stops reporting on a stream it no longer receives; with loss that lasts, the peer gets its keyframes and
 * what follows each until the next lossy report, as a slow WebSocket viewer is dropped to keyframes. A key unit whose SPS is not
 * the one the session was answered for ends it: the answer named that SPS's profile, and a browser shows black when
 * the stream and the answer disagree. `ended` is told why once.
 *
 * @example
 * new WhepViewer(peer, sps, (why) => log(why)).subscribeTo(hub.gops('h264'));
 */
export class WhepViewer extends DeliverySubscriber<MuxedPicture, WhepDropReason> {
  /** The number of the last receiver report acted on. */
  private reportRead = 0;

  constructor(
    private readonly peer: WhepPeer,
    private readonly sps: Buffer,
    private readonly onEnd: (why: string) => void,
  ) {
    super();
  }

  protected slowReason(picture: MuxedPicture): WhepDropReason | undefined {
    const report = this.peer.lossReport();
    if (!report || report.number === this.reportRead) return undefined;
    this.reportRead = report.number;
    // A keyframe is what a peer recovers from: it goes whatever the report said.
    return !picture.keyframe && report.fractionLost > WHEP_LOSSY_FRACTION ? 'loss' : undefined;
  }

  protected send(picture: MuxedPicture): void {
    if (picture.keyframe && !this.sps.equals(keyframeSps(picture.data) ?? this.sps)) {
      this.finish('the stream changed its SPS (profile or size)');
      return;
    }
    this.peer.sendAccessUnit(picture.data, picture.capturedAt);
  }

  protected failed(err: unknown): void {
    this.finish(`the stream failed: ${(err as Error)?.message ?? String(err)}`);
  }

  protected ended(): void {
    this.finish('the stream ended');
  }

  private finish(why: string): void {
    this.unsubscribe();
    this.peer.close();
    this.onEnd(why);
  }
}

/**
 * A WebRTC viewer's sound: the shared Opus packets (the encoder runs while any viewer takes them) to its peer as they
 * come, but none older than `LIMITS.maxSoundAgeMs` by `now`. Sending never blocks (a peer that cannot keep up loses
 * packets in its own socket), so a slow peer slows no one, and the sound has its own subscription: pictures never
 * wait for it.
 * @example
 * const sound = feedSound(peer, hub.audio.packets(opus)); // sound.unsubscribe() when the viewer leaves
 */
export function feedSound(
  peer: Pick<PeerSession, 'sendAudio'>,
  packets$: Observable<AudioPacket>,
  now: () => number = Date.now,
): Subscription {
  return packets$.subscribe((packet) => {
    if (now() - packet.capturedAt <= LIMITS.maxSoundAgeMs) peer.sendAudio(packet.data, packet.capturedAt);
  });
}

/** The stream held running while a WHEP offer is answered, and its first key unit once there is one. */
export interface HeldStream {
  /** The first key unit, or undefined when none came within the wait. */
  readonly keyframe: Promise<MuxedPicture | undefined>;
  /** Stops holding the stream (the session's own subscription, if any, has taken over by then). Idempotent. */
  readonly release: () => void;
}

/**
 * Subscribes to `gops$` (so an on-demand camera starts) and gives its first key unit, or undefined after `waitMs`.
 * It holds the stream until released: while the offer is answered and the peer connects, the camera keeps running.
 * @example
 * const held = holdStream(hub.gops('h264'), 5000);
 * const keyframe = await held.keyframe; // its SPS says which profile to answer with
 */
export function holdStream(gops$: Observable<Gop<MuxedPicture>>, waitMs: number): HeldStream {
  let resolve!: (picture: MuxedPicture | undefined) => void;
  const keyframe = new Promise<MuxedPicture | undefined>((r) => (resolve = r));
  const timer = setTimeout(() => resolve(undefined), waitMs);
  const subscription: Subscription = gops$.subscribe({
    next: (gop) => {
      if (!gop[0]?.keyframe) return;
      clearTimeout(timer);
      resolve(gop[0]);
    },
    error: () => resolve(undefined),
    complete: () => resolve(undefined),
  });
  return {
    keyframe,
    release: () => {
      clearTimeout(timer);
      resolve(undefined);
      subscription.unsubscribe();
    },
  };
}
