import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { DEFAULTS } from '../defaults';

export interface ListenerOptions {
  /** Serve https (and so wss) with this certificate chain and key, PEM. */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string };
  /** How long a client may take to send its request headers (else 408 and closed). Default 10 000 ms. */
  readonly headerTimeoutMs?: number;
}

/**
 * An HTTP (or, with `tls`, HTTPS) listener whose clients must send their headers within `headerTimeoutMs`,
 * checked often enough for that to hold (Node checks every 30 s by default). An upgraded WebSocket is no longer
 * a request, so none of this limits a viewer.
 * @example
 * const listener = createListener({ headerTimeoutMs: 5000 });
 * Hapi.server({ listener, port: 8082 });
 */
export function createListener(options: ListenerOptions = {}, handler?: RequestListener): HttpServer {
  const headerTimeoutMs = options.headerTimeoutMs ?? DEFAULTS.headerTimeoutMs;
  const limits = {
    headersTimeout: headerTimeoutMs,
    requestTimeout: Math.max(headerTimeoutMs, 30_000),
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headerTimeoutMs / 4))),
  };
  return options.tls
    ? createHttpsServer({ ...limits, cert: options.tls.cert, key: options.tls.key }, handler)
    : createServer(limits, handler);
}
