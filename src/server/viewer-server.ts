import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { asyncScheduler, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULTS, LIMITS } from '../defaults';
import type { WireFormat } from '../formats/wire-format';
import type { Hub } from '../hub';
import type { Authenticator } from './auth';
import { clientAddress, requestedHost, type TrustProxy } from '../options/client-address';
import { hostName, type HostAllowlist } from '../options/host-allowlist';
import type { RateLimiter } from './rate-limit';
import { Viewer, type ViewerOptions, type ViewerStats } from './viewer';
import { parseTarget, requestPath } from './request-target';
import { watchedFor } from './watched-for';

export { watchedFor };

/** Counts over every viewer this server has had, gone ones included. */
export type ViewerTotals = Omit<ViewerStats, 'acked' | 'lagPictures' | 'lagMs'>;

function addStats(into: ViewerTotals, from: ViewerTotals): ViewerTotals {
  into.sent += from.sent;
  into.bytes += from.bytes;
  into.dropped.lag += from.dropped.lag;
  into.dropped.backlog += from.dropped.backlog;
  into.dropped.resync += from.dropped.resync;
  into.resyncs += from.resyncs;
  into.soundSent += from.soundSent;
  into.soundDropped += from.soundDropped;
  return into;
}

const zeroTotals = (): ViewerTotals => ({
  sent: 0,
  bytes: 0,
  dropped: { lag: 0, backlog: 0, resync: 0 },
  resyncs: 0,
  soundSent: 0,
  soundDropped: 0,
});

/** Request path → the wire format served there, e.g. `{ '/stream': mpegts }`; `'*'` matches any path. */
export type FormatPaths = Readonly<Record<string, WireFormat>>;

/** How one HTTP listener's upgrades are answered. */
export interface UpgradeRoutes {
  readonly paths: FormatPaths;
  /**
   * Accept an Origin on the same host name but another port (the legacy listener: the page comes from the HTTP
   * port, the socket goes to the legacy port, as in the original).
   */
  readonly anyPortOfHost?: boolean;
  /** Answer upgrades for paths that are not ours with 404 (set when nothing else handles upgrades). */
  readonly rejectUnknownPaths: () => boolean;
}

export interface ViewerServerOptions {
  readonly hub: Hub;
  /** Unsent bytes on a socket above which its viewer is slow. */
  readonly highWaterMark: number;
  /** Ack lag (ms) above which a viewer that acks is slow; 0: no bound (the plugin passes its validated `maxLagMs`). */
  readonly maxLagMs: number;
  /** A viewer slow this long (ms) is closed with 1008 "too slow"; 0: never (the plugin passes its validated `stuckMs`). */
  readonly stuckMs: number;
  /** Viewers beyond this, over every listener, are closed with 1013 (try again later). */
  readonly maxViewers: number;
  /** Viewers beyond this from one address, over every listener and path, are closed with 1013. 0 or absent: no cap. */
  readonly maxViewersPerAddress?: number;
  /** Interval of the WebSocket ping; a viewer that missed a pong by the next ping is terminated. 0: off. */
  readonly heartbeatMs: number;
  /** Origins allowed besides those naming an allowed host. `'*'` allows any. */
  readonly allowOrigins: readonly string[];
  /** The host names upgrades may name (`Host`, or `X-Forwarded-Host` from a trusted proxy); else 403. Absent: any. */
  readonly hosts?: HostAllowlist;
  /** Peers whose `X-Forwarded-For` names the client (reverse proxies). Absent: the peer is the client. */
  readonly trustProxy?: TrustProxy;
  /** Heartbeat, stuck-viewer and shutdown timers (a TestScheduler in tests). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Credentials every upgrade must carry (401 before the handshake otherwise). Absent: open. */
  readonly authenticator?: Authenticator;
  /** Upgrades per client address (429 before the handshake beyond it). Absent: unlimited. */
  readonly upgradeLimit?: RateLimiter;
  readonly log?: (level: 'info' | 'warn', message: string, details?: object) => void;
}

/** The error listener of a refused socket (its 'close' follows). */
function ignoreError(): void {}

function reject(socket: Duplex, status: number, text: string, headers = ''): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${headers}Content-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
  );
}

/**
 * The WebSocket edge: upgrades on existing HTTP listeners (hapi's, so one port, and the legacy port), checks
 * path and Origin before the handshake, and gives each socket a {@link Viewer} of the path's wire format. One
 * instance serves every listener, so the viewer cap, `/healthz` and `/metrics` count every viewer. Owns the
 * sockets: `close()` ends them all with 1001.
 */
export class ViewerServer {
  readonly viewers = new Set<Viewer>();
  /** Viewers per client address now; an address leaves the map with its last viewer, so it is bounded by them. */
  private readonly perAddress = new Map<string, number>();
  /** Viewers served elsewhere (WebRTC) that hold a place under the same caps: see {@link takeSeat}. */
  private seats = 0;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: LIMITS.maxPayloadBytes });
  /** Per wire format, what every viewer of it is told (one object per format, not one per viewer). */
  private readonly viewerOptions = new Map<string, ViewerOptions>();
  private readonly scheduler: SchedulerLike;
  private heartbeat: Subscription | undefined;
  private closing = false;
  /** While shutting down: cuts off the viewers that have not finished the closing handshake within the grace. */
  private cutOff: Subscription | undefined;
  private readonly departed = zeroTotals();
  private readonly ackLags = new Subject<number>();
  /** Each viewer ack that moved forward, as ms from sending the newest acknowledged picture (for metrics). */
  readonly ackLag$: Observable<number> = this.ackLags.asObservable();

  constructor(private readonly options: ViewerServerOptions) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    const every = options.heartbeatMs;
    if (every > 0) {
      // A self-rescheduling action rather than setInterval, so the heartbeat runs in virtual time in tests.
      this.heartbeat = this.scheduler.schedule(
        function (this: { schedule(state?: unknown, delay?: number): unknown }, server?: ViewerServer) {
          server!.ping();
          this.schedule(server, every);
        },
        every,
        this,
      );
    }
  }

  /** The client's address: the peer, or, behind a trusted proxy, the client it forwarded for. */
  addressOf(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress;
    return this.options.trustProxy ? clientAddress(peer, req.headers['x-forwarded-for'], this.options.trustProxy) : (peer ?? '');
  }

  /**
   * An `upgrade` listener for one HTTP server, answering `routes.paths` with their formats.
   * @example
   * server.listener.on('upgrade', viewers.upgradeHandler({ paths: { '/stream': mpegts }, rejectUnknownPaths: () => true }));
   */
  upgradeHandler(routes: UpgradeRoutes): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
    return (req, socket, head) => {
      // From the 'upgrade' event on, the socket is ours and Node no longer handles its errors: a peer that resets
      // it (ECONNRESET) while it is refused or checked would otherwise be an uncaught error that ends the process
      // (found by the request fuzzer). Errors end only this socket; ws adds its own listener once it takes it.
      socket.on('error', () => undefined);
      // An upgrade is an event of the listener, outside hapi: a throw here would be uncaught and end the process.
      try {
        this.onUpgrade(routes, req, socket, head);
      } catch (err) {
        this.options.log?.('warn', `websocket upgrade refused: ${err instanceof Error ? err.message : String(err)}`, {
          path: requestPath(req.url),
        });
        if (socket.writable) reject(socket, 400, 'Bad Request');
        else socket.destroy();
      }
    };
  }

  private onUpgrade(routes: UpgradeRoutes, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = requestPath(req.url);
    if (path === undefined) {
      if (routes.rejectUnknownPaths()) reject(socket, 400, 'Bad Request');
      return;
    }
    const format = routes.paths[path] ?? routes.paths['*'];
    if (!format) {
      if (routes.rejectUnknownPaths()) reject(socket, 404, 'Not Found');
      return;
    }
    // Where the viewer watches, for the log: the path, or the port and path on a listener that serves any path.
    const where = routes.paths[path] ? path : `:${req.socket.localPort ?? ''}${path}`;
    if (this.closing) return reject(socket, 503, 'Service Unavailable');
    const address = this.addressOf(req);
    const host = requestedHost(
      req.socket.remoteAddress,
      req.headers.host,
      req.headers['x-forwarded-host'],
      this.options.trustProxy ?? (() => false),
    );
    // Before the Origin: a rebinding page's Origin and Host agree, both naming the page's own host.
    if (this.options.hosts && !this.options.hosts.allows(host)) return reject(socket, 403, 'Forbidden');
    if (!this.originAllowed(req.headers.origin, host, routes.anyPortOfHost === true)) {
      const origin = req.headers.origin;
      this.options.log?.('warn', `websocket upgrade refused: origin not allowed (${origin} on ${host ?? 'no host'}) from ${address}`, {
        origin,
        host,
        address,
        path: where,
      });
      return reject(socket, 403, 'Forbidden');
    }
    // Before credentials are checked (scrypt is costly) and per address, so a flood from one client is refused
    // cheaply and touches no viewer already watching.
    if (this.options.upgradeLimit && !this.options.upgradeLimit.take(address)) {
      this.options.log?.('warn', `websocket upgrade refused: too many from ${address}`, { address, path: where });
      return reject(socket, 429, 'Too Many Requests', 'Retry-After: 1\r\n');
    }
    const authenticator = this.options.authenticator;
    if (!authenticator) return this.wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws, format, address, where));
    authenticator.check(req.headers.authorization, req.url ?? '/', address).then(
      (result) => {
        if (result.ok) return this.wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws, format, address, where));
        if (result.retryAfterMs !== undefined)
          return reject(socket, 429, 'Too Many Requests', `Retry-After: ${Math.ceil(result.retryAfterMs / 1000)}\r\n`);
        // One line per failure with the address, in a form fail2ban can match.
        this.options.log?.('warn', `websocket upgrade refused: unauthorized from ${address} (${result.reason})`, {
          address,
          reason: result.reason,
          path: where,
        });
        reject(socket, 401, 'Unauthorized', `WWW-Authenticate: ${result.challenge}\r\n`);
      },
      () => reject(socket, 503, 'Service Unavailable'),
    );
  }

  /** Viewers now, over every listener. */
  get viewerCount(): number {
    return this.viewers.size;
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
  close(graceMs: number = DEFAULTS.closeGraceMs): void {
    if (this.closing) return;
    this.closing = true;
    this.heartbeat?.unsubscribe();
    const closing = [...this.viewers];
    for (const viewer of closing) viewer.close(1001, 'server shutting down');
    this.wss.close();
    this.ackLags.complete();
    // Cancelled as soon as the last of them has gone, so a clean shutdown leaves no timer behind.
    if (this.viewers.size > 0) {
      this.cutOff = this.scheduler.schedule(() => {
        for (const viewer of closing) viewer.socket.terminate();
      }, graceMs);
    }
  }

  /**
   * Serves a socket that is already upgraded (the upgrade handlers call this; so can a host that upgrades by
   * itself): checks the viewer cap (1013 beyond it), then gives the socket a {@link Viewer} of `format`. `where`
   * names what the viewer opened in the log lines (default the format's path).
   */
  adopt(ws: WebSocket, format: WireFormat, address: string, where: string = format.path): void {
    const log = this.options.log;
    const refusal = this.refusal(address);
    if (refusal) {
      ws.on('error', ignoreError);
      ws.close(1013, refusal.reason);
      log?.('warn', `viewer refused ${where} ${address}, 1013 ${refusal.why}`, {
        format: format.id,
        path: where,
        address,
        viewers: this.viewerCount,
        closeCode: 1013,
      });
      return;
    }
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    const viewer = new Viewer(ws, this.optionsFor(format), address, where);
    this.viewers.add(viewer);
    log?.('info', `viewer joined ${where} ${address} (${this.viewers.size} watching)`, {
      format: format.id,
      path: where,
      address,
      viewers: this.viewers.size,
    });
  }

  /** What every viewer of `format` is told, made with its first viewer. */
  private optionsFor(format: WireFormat): ViewerOptions {
    let options = this.viewerOptions.get(format.id);
    if (options?.format !== format) {
      const { hub, highWaterMark, maxLagMs, stuckMs } = this.options;
      const sound$ = hub.sound(format);
      options = {
        format,
        gops$: hub.gops(format),
        ...(sound$ ? { sound$ } : {}),
        scheduler: this.scheduler,
        highWaterMark,
        maxLagMs,
        stuckMs,
        onAck: (lagMs) => this.ackLags.next(lagMs),
        onClose: (viewer) => this.viewerLeft(viewer),
      };
      this.viewerOptions.set(format.id, options);
    }
    return options;
  }

  /** A viewer has gone: out of the counts, and the "viewer left" log line. */
  private viewerLeft(v: Viewer): void {
    const format = v.format;
    if (this.viewers.delete(v)) {
      addStats(this.departed, v.stats);
      this.left(v.address);
    }
    if (this.closing && this.viewers.size === 0) this.cutOff?.unsubscribe();
    const durationMs = this.scheduler.now() - v.connectedAt;
    const how = v.ending;
    this.options.log?.(
      'info',
      `viewer left ${v.where} ${v.address} after ${watchedFor(durationMs)}, ${how} (${this.viewers.size} watching)`,
      {
        format: format.id,
        path: v.where,
        address: v.address,
        closeCode: v.closeCode,
        closed: how,
        durationMs,
        viewers: this.viewers.size,
        ...v.stats,
      },
    );
  }

  /**
   * A place for a viewer served outside this server (a WebRTC peer), under the same `maxViewers` and per-address
   * caps as the sockets: its release, or why there is no room (in the words a WebSocket viewer's close gives).
   * @example
   * const seat = viewers.takeSeat(address);
   * if (typeof seat === 'string') return reply(503, seat);
   * peer.onClosed(seat); // gives the place back
   */
  takeSeat(address: string): (() => void) | string {
    const refusal = this.refusal(address);
    if (refusal) return refusal.reason;
    this.seats++;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.seats--;
      this.left(address);
    };
  }

  /** Why one more viewer from `address` is refused (its close reason and the log's words), or undefined. */
  private refusal(address: string): { reason: string; why: string } | undefined {
    if (this.viewerCount + this.seats >= this.options.maxViewers) {
      return { reason: 'too many viewers: try again later', why: `too many viewers (${this.viewerCount} watching, the most allowed)` };
    }
    const cap = this.options.maxViewersPerAddress ?? 0;
    const mine = this.perAddress.get(address) ?? 0;
    if (cap > 0 && mine >= cap) {
      return {
        reason: `too many viewers from your address (${cap} at most)`,
        why: `too many viewers from this address (${mine} watching, the most allowed)`,
      };
    }
    return undefined;
  }

  private left(address: string): void {
    const mine = (this.perAddress.get(address) ?? 1) - 1;
    if (mine > 0) this.perAddress.set(address, mine);
    else this.perAddress.delete(address);
  }

  private ping(): void {
    for (const viewer of this.viewers) {
      if (!viewer.alive) {
        viewer.terminate('no answer to ping');
        continue;
      }
      viewer.alive = false;
      viewer.socket.ping();
    }
  }

  /**
   * An Origin is allowed when listed, or when it names an allowed host and is the page's own (the same host and
   * port as the request, any port with `anyPortOfHost`). Equal to `Host` alone is not enough: a rebinding page's
   * Origin equals the Host it makes the browser send.
   */
  private originAllowed(origin: string | undefined, host: string | undefined, anyPortOfHost: boolean): boolean {
    // Non-browser clients send no Origin; the check protects browsers from cross-site pages (CSWSH).
    if (origin === undefined) return true;
    const allow = this.options.allowOrigins;
    if (allow.includes('*') || allow.includes(origin)) return true;
    const from = parseTarget(origin);
    if (!from || !/^https?:$/.test(from.protocol) || host === undefined) return false;
    const name = hostName(from.host);
    if (name === undefined || (this.options.hosts && !this.options.hosts.allowsName(name))) return false;
    if (from.host === host.toLowerCase()) return true;
    return anyPortOfHost && name === hostName(host);
  }
}
