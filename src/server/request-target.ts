/**
 * The path and query of a request target as a client sent it (`req.url`), read without ever throwing: a target is
 * bytes from anyone, and `new URL('//', base)` (an empty authority), `%`, a NUL or an absolute-form target must not
 * take the server down (issue 23: one upgrade to `//` stopped the process).
 */

/** A dummy origin to resolve origin-form targets against: only their path and query are read. */
const BASE = 'http://target.invalid';

/**
 * The parsed target, or undefined when it is none a server could answer (then: 400). An origin-form target
 * (`/path?q`) is always read as a path, `//` included, dot segments resolved as a browser would.
 */
export function parseTarget(url: string | undefined): URL | undefined {
  const target = url ?? '/';
  try {
    // Prefixing the origin keeps "//x" a path: resolved against a base, it would name a host "x".
    if (target.startsWith('/')) return new URL(`${BASE}${target}`);
    // Absolute form (what a proxy is sent): only an http(s) URL is a target ("a:" would parse, with no path).
    const absolute = new URL(target);
    return /^https?:$/.test(absolute.protocol) ? absolute : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The target's path (`/stream`), or undefined for a target that cannot be read.
 * @example
 * requestPath('//'); // '//'
 * requestPath('/stream?token=k'); // '/stream'
 */
export function requestPath(url: string | undefined): string | undefined {
  return parseTarget(url)?.pathname;
}

/**
 * One query parameter of the target (the first of that name), or null when absent or unreadable.
 * @example
 * queryParam('/stream?token=k3y', 'token'); // 'k3y'
 */
export function queryParam(url: string | undefined, name: string): string | null {
  return parseTarget(url)?.searchParams.get(name) ?? null;
}

/**
 * A route's path parameter as text: hapi gives a matched `{name}` or `{name*}` as a string, and an unmatched
 * optional one as undefined (then '').
 * @example
 * pathParam(request, 'file'); // 'viewer.js' for /viewer.js on a '/{file*}' route
 */
export function pathParam(request: { readonly params: Record<string, unknown> }, name: string): string {
  const value = request.params[name];
  return typeof value === 'string' ? value : '';
}
