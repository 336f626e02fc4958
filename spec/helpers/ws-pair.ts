import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * A real ws server on loopback and a real client, connected: the server side of the connection is what a viewer's
 * socket is. `close()` ends both and the server.
 * @example
 * const { server, client, close } = await wsPair();
 */
export async function wsPair(deflate = false): Promise<{ server: WebSocket; client: WebSocket; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, { perMessageDeflate: deflate });
  const [[server]] = await Promise.all([accepted, once(client, 'open')]);
  return {
    server,
    client,
    close: async () => {
      client.terminate();
      server.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
