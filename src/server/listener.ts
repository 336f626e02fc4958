import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
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
  const listener = options.tls
    ? createHttpsServer({ ...limits, cert: options.tls.cert, key: options.tls.key }, handler)
    : createServer(limits, handler);
  return closingUnusedQuietly(listener);
}

/**
 * A connection that reaches the header timeout without having sent a byte is closed without an answer. Browsers
 * open connections ahead of need (Chromium's preconnect) and may leave one unused for longer than the timeout; an
 * answer written on it (hapi answers every client error with 400) is read as the answer to the next page the browser
 * sends there, which then fails to load (ERR_HTTP_RESPONSE_CODE_FAILURE), where a closed one is simply not used.
 * A client that has sent part of its headers still gets hapi's 400. Registered before hapi's own handler, which then
 * finds the socket closed and only logs. (`bytesRead` counts request bytes only: a TLS handshake is not in it.)
 */
function closingUnusedQuietly(listener: HttpServer): HttpServer {
  listener.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) socket.destroy();
  });
  return listener;
}
