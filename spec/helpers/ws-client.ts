import type { IncomingMessage } from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';

/** How a socket ended: the close code and reason the client saw. */
export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/**
 * A test client: a `ws` socket that keeps every message it gets (from the moment it is created, so nothing sent
 * right after the handshake is missed) and promises that resolve on events rather than after sleeps.
 */
export interface WsClient {
  readonly ws: WebSocket;
  /** Every message received so far, in order (binary and text alike, as Buffers). */
  readonly messages: readonly Buffer[];
  /** Pings received from the server so far (counted from creation; ws answers them unless `autoPong: false`). */
  readonly pings: number;
  /** Resolves with the close code and reason once the socket has closed (never rejects). */
  readonly closed: Promise<Closed>;
  /** Resolves with the first `n` messages once that many have arrived; rejects if the socket closes first. */
  received(n: number): Promise<Buffer[]>;
  /** Resolves with the next `n` messages after those received so far. */
  more(n: number): Promise<Buffer[]>;
  /** Closes (1000) and resolves once closed; at once if it already is. */
  close(): Promise<Closed>;
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Opens a WebSocket and resolves once it is open; rejects with the HTTP status (`Error` with `status`) when the
 * server refuses the upgrade, or with the socket error.
 *
 * @example
 * const viewer = await connect(`ws://127.0.0.1:${port}/stream`);
 * const [first] = await viewer.received(1);
 * await viewer.close();
 */
export function connect(url: string, options: ClientOptions = {}): Promise<WsClient> {
  const ws = new WebSocket(url, options);
  const messages: Buffer[] = [];
  const waiters = new Set<() => void>();
  let closeInfo: Closed | undefined;
  const closed = new Promise<Closed>((resolve) => {
    ws.once('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      for (const wake of waiters) wake();
      resolve(closeInfo);
    });
  });
  ws.on('message', (data) => {
    messages.push(toBuffer(data));
    for (const wake of waiters) wake();
  });

  const received = (n: number): Promise<Buffer[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (messages.length >= n) {
          waiters.delete(check);
          resolve(messages.slice(0, n));
        } else if (closeInfo) {
          waiters.delete(check);
          reject(new Error(`socket closed (${closeInfo.code} ${closeInfo.reason}) after ${messages.length} of ${n} messages`));
        }
      };
      waiters.add(check);
      check();
    });

  let pings = 0;
  ws.on('ping', () => pings++);

  const client: WsClient = {
    ws,
    messages,
    get pings() {
      return pings;
    },
    closed,
    received,
    more: (n) => {
      const from = messages.length;
      return received(from + n).then((all) => all.slice(from));
    },
    close: () => {
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close(1000);
      return closed;
    },
  };

  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      ws.off('open', onOpen);
      ws.off('unexpected-response', onResponse);
      ws.off('error', onError);
    };
    const onOpen = (): void => {
      cleanup();
      // Later socket errors (resets) show up as 'close'; an error listener keeps them from being thrown.
      ws.on('error', () => undefined);
      resolve(client);
    };
    const onResponse = (_req: unknown, res: IncomingMessage): void => {
      cleanup();
      ws.on('error', () => undefined);
      res.resume();
      ws.terminate();
      reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode }));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    ws.once('open', onOpen);
    ws.once('unexpected-response', onResponse);
    ws.once('error', onError);
  });
}

/** Tries to open a WebSocket the server should refuse; resolves with the HTTP status it answered. */
export async function refusedStatus(url: string, options: ClientOptions = {}): Promise<number> {
  try {
    const client = await connect(url, options);
    await client.close();
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status !== undefined) return status;
    throw err;
  }
  throw new Error(`upgrade to ${url} was accepted`);
}
