import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Hapi from '@hapi/hapi';
import HapiPino from 'hapi-pino';
import pino, { type Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { PistreamConfig } from '../config';
import type { Frame } from '../frame';
import type { Hub } from '../hub';
import { childrenExited } from '../sources/child-process';
import { openSource } from '../sources/open-source';
import { createHub } from '../hub';
import { pistreamPlugin } from './plugin';
import { ViewerServer } from './viewer-server';

export interface StartServerOptions {
  /** Log here instead of a new pino logger (pretty on a TTY, JSON otherwise). */
  readonly logger?: Logger;
  /** Stream these frames instead of opening `config.source`. */
  readonly source?: Observable<Frame>;
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
    onRestart: (error, attempt, delayMs) =>
      logger.warn({ attempt, delayMs }, `pipeline failed, restarting in ${delayMs} ms: ${error instanceof Error ? error.message : String(error)}`),
  });

  const server = Hapi.server({
    port: config.port,
    host: config.host,
    // Slow-header and idle-socket limits: a viewer page needs nothing long-lived except its WebSocket.
    routes: { timeout: { server: 10_000, socket: 30_000 } },
  });
  await server.register({
    plugin: HapiPino,
    options: { instance: logger, ignorePaths: ['/healthz', '/metrics'], logEvents: ['request-error'] },
  });
  await server.register({ plugin: pistreamPlugin, options: { hub, alwaysOn: config.alwaysOn } });
  await server.start();
  const port = (server.listener.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/`;
  logger.info(`HTTP and WebSocket server on ${url} (stream at ws://…:${port}/stream, original protocol at /legacy)`);
  const why = opened.reasons.length ? ` (${opened.reasons.join('; ')})` : '';
  logger.info({ source: opened.kind, reasons: opened.reasons }, `Source: ${sourceLabel(opened.kind)}${why}`);
  logger.info(
    `Encoding ${config.width}x${config.height} at ${Number(config.fps.toFixed(3))} fps, ${config.rate.mode === 'bitrate' ? `${config.rate.kbps} kbit/s` : `quantiser ${config.rate.quantiser}`}, GOP ${config.gop}; camera ${config.alwaysOn ? 'always on' : `on demand (stops ${config.grace} s after the last viewer)`}`,
  );

  let legacy: { http: HttpServer; viewers: ViewerServer } | undefined;
  let legacyPort: number | undefined;
  if (config.legacyPort !== undefined) {
    const http = createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
      res.end('This port speaks the original pistreaming WebSocket protocol only.\n');
    });
    const viewers = new ViewerServer({
      hub,
      paths: { '*': 'legacy' },
      highWaterMark: 512 * 1024,
      maxViewers: 100,
      heartbeatMs: 15_000,
      allowOrigins: [],
      anyPortOfHost: true,
      rejectUnknownPaths: () => true,
      log: (level, msg, details) => logger[level](details ?? {}, msg),
    });
    http.on('upgrade', viewers.onUpgrade);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.legacyPort, config.host, () => resolve());
    });
    legacyPort = (http.address() as AddressInfo).port;
    legacy = { http, viewers };
    logger.info(`Original-protocol WebSocket server on ws://${config.host}:${legacyPort}/`);
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
