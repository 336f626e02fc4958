import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Subject, type Observable } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Hub } from '../hub';
import type { Authenticator } from './auth';
import type { RateLimiter } from './rate-limit';
import { Viewer, type ViewerProtocol, type ViewerStats } from './viewer';

/** Counts over every viewer this server has had, gone ones included. */
export type ViewerTotals = Omit<ViewerStats, 'acked' | 'lagPictures' | 'lagMs'>;

function addStats(into: ViewerTotals, from: ViewerTotals): ViewerTotals {
  into.sent += from.sent;
  into.bytes += from.bytes;
  into.dropped.lag += from.dropped.lag;
  into.dropped.backlog += from.dropped.backlog;
  into.dropped.resync += from.dropped.resync;
  into.resyncs += from.resyncs;
  return into;
}

const zeroTotals = (): ViewerTotals => ({ sent: 0, bytes: 0, dropped: { lag: 0, backlog: 0, resync: 0 }, resyncs: 0 });

export interface ViewerServerOptions {
  readonly hub: Hub;
  /** Request path → protocol, e.g. `{ '/stream': 'stream', '/legacy': 'legacy' }`; `'*'` matches any path. */
  readonly paths: Readonly<Record<string, ViewerProtocol>>;
  /** Unsent bytes on a socket above which its viewer is slow. */
  readonly highWaterMark: number;
  /** Ack lag (ms) above which a viewer that acks is slow; 0: no bound. Default 500. */
  readonly maxLagMs?: number;
  /** A viewer slow this long (ms) is closed with 1008 "too slow"; 0: never. Default 10 000. */
  readonly stuckMs?: number;
  /** Viewers beyond this are closed with 1013 (try again later). */
  readonly maxViewers: number;
  /** Interval of the WebSocket ping; a viewer that missed a pong by the next ping is terminated. 0: off. */
  readonly heartbeatMs: number;
  /** Origins allowed besides the page's own (the Host header). `'*'` allows any. */
  readonly allowOrigins: readonly string[];
  /**
   * Accept an Origin on the same host name but another port (the legacy listener: the page comes from the HTTP
   * port, the socket goes to the legacy port, as in the original).
   */
  readonly anyPortOfHost?: boolean;
  /** Answer upgrades for paths that are not ours with 404 (set when nothing else handles upgrades). */
  readonly rejectUnknownPaths: () => boolean;
  /** Credentials every upgrade must carry (401 before the handshake otherwise). Absent: open. */
  readonly authenticator?: Authenticator;
  /** Upgrades per client address (429 before the handshake beyond it). Absent: unlimited. */
  readonly upgradeLimit?: RateLimiter;
  readonly log?: (level: 'info' | 'warn', message: string, details?: object) => void;
}

/** Control messages are tiny; anything near this is abuse (1009 from ws). */
const MAX_PAYLOAD = 64 * 1024;

function reject(socket: Duplex, status: number, text: string, headers = ''): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${headers}Content-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}

/**
 * The WebSocket edge: upgrades on an existing HTTP listener (hapi's, so one port), checks path and Origin before
 * the handshake, and gives each socket a {@link Viewer}. Owns the sockets: `close()` ends them all with 1001.
 */
export class ViewerServer {
  readonly viewers = new Set<Viewer>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD });
  private readonly alive = new WeakSet<WebSocket>();
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly departed = zeroTotals();
  private readonly ackLags = new Subject<number>();
  /** Each viewer ack that moved forward, as ms from sending the newest acknowledged picture (for metrics). */
  readonly ackLag$: Observable<number> = this.ackLags.asObservable();
  /** Servers whose viewers count against our `maxViewers` (one cap over the main and legacy listeners). */
  private readonly capPeers = new Set<ViewerServer>();

  constructor(private readonly options: ViewerServerOptions) {
    if (options.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.ping(), options.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** The `upgrade` listener to put on an HTTP server. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const protocol = this.options.paths[path] ?? this.options.paths['*'];
    if (!protocol) {
      if (this.options.rejectUnknownPaths()) reject(socket, 404, 'Not Found');
      return;
    }
    socket.on('error', () => undefined);
    if (this.closing) return reject(socket, 503, 'Service Unavailable');
    if (!this.originAllowed(req)) {
      this.options.log?.('warn', 'websocket upgrade refused: origin not allowed', { origin: req.headers.origin, host: req.headers.host });
      return reject(socket, 403, 'Forbidden');
    }
    // Before credentials are checked (scrypt is costly) and per address, so a flood from one client is refused
    // cheaply and touches no viewer already watching.
    const address = req.socket.remoteAddress ?? '';
    if (this.options.upgradeLimit && !this.options.upgradeLimit.take(address)) {
      this.options.log?.('warn', 'websocket upgrade refused: too many from this address', { address });
      return reject(socket, 429, 'Too Many Requests', 'Retry-After: 1\r\n');
    }
    const authenticator = this.options.authenticator;
    if (!authenticator) return this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, protocol, req));
    authenticator.check(req.headers.authorization, req.url ?? '/').then(
      (result) => {
        if (result.ok) return this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, protocol, req));
        // One line per failure with the address, in a form fail2ban can match.
        this.options.log?.('warn', 'websocket upgrade refused: unauthorized', { address, reason: result.reason });
        reject(socket, 401, 'Unauthorized', `WWW-Authenticate: ${result.challenge}\r\n`);
      },
      () => reject(socket, 500, 'Internal Server Error'),
    );
  };

  /** Counts `other`'s viewers against this server's `maxViewers`, and ours against its: one cap for both. */
  shareCap(other: ViewerServer): void {
    if (other === this || this.capPeers.has(other)) return;
    this.capPeers.add(other);
    other.shareCap(this);
  }

  /** Viewers now, over this server and those it shares its cap with. */
  get viewerCount(): number {
    let count = this.viewers.size;
    for (const peer of this.capPeers) count += peer.viewers.size;
    return count;
  }

  /** Sent, bytes, drops by reason and resyncs over all viewers, past and present (for metrics). */
  totals(): ViewerTotals {
    const totals = addStats(zeroTotals(), this.departed);
    for (const viewer of this.viewers) addStats(totals, viewer.stats);
    return totals;
  }

  /**
   * Closes every viewer with 1001 (going away) and stops the heartbeat. Peers that do not answer the close
   * handshake within `graceMs` are cut off, so shutdown never waits on a browser (the original hung here).
   */
  close(graceMs = 1000): void {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const closing = [...this.viewers];
    for (const viewer of closing) viewer.close(1001, 'server shutting down');
    this.wss.close();
    this.ackLags.complete();
    if (closing.length > 0) {
      const cutOff = setTimeout(() => {
        for (const viewer of closing) viewer.socket.terminate();
      }, graceMs);
      cutOff.unref();
    }
  }

  private accept(ws: WebSocket, protocol: ViewerProtocol, req: IncomingMessage): void {
    if (this.viewerCount >= this.options.maxViewers) {
      ws.on('error', () => undefined);
      ws.close(1013, 'too many viewers: try again later');
      return;
    }
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    const { hub, highWaterMark, maxLagMs, stuckMs } = this.options;
    const viewer = new Viewer(ws, {
      protocol,
      pictures$: hub.pictures$,
      width: hub.width,
      height: hub.height,
      highWaterMark,
      maxLagMs,
      stuckMs,
      onAck: (lagMs) => this.ackLags.next(lagMs),
      onClose: (v) => {
        if (this.viewers.delete(v)) addStats(this.departed, v.stats);
        this.options.log?.('info', 'viewer left', { protocol, address: req.socket.remoteAddress, closeCode: v.closeCode, ...v.stats });
      },
    });
    this.viewers.add(viewer);
    this.options.log?.('info', 'viewer joined', { protocol, address: req.socket.remoteAddress, viewers: this.viewers.size });
  }

  private ping(): void {
    for (const viewer of this.viewers) {
      const ws = viewer.socket;
      if (!this.alive.has(ws)) {
        viewer.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    // Non-browser clients send no Origin; the check protects browsers from cross-site pages (CSWSH).
    if (origin === undefined) return true;
    const allow = this.options.allowOrigins;
    if (allow.includes('*') || allow.includes(origin)) return true;
    try {
      const from = new URL(origin);
      if (from.host === req.headers.host) return true;
      return this.options.anyPortOfHost === true && from.hostname === new URL(`http://${req.headers.host}`).hostname;
    } catch {
      return false;
    }
  }
}
