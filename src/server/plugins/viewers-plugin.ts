import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plugin, Server } from '@hapi/hapi';
import type { ValidPluginOptions } from '../../options/plugin-options';
import { version } from '../../version';
import { legacyHost, listenLegacy } from '../legacy-listener';
import { addViewerMetrics } from '../metrics';
import { webSocketPathRoutes } from '../pages';
import { RateLimiter } from '../rate-limit';
import { ViewerServer, type FormatPaths } from '../viewer-server';
import { dependencyOf } from './dependency';
import { addPartRoutes } from './part-routes';
import type { PistreamCore } from './core-plugin';
import { CORE, stopOrder, VIEWERS } from './plugin-names';

/** The options the viewers plugin reads (of the core's validated ones). */
export type ViewersOptions = Pick<
  ValidPluginOptions,
  | 'formats'
  | 'pages'
  | 'legacyListener'
  | 'highWaterMark'
  | 'maxLagMs'
  | 'stuckMs'
  | 'maxViewers'
  | 'maxViewersPerAddress'
  | 'heartbeatMs'
  | 'allowOrigins'
  | 'trustProxy'
  | 'upgradeRate'
  | 'scheduler'
>;

/** What the viewers plugin exposes as `server.plugins['pistream-viewers']`. */
export interface PistreamViewersApi {
  /** Every viewer of every listener. */
  readonly viewers: ViewerServer;
  /** The legacy listener's port once the server has started (with `legacyListener`), else undefined. */
  readonly legacyPort: number | undefined;
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    'pistream-viewers': PistreamViewersApi;
  }
}

/** One viewer server for every listener, with the core's hub, credentials and host names and these options' limits. */
function viewerServer(core: PistreamCore, options: ViewersOptions): ViewerServer {
  const scheduler = options.scheduler ? { scheduler: options.scheduler } : {};
  return new ViewerServer({
    hub: core.hub,
    highWaterMark: options.highWaterMark,
    maxLagMs: options.maxLagMs,
    stuckMs: options.stuckMs,
    maxViewers: options.maxViewers,
    maxViewersPerAddress: options.maxViewersPerAddress,
    heartbeatMs: options.heartbeatMs,
    allowOrigins: options.allowOrigins,
    hosts: core.hosts,
    ...(options.trustProxy.length ? { trustProxy: core.trust } : {}),
    ...scheduler,
    ...(core.authenticator ? { authenticator: core.authenticator } : {}),
    ...(options.upgradeRate ? { upgradeLimit: new RateLimiter({ ...options.upgradeRate, ...scheduler }) } : {}),
    log: core.log,
  });
}

/**
 * Where each wire format is served, in one place: the WebSocket upgrade at its path on hapi's own listener (under
 * the route prefix), and the HTTP answers of that path (a plain GET from a browser tab or curl gets 426 and where
 * the page is; other methods 405). Returns the upgrade listener, to take off on stop.
 */
function serveFormats(server: Server, core: PistreamCore, viewers: ViewerServer, options: ViewersOptions) {
  const prefix = server.realm.modifiers.route.prefix ?? '';
  const paths: Record<string, FormatPaths[string]> = {};
  for (const format of options.formats) paths[`${prefix}${format.path}`] = format;
  const onUpgrade = viewers.upgradeHandler({ paths, rejectUnknownPaths: () => server.listener.listenerCount('upgrade') === 1 });
  server.listener.on('upgrade', onUpgrade);
  for (const format of options.formats) addPartRoutes(server, core, webSocketPathRoutes(format, options.pages ? `${prefix}/` : undefined));
  return onUpgrade;
}

/** The legacy listener (with `legacyListener`): started with the server, closed first on stop. Gives its port. */
function legacyListener(
  server: Server,
  core: PistreamCore,
  viewers: ViewerServer,
  options: ViewersOptions,
): { readonly port: () => number | undefined; close(): void } {
  const settings = options.legacyListener;
  let legacy: HttpServer | undefined;
  if (settings) {
    server.ext('onPostStart', async () => {
      legacy = await listenLegacy(server, settings, viewers);
      const url = `${settings.tls ? 'wss' : 'ws'}://${legacyHost(server, settings)}:${(legacy.address() as AddressInfo).port}/`;
      core.log('info', `Original-protocol WebSocket server on ${url} (any path)`);
    });
  }
  return {
    port: () => (legacy?.listening ? (legacy.address() as AddressInfo).port : undefined),
    close: () => {
      legacy?.close();
      legacy?.closeAllConnections();
    },
  };
}

/**
 * The viewers: a WebSocket route per wire format on hapi's own listener (through `ws`, upgrades taken before hapi
 * routes anything: path, host, Origin, rate and credentials checked before the handshake), the 426/405 answers of
 * those paths, the legacy listener (with `legacyListener`), and the viewer metrics. On stop it is the first part:
 * no new upgrade, every viewer closed with 1001, the legacy listener closed. Depends on `pistream-core`.
 *
 * @example
 * await server.register({ plugin: pistreamCore, options: { source: { kind: 'test' }, encoder: { width: 640, height: 480, fps: 24 }, pages: false } });
 * await server.register(pistreamViewers); // ws://…/stream and /legacy, nothing else
 */
export const pistreamViewers: Plugin<void> = {
  name: VIEWERS,
  version,
  dependencies: [CORE],
  register: (server: Server) => {
    const core = dependencyOf(server, CORE);
    const options: ViewersOptions = core.options;
    const viewers = viewerServer(core, options);
    const onUpgrade = serveFormats(server, core, viewers, options);
    core.reports.addViewerCount(() => viewers.viewerCount);
    addViewerMetrics(core.reports.metrics, viewers);
    const legacy = legacyListener(server, core, viewers, options);
    server.expose('viewers', viewers);
    Object.defineProperty(server.plugins[VIEWERS], 'legacyPort', { enumerable: true, get: legacy.port });
    server.ext(
      'onPreStop',
      () => {
        server.listener.off('upgrade', onUpgrade);
        viewers.close();
        legacy.close();
      },
      stopOrder(VIEWERS),
    );
  },
};
