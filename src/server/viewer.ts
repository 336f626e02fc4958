import { map, type Observable, type Subscription } from 'rxjs';
import type WebSocket from 'ws';
import { dropWhileSlow, type DropReason } from '../operators/drop-while-slow';
import { fromKeyframe } from '../operators/from-keyframe';
import type { MuxedPicture } from '../picture';
import { toJsmp } from '../transport/jsmp';

/** `stream`: MPEG-TS for JSMpeg v1 (our page). `legacy`: the original `jsmp` protocol for the old jsmpg.js. */
export type ViewerProtocol = 'stream' | 'legacy';

/** Largest control message a viewer may send (DESIGN §3); anything else is a policy violation. */
export const MAX_CONTROL_MESSAGE = 256;

export interface ViewerOptions {
  readonly protocol: ViewerProtocol;
  readonly pictures$: Observable<MuxedPicture>;
  readonly width: number;
  readonly height: number;
  /** A viewer whose socket holds more than this many unsent bytes is slow. */
  readonly highWaterMark: number;
  /** Told when the viewer has gone, whatever the reason. */
  readonly onClose?: (viewer: Viewer) => void;
}

/** Per-viewer counters (DESIGN §5). */
export interface ViewerStats {
  sent: number;
  bytes: number;
  dropped: Record<DropReason, number>;
  resyncs: number;
  /** Pictures the page says it has decoded (acks), or -1 for a client that never acked. */
  acked: number;
}

/**
 * One connected viewer: subscribes its socket to the hub's pictures (from a keyframe, dropping whole pictures
 * while the socket is backed up) and reads its small control messages. Everything per picture here is a
 * decision and one `send` of bytes made once for all viewers.
 */
export class Viewer {
  readonly stats: ViewerStats = { sent: 0, bytes: 0, dropped: { slow: 0, resync: 0 }, resyncs: 0, acked: -1 };
  readonly connectedAt = Date.now();
  private subscription: Subscription | undefined;
  private closed = false;

  constructor(
    readonly socket: WebSocket,
    private readonly options: ViewerOptions,
  ) {
    socket.on('message', this.onMessage);
    socket.once('close', this.onSocketClose);
    // A socket error (reset, bad frame) is followed by 'close'; the listener keeps it from being thrown.
    socket.on('error', () => undefined);

    const { pictures$, protocol, highWaterMark, width, height } = options;
    const deliverable$ = pictures$.pipe(
      fromKeyframe(),
      dropWhileSlow({
        isSlow: () => socket.bufferedAmount > highWaterMark,
        onDrop: (_, reason) => this.stats.dropped[reason]++,
        onResync: () => this.stats.resyncs++,
      }),
    );
    const bytes$ = protocol === 'stream' ? deliverable$.pipe(map((p) => p.ts)) : deliverable$.pipe(toJsmp(width, height));
    this.subscription = bytes$.subscribe({
      next: (bytes) => {
        this.stats.sent++;
        this.stats.bytes += bytes.length;
        socket.send(bytes, { binary: true });
      },
      // The hub restarts its own failures; an error here is final for this viewer only.
      error: () => this.close(1011, 'stream failed'),
      complete: () => this.close(1001, 'stream ended'),
    });
    // The subscription can end while subscribing (a closed hub): then nothing must outlive the constructor.
    if (this.closed) this.subscription.unsubscribe();
  }

  /** Closes the socket (once) with a code and reason, and stops sending. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.unsubscribe();
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  /** Ends the connection at once, without a closing handshake (dead peers). */
  terminate(): void {
    this.closed = true;
    this.subscription?.unsubscribe();
    this.socket.terminate();
  }

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    const length = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (isBinary || length > MAX_CONTROL_MESSAGE) return this.close(1008, 'viewers send only small JSON control messages');
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return this.close(1008, 'control message is not JSON');
    }
    if (typeof message !== 'object' || message === null) return this.close(1008, 'control message is not a JSON object');
    const { type, frames } = message as { type?: unknown; frames?: unknown };
    if (type === 'ack' && typeof frames === 'number' && Number.isFinite(frames)) this.stats.acked = frames;
    // Unknown control types are ignored, so newer pages keep working with older servers.
  };

  private readonly onSocketClose = (): void => {
    this.closed = true;
    this.subscription?.unsubscribe();
    this.socket.off('message', this.onMessage);
    this.options.onClose?.(this);
  };
}
