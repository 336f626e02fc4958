import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** The machine's network interfaces as `os.networkInterfaces()` gives them (injectable for tests). */
export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** A host as a URL's authority writes it (IPv6 literals in brackets). */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Where a browser can open the page: for a server on every interface (`0.0.0.0`, `::`), `localhost` first, then
 * each address other machines can reach (IPv4, and with `::` the IPv6 ones that are not link-local, which a browser
 * cannot open without a zone); otherwise the one address it listens on. Never `0.0.0.0`, which no browser opens.
 *
 * @example
 * pageUrls('http', '0.0.0.0', 8082); // ['http://localhost:8082/', 'http://192.168.1.20:8082/']
 */
export function pageUrls(scheme: 'http' | 'https', host: string, port: number, interfaces: Interfaces = networkInterfaces()): string[] {
  const url = (address: string): string => `${scheme}://${urlHost(address)}:${port}/`;
  if (!WILDCARDS.has(host)) return [url(host)];
  const addresses = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((info) => !info.internal && (info.family === 'IPv4' || (host === '::' && !/^fe80:/i.test(info.address))))
    .map((info) => info.address);
  return ['localhost', ...new Set(addresses)].map(url);
}
