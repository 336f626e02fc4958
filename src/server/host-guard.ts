import { hostname } from 'node:os';
import type { Request, Server } from '@hapi/hapi';
import { requestedHost, type TrustProxy } from '../options/client-address';
import { hostName, type HostAllowlist } from '../options/host-allowlist';
import { securityHeaders } from './pages';

/** The body of the 403: what to do about it, without echoing the name (a page must not reflect what it is sent). */
export const UNKNOWN_HOST = 'Forbidden: this server does not answer to that host name (the operator can add it with --allowed-hosts)\n';

/** Whether `path` is the plugin's: everything without a prefix, else the prefix and what is under it. */
function underPrefix(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * 403 before routing for a request to the plugin's paths whose host name (`Host`, or `X-Forwarded-Host` from a
 * trusted proxy) is not in `hosts`; 400 for one that names no host at all. `onRequest` runs for the whole server, so a host app's own paths outside the
 * plugin's prefix are left to it.
 */
export function addHostGuard(server: Server, hosts: HostAllowlist, trust: TrustProxy, prefix: string): void {
  server.ext('onRequest', (request: Request, h) => {
    if (!underPrefix(request.path, prefix)) return h.continue;
    const host = requestedHost(request.info.remoteAddress, request.headers.host, request.headers['x-forwarded-host'], trust);
    if (hosts.allows(host)) {
      // Even with every name allowed ('*'), a Host that is no host (a port past 65535) makes hapi's URL fail later.
      if (host === undefined || hostName(host) !== undefined) return h.continue;
      return h.response('Bad Request: the Host header names no host\n').code(400).type('text/plain').takeover();
    }
    const refused = h.response(UNKNOWN_HOST).code(403).type('text/plain');
    // Taken over before routing, so the plugin's onPreResponse (sandboxed to its routes) does not see it.
    for (const [name, value] of Object.entries(securityHeaders(undefined, { tls: request.server.info.protocol === 'https' })))
      refused.header(name, value);
    return refused.takeover();
  });
}

/**
 * This machine's own names, allowed by default: its host name and the mDNS name a LAN reaches it by
 * (`raspberrypi` and `raspberrypi.local`).
 */
export function machineHostNames(name: string = hostname()): string[] {
  const bare = name.trim().toLowerCase().replace(/\.$/, '');
  if (bare === '') return [];
  return bare.endsWith('.local') ? [bare, bare.slice(0, -'.local'.length)] : [bare, `${bare}.local`];
}
