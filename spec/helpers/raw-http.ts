import { connect } from 'node:net';

/** A response as it came off the wire: the status line's code (0 if none came), the head and the body, as latin1. */
export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Sends `request` exactly as written (bytes no HTTP client would send: `//` targets, bare `%`, odd headers) and
 * resolves with what came back once the server has closed the connection or `idleMs` passed without a byte
 * (an accepted upgrade never closes by itself). Never rejects: a reset is a response with what came before it.
 */
export function rawExchange(port: number, request: string | Buffer, idleMs = 1000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), head, body: split < 0 ? '' : text.slice(split + 4) });
    };
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    };
    socket.on('connect', () => {
      socket.write(request);
      idle();
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      idle();
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
  });
}

/** An upgrade request to `target` with the given extra header lines (`Name: value`). */
export function upgradeRequest(target: string, headers: readonly string[] = []): string {
  return [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: Upgrade', 'Upgrade: websocket', ...headers, '', ''].join('\r\n');
}
