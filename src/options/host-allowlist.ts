import { isIP } from 'node:net';

/**
 * Which names a server answers to: its defence against DNS rebinding, where a hostile page's own name is pointed
 * at the camera, so the browser sends the camera requests that carry the page's `Host` (and `Origin`).
 */
export interface HostAllowlist {
  /** Whether a `Host` (or `X-Forwarded-Host`) value, port and all, names this server. Absent: not a browser, allowed. */
  allows(host: string | undefined): boolean;
  /** Whether a host name (no port) is one of ours. */
  allowsName(name: string): boolean;
  /** The patterns, for the startup line. */
  readonly patterns: readonly string[];
  /** `'*'` was given: every name is answered (the check is off). */
  readonly any: boolean;
}

/** A pattern a list may hold: a name, `*.name` (any name under it), or `*` (any). */
export const HOST_PATTERN = /^(\*|(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?)$/i;

/**
 * The host name of a `Host` value: lower case, without its port, brackets or a trailing dot; undefined when it is
 * not a host (`Host: a b`, `Host: [::1`).
 * @example
 * hostName('Cam.Local.:8082'); // 'cam.local'
 * hostName('[::1]:8082'); // '::1'
 */
export function hostName(host: string): string | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(host.trim());
  // A port past 65535 is no host a URL can name (hapi would fail to parse the request's URL later).
  if (!m || Number(m[3] ?? 0) > 65535) return undefined;
  const name = (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, '');
  if (m[1] !== undefined) return isIP(name) === 6 ? name : undefined;
  return HOST_PATTERN.test(name) && !name.startsWith('*') ? name : undefined;
}

function matches(pattern: string, name: string): boolean {
  if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
  return pattern === name;
}

/**
 * An allowlist of `patterns` (case-insensitive; a trailing dot ignored). IP literals are always allowed: a
 * rebinding page can only send its own name, and whoever types an address means this machine.
 * @example
 * const hosts = hostAllowlist(['localhost', '*.example.com']);
 * hosts.allows('cam.example.com:8082'); // true
 * hosts.allows('192.168.1.20:8082'); // true
 * hosts.allows('evil.test:8082'); // false
 */
export function hostAllowlist(patterns: readonly string[]): HostAllowlist {
  const list = [...new Set(patterns.map((p) => p.trim().toLowerCase().replace(/\.$/, '')).filter((p) => p !== ''))];
  const any = list.includes('*');
  const allowsName = (name: string): boolean => any || isIP(name) !== 0 || list.some((pattern) => matches(pattern, name));
  return {
    patterns: list,
    any,
    allowsName,
    allows(host) {
      if (host === undefined || any) return true;
      const name = hostName(host);
      return name !== undefined && allowsName(name);
    },
  };
}
