import type { AddressInfo } from 'node:net';
import Hapi from '@hapi/hapi';
import HapiPino from 'hapi-pino';
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import type { Observable } from 'rxjs';
import type { Frame } from '../frame';
import type { Hub } from '../hub';
import type { PistreamPluginOptions } from '../options/plugin-options';
import type { LogLevel, PistreamConfig } from '../options/server-config';
import { DEFAULTS } from '../defaults';
import { trustProxy } from '../options/client-address';
import { certificateNames } from './certificate-names';
import { createListener } from './listener';
import { pageUrls } from './page-urls';
import { pistreamPlugin } from './plugin';
import { errorSerializer, REDACT_PATHS, REDACTED, requestSerializer } from './request-log';

export { requestSerializer };

export interface StartServerOptions {
  /** Log here instead of a new pino logger (pretty on a TTY, JSON otherwise). */
  readonly logger?: Logger;
  /** Stream these frames instead of opening `config.plugin.source`. */
  readonly source?: Observable<Frame>;
  /** Plugin options over the config's (tests shorten the restart policy this way). */
  readonly plugin?: Partial<PistreamPluginOptions>;
}

export interface RunningServer {
  /** The page's URL, the first of `urls`: `http://localhost:8082/` on every interface, else the address listened on. */
  readonly url: string;
  /** Every URL the page can be opened at (`pageUrls`): localhost and each LAN address, or the one address. */
  readonly urls: readonly string[];
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** The legacy listener's port, when `plugin.legacyListener` was set. */
  readonly legacyPort?: number;
  readonly server: Hapi.Server;
  readonly hub: Hub;
  /** Closes viewers (1001), stops listening, stops the camera and encoder and waits for them to exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * pino-pretty's options on a terminal: one line per event, `[12:01:02] INFO: viewer joined /stream 127.0.0.1
 * (3 watching)`. Our messages carry their facts, so only the time, level, message and an error (`err`, with its
 * stack) are shown, not the fields under them (`hideObject` would hide the error too); JSON logs, off a terminal,
 * keep every field.
 */
export function prettyOptions(): PrettyOptions {
  return { translateTime: 'SYS:HH:MM:ss', include: 'level,time,msg,err' };
}

/** pino's options for our own logger: pretty on a terminal (`tty`), JSON lines otherwise. */
export function loggerOptions(level: LogLevel, tty: boolean): LoggerOptions {
  const redact = { paths: [...REDACT_PATHS], censor: REDACTED };
  return tty ? { level, redact, transport: { target: 'pino-pretty', options: prettyOptions() } } : { level, redact };
}

function createLogger(level: LogLevel): Logger {
  return pino(loggerOptions(level, process.stdout.isTTY === true));
}

/**
 * Runs a pistream server from a config: a hapi server on the config's listener, hapi-pino, and the pistream
 * plugin, which is everything else (source, hub, pages, sockets, the legacy listener, health, metrics, stop).
 *
 * @example
 * const running = await startServer(parseConfig(['--source', 'test'], process.env));
 * process.once('SIGINT', () => running.stop());
 */
export async function startServer(config: PistreamConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const server = Hapi.server({
    port: config.port,
    host: config.host,
    // Our own listener, for its slow-header limits (hapi makes a default one) and TLS.
    listener: createListener({ headerTimeoutMs: config.headerTimeoutMs, ...(config.tls ? { tls: config.tls } : {}) }),
    tls: config.tls !== undefined,
    // Slow-header and idle-socket limits: a viewer page needs nothing long-lived except its WebSocket.
    routes: { timeout: { server: DEFAULTS.requestTimeoutMs, socket: DEFAULTS.socketTimeoutMs } },
    // hapi's own console debug would print request errors a second time, past hapi-pino's serializers and redaction.
    debug: false,
  });
  await server.register({
    plugin: HapiPino,
    options: {
      instance: logger,
      ignorePaths: ['/healthz', '/metrics'],
      logEvents: ['request-error'],
      serializers: { req: requestSerializer(trustProxy(config.plugin.trustProxy ?? [])), err: errorSerializer },
    },
  });
  // The certificate's names are names this server is reached by: the host allowlist takes them too.
  const allowedHosts = [...(config.plugin.allowedHosts ?? []), ...(config.tls ? certificateNames(config.tls.cert) : [])];
  await server.register({
    plugin: pistreamPlugin,
    options: { ...config.plugin, allowedHosts, ...(options.source ? { source: options.source } : {}), ...options.plugin },
  });
  await server.start();
  const port = (server.listener.address() as AddressInfo).port;
  const urls = pageUrls(config.tls ? 'https' : 'http', config.host, port);
  const api = server.plugins.pistream;
  const paths = api.hub.formats.map((f) => f.path).join(' and ');
  logger.info({ urls }, `Watch at ${urls.join(' or ')} (streams at ${config.tls ? 'wss' : 'ws'}://…:${port}${paths})`);
  if (!config.plugin.auth)
    logger.info('No --auth, --auth-file or --token: anyone who can reach this port can watch (see README, Security)');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('Shutting down: closing viewers, stopping the camera and encoder');
      // The plugin closes viewers in onPreStop and waits for its child processes in onPostStop.
      await server.stop({ timeout: DEFAULTS.closeGraceMs });
    })());

  return { url: urls[0]!, urls, port, ...(api.legacyPort === undefined ? {} : { legacyPort: api.legacyPort }), server, hub: api.hub, stop };
}
