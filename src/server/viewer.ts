import { asyncScheduler, type Observable, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { DEFAULTS, LIMITS } from '../defaults';
import type { MuxedSound, WireFormat } from '../formats/wire-format';
import { DeliverySubscriber } from '../operators/deliver';
import type { Gop } from '../operators/gop-cache';
import type { MuxedPicture } from '../picture';
import { parseControlMessage } from './control-message';
import { ViewerLag } from './viewer-lag';
import { directTarget, sendThrough, type DirectTarget } from './ws-frame';

/** Where a socket keeps its viewer, for the listeners every viewer shares. */
const VIEWER = Symbol('pistream.viewer');
type ViewerSocket = WebSocket & { [VIEWER]?: Viewer };

/** The error listener of every viewer's socket (see the constructor). */
function ignore(): void {}

/**
 * Why a picture was not sent to a viewer: `lag`: its acks say it is more than `maxLagMs` behind; `backlog`: its
 * socket holds more than `highWaterMark` unsent bytes; `resync`: it has caught up and waits for a keyframe.
 */
export type ViewerDropReason = 'lag' | 'backlog' | 'resync';

/**
 * What a viewer is told to do, the same for every viewer of one format on one server: {@link ViewerServer} makes one
 * per format and hands it to each of them, so a viewer holds no options, stream or callbacks of its own.
 */
export interface ViewerOptions {
  /** The wire format this viewer gets: its `preamble` first, then each picture's `wire` bytes. */
  readonly format: WireFormat;
  /** The hub's GOP updates in that format (`hub.gops(format)`). */
  readonly gops$: Observable<Gop<MuxedPicture>>;
  /**
   * The format's sound messages, when it sends sound apart from pictures (`hub.sound(format)`): each is sent the
   * moment it comes while the viewer is sent pictures and keeps up, else dropped (sound never holds a picture back).
   * Listened to from the start, or from the viewer's request when the format sends sound on request
   * (`WireFormat.soundOnRequest`).
   */
  readonly sound$?: Observable<MuxedSound>;
  /** A viewer whose socket holds more than this many unsent bytes is slow. */
  readonly highWaterMark: number;
  /** A viewer that acks and whose oldest unacknowledged picture is older than this (ms) is slow. 0: no bound. */
  readonly maxLagMs: number;
  /** A viewer slow for this long (ms) without a break is closed with 1008. 0: never. */
  readonly stuckMs: number;
  /** Clock and timers (default `asyncScheduler`), so the lag logic runs in virtual time in tests. */
  readonly scheduler?: SchedulerLike;
  /** Told on each ack that moved forward: ms from sending the newest acknowledged picture to its ack. Shared by viewers. */
  readonly onAck?: (lagMs: number, viewer: Viewer) => void;
  /** Told when the viewer has gone, whatever the reason (the viewer says which one: shared by viewers). */
  readonly onClose?: (viewer: Viewer) => void;
}

/** Per-viewer counters. */
export interface ViewerStats {
  /** Pictures sent (a format's preamble is not a picture). */
  sent: number;
  /** Bytes sent, preamble included. */
  bytes: number;
  dropped: Record<ViewerDropReason, number>;
  resyncs: number;
  /** Sound messages sent, and dropped because the viewer was slow (sent apart from pictures: `ViewerOptions.sound$`). */
  soundSent: number;
  soundDropped: number;
  /** Pictures the page says it has decoded (acks), or -1 for a client that never acked. */
  acked: number;
  /** Lag when the last picture was offered: pictures sent but not acknowledged, and the oldest one's age in ms. */
  lagPictures: number;
  lagMs: number;
}

/**
 * One connected viewer: subscribes its socket to the hub's pictures (from a keyframe, dropping whole pictures
 * while the socket is backed up) and reads its small control messages. Everything per picture here is a
 * decision and one `send` of bytes made once for all viewers.
 *
 * The viewer is itself the subscriber of `gops$` (a {@link DeliverySubscriber}): the hub's Subject calls its `next`
 * directly, and every field a picture touches (the path's state, the counters, the lag ring) is on this object or
 * its ring, so a picture costs a viewer as few cache misses as it can. Unsubscribing it stops its pictures; closing
 * it does that and closes the socket.
 *
 * A server holds thousands of these, so a viewer holds only what is its own: its socket's listeners are functions
 * shared by every viewer (they find their viewer on the socket), its options are its format's (shared), and its lag
 * ring is sized to need ({@link ViewerLag}).
 */
export class Viewer extends DeliverySubscriber<MuxedPicture, 'lag' | 'backlog'> {
  readonly connectedAt: number;
  /** The code and reason this server closed the socket with (undefined: not closed by us). */
  closeCode: number | undefined;
  closeReason: string | undefined;
  /** Why this server cut the connection without a closing handshake (a dead peer), if it did. */
  private cutBecause: string | undefined;
  /** The close event's code: the peer's, or 1006 when the connection just went. */
  private peerCode: number | undefined;
  private readonly scheduler: SchedulerLike;
  private readonly lag: ViewerLag;
  private readonly maxLagMs: number;
  private readonly stuckMs: number;
  private readonly highWaterMark: number;
  /** Runs while the viewer is slow: closes it if it still is after `stuckMs`. */
  private stuckTimer: Subscription | undefined;
  private cutOff: Subscription | undefined;
  /** Where this socket's frames can be written directly (frames made once for all viewers; see ws-frame.ts). */
  private readonly target: DirectTarget | undefined;
  /** The connection's socket under ws, where frames are written directly (undefined: ws.send it is). */
  private readonly rawSocket: Duplex | undefined;
  /** Whether the peer answered the last ping (the server's heartbeat reads and clears it). */
  alive = true;
  /** While the joining GOP is replayed into the corked socket. */
  private replaying = false;
  /** Whether the format's preamble has gone out (before the first picture). */
  private greeted = false;
  // The counters `stats` reports, as fields of this object (one object per picture to touch, not two).
  private sent = 0;
  private bytes = 0;
  private lagMs = 0;
  private lagPictures = 0;
  private acked = -1;
  private resyncs = 0;
  private droppedLag = 0;
  private droppedBacklog = 0;
  private droppedResync = 0;
  /** The viewer's subscription to its format's sound (`ViewerOptions.sound$`), while it listens. */
  private sound: Subscription | undefined;
  private soundSent = 0;
  private soundDropped = 0;

  constructor(
    readonly socket: WebSocket,
    private readonly options: ViewerOptions,
    /** The client's address and what it opened, for the log (the server's own words). */
    readonly address = '',
    readonly where: string = options.format.path,
  ) {
    super();
    (socket as ViewerSocket)[VIEWER] = this;
    socket.on('message', onSocketMessage);
    socket.once('close', onSocketClose);
    socket.on('pong', onPong);
    // A socket error (reset, bad frame) is followed by 'close'; the listener keeps it from being thrown.
    socket.on('error', ignore);

    this.scheduler = options.scheduler ?? asyncScheduler;
    this.connectedAt = this.scheduler.now();
    this.lag = new ViewerLag(this.scheduler);
    this.maxLagMs = options.maxLagMs;
    this.stuckMs = options.stuckMs;
    this.highWaterMark = options.highWaterMark;
    this.target = directTarget(socket);
    this.rawSocket = this.target?.socket;
    // If the stream ends while subscribing (a closed hub), the viewer is closed and nothing outlives the constructor.
    this.subscribeTo(options.gops$);
    if (!options.format.soundOnRequest) this.listen(true);
  }

  /** The wire format this viewer gets. */
  get format(): WireFormat {
    return this.options.format;
  }

  /** Per-viewer counters (a snapshot). */
  get stats(): ViewerStats {
    return {
      sent: this.sent,
      bytes: this.bytes,
      dropped: { lag: this.droppedLag, backlog: this.droppedBacklog, resync: this.droppedResync },
      resyncs: this.resyncs,
      soundSent: this.soundSent,
      soundDropped: this.soundDropped,
      acked: this.acked,
      lagPictures: this.lagPictures,
      lagMs: this.lagMs,
    };
  }

  /** Why this viewer is behind now, or undefined; records its lag in the stats as it goes. Lag first: kernel
   * buffers hide a slow peer from the backlog for seconds. */
  protected slowReason(): 'lag' | 'backlog' | undefined {
    const lagMs = this.lag.ms();
    this.lagMs = lagMs;
    this.lagPictures = this.lag.pictures;
    if (this.maxLagMs > 0 && lagMs > this.maxLagMs) return 'lag';
    if (this.socket.bufferedAmount > this.highWaterMark) return 'backlog';
    return undefined;
  }

  /** Sends one picture the viewer's path let through (its format's preamble first). */
  protected send(picture: MuxedPicture): void {
    // Sending means the viewer keeps up: it is no longer on its way to being closed as stuck.
    if (this.stuckTimer !== undefined) this.stopStuckTimer();
    this.lag.record(picture.capturedAt);
    if (!this.greeted) {
      // The first picture is a keyframe (the path starts at one), so a preamble built from its headers is complete.
      this.greeted = true;
      const preamble = this.options.format.preamble?.(picture);
      if (preamble) {
        this.bytes += preamble.length;
        sendThrough(this.socket, this.target, preamble);
      }
    }
    this.sent++;
    this.bytes += picture.wire.length;
    // A format whose pictures carry nothing (the sound alone) sends no empty message.
    if (picture.wire.length > 0) sendThrough(this.socket, this.target, picture.wire);
    // A replay of more than half the high-water mark goes out in parts, so the backlog check sees only what the kernel
    // could not take, as it would without the cork.
    if (this.replaying && this.rawSocket!.writableLength > this.highWaterMark / 2) {
      this.rawSocket!.uncork();
      this.rawSocket!.cork();
    }
  }

  protected dropped(_picture: MuxedPicture, reason: ViewerDropReason): void {
    // Dropping because slow starts the stuck clock; a resync drop means it has caught up.
    if (reason === 'resync') {
      this.droppedResync++;
      this.stopStuckTimer();
      return;
    }
    if (reason === 'lag') this.droppedLag++;
    else this.droppedBacklog++;
    this.startStuckTimer();
  }

  protected resynced(): void {
    this.resyncs++;
  }

  /**
   * The GOP replayed to a joining viewer (up to a second of pictures at once) goes to the socket as one write: corked,
   * its frames leave in one `writev` when the replay ends (no copy: the frames are the ones every viewer sends), rather
   * than a write, a write request and, once the kernel's buffer is full, a queued chunk per picture per viewer, which
   * a thousand joining viewers hold until their sockets drain.
   */
  protected replayStarted(): void {
    this.replaying = this.rawSocket !== undefined;
    this.rawSocket?.cork();
  }

  protected replayEnded(): void {
    this.replaying = false;
    this.rawSocket?.uncork();
  }

  /** The hub restarts its own failures; an error here is final for this viewer only. */
  protected failed(): void {
    this.close(1011, 'stream failed');
  }

  protected ended(): void {
    this.close(1001, 'stream ended');
  }

  /** Closes the socket (once) with a code and reason, and stops sending. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closeCode = code;
    this.closeReason = reason;
    this.unsubscribe();
    this.stopStuckTimer();
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  /** Ends the connection at once, without a closing handshake (dead peers); `because` says why, for the log. */
  terminate(because?: string): void {
    if (!this.closed) this.cutBecause = because;
    this.unsubscribe();
    this.stopStuckTimer();
    this.socket.terminate();
  }

  /** How the viewer ended, for the "viewer left" log line: who closed it, with which code and why. */
  get ending(): string {
    if (this.closeCode !== undefined) return `${this.closeCode} ${this.closeReason ?? ''}`.trim();
    if (this.cutBecause !== undefined) return this.cutBecause;
    if (this.peerCode === 1006) return 'connection lost';
    if (this.peerCode === undefined || this.peerCode === 1005) return 'closed by the viewer';
    return `closed by the viewer (${this.peerCode})`;
  }

  /** Runs from the edge into slowness only, so the per-picture path allocates nothing. */
  private startStuckTimer(): void {
    if (this.stuckTimer === undefined && this.stuckMs > 0) this.stuckTimer = this.scheduler.schedule(stuck, this.stuckMs, this);
  }

  /** `stuckMs` after the viewer became slow, with no picture in between finding it caught up. */
  private onStuck(): void {
    this.stuckTimer = undefined;
    // Asked again now: pictures may have stopped coming while the viewer caught up.
    if (this.slowReason() === undefined) return;
    this.close(1008, 'too slow');
    // A stuck peer may never read the close frame behind its backlog: do not hold its socket for ws's 30 s.
    this.cutOff = this.scheduler.schedule(() => this.socket.terminate(), DEFAULTS.slowCloseGraceMs);
  }

  private stopStuckTimer(): void {
    this.stuckTimer?.unsubscribe();
    this.stuckTimer = undefined;
  }

  /**
   * Starts or stops this viewer's sound (at its start, or at its request where the format sends sound on request).
   * Sound has its own subscription beside the pictures', so each frame goes out as soon as it is encoded, never
   * waiting for a picture, and a picture never waits for sound. Released with the pictures, whichever way the viewer
   * ends (at once, if it closed while subscribing).
   */
  private listen(on: boolean): void {
    if (!on || this.closed) {
      if (this.sound) this.remove(this.sound);
      this.sound?.unsubscribe();
      this.sound = undefined;
      return;
    }
    if (this.sound || !this.options.sound$) return;
    this.sound = this.options.sound$.subscribe((sound) => this.sendSound(sound));
    this.add(this.sound);
  }

  /**
   * Sends one sound message the moment it comes, once this viewer's first keyframe (with what declares the sound) has
   * gone, while it keeps up now: also while its pictures wait for a keyframe after a slow spell, so the sound has no
   * gap where it need not. A slow viewer's sound, and a frame older than `LIMITS.maxSoundAgeMs` (a starting encoder's
   * backlog), are dropped, not queued, so sound never adds to a backlog that pictures wait behind. Sound is not
   * acked: it neither moves the lag nor the stuck clock.
   */
  private sendSound(sound: MuxedSound): void {
    if (this.closed || !this.greeted) return;
    const stale = this.scheduler.now() - sound.capturedAt > LIMITS.maxSoundAgeMs;
    if (stale || this.slowReason() !== undefined) {
      this.soundDropped++;
      return;
    }
    this.soundSent++;
    this.bytes += sound.wire.length;
    sendThrough(this.socket, this.target, sound.wire);
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const message = parseControlMessage(data, isBinary);
    if (message.kind === 'invalid') return this.close(1008, message.reason);
    if (message.kind === 'sound') return this.listen(message.on);
    if (message.kind === 'ack') {
      this.acked = message.frames;
      const lagMs = this.lag.ack(message.frames);
      if (lagMs !== undefined) this.options.onAck?.(lagMs, this);
    }
  }

  private onClose(code: number): void {
    this.peerCode = code;
    this.unsubscribe();
    this.stopStuckTimer();
    this.cutOff?.unsubscribe();
    this.socket.off('message', onSocketMessage);
    this.socket.off('pong', onPong);
    this.options.onClose?.(this);
  }
}

// The listeners of every viewer's socket and its stuck timer: one function each for all viewers, finding their viewer
// on the socket (`this`) or in the timer's state, rather than closures per viewer.
function onSocketMessage(this: ViewerSocket, data: WebSocket.RawData, isBinary: boolean): void {
  this[VIEWER]?.['onMessage'](data, isBinary);
}

function onSocketClose(this: ViewerSocket, code: number): void {
  this[VIEWER]?.['onClose'](code);
}

function onPong(this: ViewerSocket): void {
  const viewer = this[VIEWER];
  if (viewer) viewer.alive = true;
}

function stuck(this: SchedulerAction<Viewer>, viewer?: Viewer): void {
  viewer!['onStuck']();
}
