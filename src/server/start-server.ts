import { createServer, type IncomingMessage, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Hapi from '@hapi/hapi';
import HapiPino from 'hapi-pino';
import pino, { type Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { PistreamConfig } from '../config';
import type { Frame } from '../frame';
import type { Hub, HubOptions } from '../hub';
import { ChildProcessError, childrenExited } from '../sources/child-process';
import { openSource } from '../sources/open-source';
import { createHub } from '../hub';
import { createAuthenticator } from './auth';
import { pistreamPlugin } from './plugin';
import { RateLimiter } from './rate-limit';
import { ViewerServer } from './viewer-server';

export interface StartServerOptions {
  /** Log here instead of a new pino logger (pretty on a TTY, JSON otherwise). */
  readonly logger?: Logger;
  /** Stream these frames instead of opening `config.source`. */
  readonly source?: Observable<Frame>;
  /** Restart policy and watchdog of the hub (defaults: see {@link HubOptions}); tests shorten them. */
  readonly hub?: Pick<HubOptions, 'restart' | 'watchdogMs'>;
  /** Also told about each restart (after it is logged): the failure, the restart count in a row, the delay. */
  readonly onRestart?: HubOptions['onRestart'];
}

/**
 * The one log line of a pipeline restart: what failed (exit code or signal, and the last stderr lines for a child
 * process), the attempt, and the wait.
 */
function logRestart(logger: Logger, error: unknown, attempt: number, delayMs: number): void {
  const details: Record<string, unknown> = { attempt, delayMs };
  if (error instanceof ChildProcessError) {
    Object.assign(details, { command: error.command, exitCode: error.exitCode, signal: error.signal, stderr: error.stderr.slice(-5) });
  }
  // ChildProcessError's message already says "<cmd> exited with code N" or "was killed by SIG…" plus the stderr tail.
  const what = error instanceof Error ? error.message : String(error);
  logger.warn(details, `pipeline failed: ${what}; restarting in ${delayMs} ms (attempt ${attempt})`);
}

/**
 * An HTTP (or, with `config.tls`, HTTPS) listener whose clients must send their headers within
 * `config.headerTimeoutMs` (else 408 and closed), checked often enough for that to hold (Node checks every 30 s by
 * default). An upgraded WebSocket is no longer a request, so none of this limits a viewer.
 */
function createListener(config: PistreamConfig, handler?: RequestListener): HttpServer {
  const limits = {
    headersTimeout: config.headerTimeoutMs,
    requestTimeout: Math.max(config.headerTimeoutMs, 30_000),
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(config.headerTimeoutMs / 4))),
  };
  return config.tls ? createHttpsServer({ ...limits, cert: config.tls.cert, key: config.tls.key }, handler) : createServer(limits, handler);
}

/** Request logs without secrets: no `?token=` value, no Authorization or Cookie header. */
function scrubCredentials(req: { url?: string; headers?: IncomingMessage['headers'] }): object {
  const headers = { ...req.headers };
  if (headers.authorization) headers.authorization = '[redacted]';
  if (headers.cookie) headers.cookie = '[redacted]';
  return { ...req, url: req.url?.replace(/([?&]token=)[^&]*/g, '$1[redacted]'), headers };
}

export interface RunningServer {
  /** The page's URL, e.g. `http://0.0.0.0:8082/`. */
  readonly url: string;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** The legacy listener's port, when `legacyPort` was set. */
  readonly legacyPort?: number;
  readonly server: Hapi.Server;
  readonly hub: Hub;
  /** Closes viewers (1001), stops listening, stops the camera and encoder and waits for them to exit. Idempotent. */
  stop(): Promise<void>;
}

function createLogger(level: PistreamConfig['logLevel']): Logger {
  if (process.stdout.isTTY) {
    return pino({ level, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino({ level });
}

function sourceLabel(kind: string): string {
  return { test: 'test pattern', observable: 'frames from the host application', file: 'video file' }[kind] ?? kind;
}

/**
 * The composition root: opens the configured source (or the one given), builds the hub, and serves the page and
 * the WebSockets on one hapi server (plus the original protocol on `legacyPort`, when set).
 *
 * @example
 * const running = await startServer(parseConfig(['--source', 'test'], process.env));
 * process.once('SIGINT', () => running.stop());
 */
export async function startServer(config: PistreamConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const encoder = {
    width: config.width,
    height: config.height,
    fps: config.fps,
    gop: config.gop,
    threads: config.threads,
    allowNonstandardFps: config.allowNonstandardFps,
    ffmpeg: config.ffmpeg,
    ...(config.rate.mode === 'bitrate' ? { bitrate: config.rate.kbps } : { quality: config.rate.quantiser }),
  };
  const opened = options.source
    ? { source: options.source, kind: 'observable', reasons: [] as readonly string[], fullRange: false }
    : await openSource(config.source, {
        width: config.width,
        height: config.height,
        fps: config.fps,
        hflip: config.hflip,
        vflip: config.vflip,
        rotation: config.rotation,
        ffmpeg: config.ffmpeg,
      });
  const hub = createHub({
    source: opened.source,
    encoder: { ...encoder, fullRange: opened.fullRange },
    graceMs: config.graceMs,
    ...options.hub,
    onRestart: (error, attempt, delayMs) => {
      logRestart(logger, error, attempt, delayMs);
      options.onRestart?.(error, attempt, delayMs);
    },
  });

  const server = Hapi.server({
    port: config.port,
    host: config.host,
    // Our own listener, for its slow-header limits (hapi makes a default one) and TLS.
    listener: createListener(config),
    tls: config.tls !== undefined,
    // Slow-header and idle-socket limits: a viewer page needs nothing long-lived except its WebSocket.
    routes: { timeout: { server: 10_000, socket: 30_000 } },
  });
  await server.register({
    plugin: HapiPino,
    options: {
      instance: logger,
      ignorePaths: ['/healthz', '/metrics'],
      logEvents: ['request-error'],
      serializers: { req: scrubCredentials },
    },
  });
  const upgradeRate = config.upgradeRate > 0 ? { perSecond: config.upgradeRate, burst: Math.max(1, Math.ceil(config.upgradeRate * 4)) } : false as const;
  await server.register({
    plugin: pistreamPlugin,
    options: {
      hub,
      alwaysOn: config.alwaysOn,
      maxLagMs: config.maxLagMs,
      highWaterMark: config.highWaterMark,
      maxViewers: config.maxViewers,
      allowOrigins: config.allowOrigins,
      publicHealth: config.publicHealth,
      upgradeRate,
      ...(config.auth ? { auth: config.auth } : {}),
    },
  });
  await server.start();
  const port = (server.listener.address() as AddressInfo).port;
  const scheme = config.tls ? 'https' : 'http';
  const url = `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/`;
  logger.info(`HTTP and WebSocket server on ${url} (stream at ${config.tls ? 'wss' : 'ws'}://…:${port}/stream, original protocol at /legacy)`);
  if (!config.auth) logger.info('No --auth, --auth-file or --token: anyone who can reach this port can watch (see README, Security)');
  const why = opened.reasons.length ? ` (${opened.reasons.join('; ')})` : '';
  logger.info({ source: opened.kind, reasons: opened.reasons }, `Source: ${sourceLabel(opened.kind)}${why}`);
  logger.info(
    `Encoding ${config.width}x${config.height} at ${Number(config.fps.toFixed(3))} fps, ${config.rate.mode === 'bitrate' ? `${config.rate.kbps} kbit/s` : `quantiser ${config.rate.quantiser}`}, GOP ${config.gop}; camera ${config.alwaysOn ? 'always on' : `on demand (stops ${config.grace} s after the last viewer)`}`,
  );

  let legacy: { http: HttpServer; viewers: ViewerServer } | undefined;
  let legacyPort: number | undefined;
  if (config.legacyPort !== undefined) {
    const http = createListener(config, (_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
      res.end('This port speaks the original pistreaming WebSocket protocol only.\n');
    });
    const viewers = new ViewerServer({
      hub,
      paths: { '*': 'legacy' },
      highWaterMark: config.highWaterMark,
      maxLagMs: config.maxLagMs,
      maxViewers: config.maxViewers,
      heartbeatMs: 15_000,
      allowOrigins: config.allowOrigins,
      anyPortOfHost: true,
      rejectUnknownPaths: () => true,
      // The same credentials and limits as the main port: this listener must not be a way around them.
      ...(config.auth ? { authenticator: createAuthenticator(config.auth) } : {}),
      ...(upgradeRate ? { upgradeLimit: new RateLimiter(upgradeRate) } : {}),
      log: (level, msg, details) => logger[level](details ?? {}, msg),
    });
    viewers.shareCap(server.plugins.pistream.viewers);
    http.on('upgrade', viewers.onUpgrade);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.legacyPort, config.host, () => resolve());
    });
    legacyPort = (http.address() as AddressInfo).port;
    legacy = { http, viewers };
    logger.info(`Original-protocol WebSocket server on ${config.tls ? 'wss' : 'ws'}://${config.host}:${legacyPort}/`);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('Shutting down: closing viewers, stopping the camera and encoder');
      if (legacy) {
        legacy.viewers.close();
        legacy.http.close();
        legacy.http.closeAllConnections();
      }
      await server.stop({ timeout: 1000 });
      hub.close();
      // Unsubscribing sent SIGTERM to the camera and encoder; wait for them so none outlives us.
      await childrenExited(1000);
    })());

  return { url, port, legacyPort, server, hub, stop };
}
