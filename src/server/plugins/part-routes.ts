import type { RouteOptions, Server, ServerRoute } from '@hapi/hapi';
import { addRangeNormalizer } from '../byte-range';
import { addSecurityHeaders } from '../pages';
import type { PistreamCore } from './core-plugin';

/** Who may ask: the page's credentials (the page, streams and footage), or the monitor's (`publicHealth` opens them). */
export type RouteAccess = 'viewer' | 'monitor';

/** Realms whose responses already get the security headers and the `Range` normalizer. */
const prepared = new WeakSet<object>();

/** Puts `auth` on routes (a no-op without it). */
function guarded(routes: readonly ServerRoute[], auth: RouteOptions['auth'] | undefined): ServerRoute[] {
  if (auth === undefined) return [...routes];
  return routes.map((route) => ({ ...route, options: { ...(route.options as RouteOptions | undefined), auth } }));
}

/**
 * Adds a part's routes with the core's credentials for `access`, and once per plugin the response policy every
 * pistream route has: the security headers and the `Range` normalizer. Both are `onPreResponse` extensions that
 * hapi sandboxes to the plugin that adds them (a host app's own routes are left alone), so each part needs its own.
 *
 * @example
 * addPartRoutes(server, core, [healthRoute(core.hub, core.reports)], 'monitor');
 */
export function addPartRoutes(server: Server, core: PistreamCore, routes: readonly ServerRoute[], access: RouteAccess = 'viewer'): void {
  if (!prepared.has(server.realm)) {
    prepared.add(server.realm);
    addSecurityHeaders(server, { frameAncestors: core.options.frameAncestors });
    addRangeNormalizer(server);
  }
  server.route(guarded(routes, access === 'monitor' ? core.monitorAuth : core.auth));
}
