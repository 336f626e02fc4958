import type { Server as HttpServer } from 'node:http';
import type { Server } from '@hapi/hapi';
import { DEFAULTS } from '../defaults';
import { jsmp } from '../formats/jsmp';
import type { ValidPluginOptions } from '../options/plugin-options';
import { createListener } from './listener';
import type { ViewerServer } from './viewer-server';

/**
 * Starts the legacy listener: the original protocol (`jsmp`) at any path, on its own port, its viewers counted
 * with every other (one {@link ViewerServer}). Plain HTTP requests get 426.
 *
 * @example
 * const legacy = await listenLegacy(server, { port: 8084 }, viewers);
 */
export async function listenLegacy(
  server: Server,
  options: NonNullable<ValidPluginOptions['legacyListener']>,
  viewers: ViewerServer,
): Promise<HttpServer> {
  const http = createListener(options, (_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
    res.end('This port speaks the original pistreaming WebSocket protocol only.\n');
  });
  http.on('upgrade', viewers.upgradeHandler({ paths: { '*': jsmp }, anyPortOfHost: true, rejectUnknownPaths: () => true }));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, legacyHost(server, options), () => {
      http.off('error', reject);
      resolve();
    });
  });
  return http;
}

/** The address the legacy listener listens on: its own, else the hapi server's, else the default. */
export function legacyHost(server: Server, options: NonNullable<ValidPluginOptions['legacyListener']>): string {
  return options.host ?? server.settings.host ?? DEFAULTS.host;
}
