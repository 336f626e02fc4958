import { createHash, timingSafeEqual } from 'node:crypto';
import Boom from '@hapi/boom';
import type { Request, ResponseToolkit, Server, ServerAuthSchemeObject } from '@hapi/hapi';

import { queryParam } from './request-target';
import { isPasswordHash, scrypt, type AuthOptions } from '../options/auth-users';

export type { AuthOptions };

/** The outcome of one check: who it is, or the `WWW-Authenticate` challenge to answer 401 with. */
export type AuthResult =
  | { readonly ok: true; readonly user: string }
  | { readonly ok: false; readonly challenge: string; readonly reason: string };

/** Checks the credentials of one request (a page request or a WebSocket upgrade alike). */
export interface Authenticator {
  /** `authorization`: the request's `Authorization` header; `url`: its path and query (`req.url`). */
  check(authorization: string | undefined, url: string): Promise<AuthResult>;
}

/** The realm browsers show in their password prompt. */
export const AUTH_REALM = 'pistream';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Timing-safe string equality: compares equal-length digests, so neither content nor length leaks. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

async function passwordMatches(stored: string, password: string): Promise<boolean> {
  if (!isPasswordHash(stored)) return safeEqual(stored, password);
  const [, salt, key] = stored.split('$') as [string, string, string];
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** The `token` query parameter of a request URL (path and query, as in `req.url`). */
function queryToken(url: string): string | null {
  return queryParam(url, 'token');
}

/** Successful Basic checks remembered (by a digest of the header), so scrypt runs once per user, not per request. */
const MAX_REMEMBERED = 256;

/**
 * The one credentials check for the page, `/healthz`, `/metrics` and the WebSocket upgrades (so they cannot
 * disagree). A request passes with a valid Basic user or the token (either one when both are configured).
 *
 * @example
 * const auth = createAuthenticator({ token: 'k3y' });
 * await auth.check(undefined, '/stream?token=k3y'); // { ok: true, user: 'token' }
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const users = Object.entries(options.users ?? {});
  const token = options.token;
  if (users.length === 0 && !token) throw new Error('auth needs users or a token');
  // A browser shows its password prompt only for a Basic challenge; token-only servers say Bearer.
  const challenge = users.length > 0 ? `Basic realm="${AUTH_REALM}", charset="UTF-8"` : `Bearer realm="${AUTH_REALM}"`;
  const remembered = new Map<string, string>();

  async function basic(encoded: string): Promise<string | undefined> {
    const key = digest(encoded).toString('base64');
    const known = remembered.get(key);
    if (known !== undefined) return known;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    // Every configured user is compared, so the time taken does not tell which names exist.
    let match: string | undefined;
    for (const [name, stored] of users) {
      const nameOk = safeEqual(name, user);
      const passwordOk = await passwordMatches(stored, password);
      if (nameOk && passwordOk) match = name;
    }
    if (match !== undefined) {
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      remembered.set(key, match);
    }
    return match;
  }

  return {
    async check(header, url) {
      const authorization = header ?? '';
      const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
      if (token) {
        const presented = scheme.toLowerCase() === 'bearer' ? value : queryToken(url);
        if (presented !== null && presented !== '' && safeEqual(presented, token)) return { ok: true, user: 'token' };
      }
      if (users.length > 0 && scheme.toLowerCase() === 'basic' && value) {
        const user = await basic(value);
        if (user !== undefined) return { ok: true, user };
        return { ok: false, challenge, reason: 'wrong user or password' };
      }
      return { ok: false, challenge, reason: authorization || queryToken(url) ? 'wrong credentials' : 'no credentials' };
    },
  };
}

/** Name of the hapi auth scheme and strategy the plugin registers. */
export const AUTH_STRATEGY = 'pistream';

/**
 * Registers `authenticator` as the hapi auth scheme and strategy `pistream`, for routes to name in `options.auth`.
 * `isPublic` lets a route serve some requests without credentials (the page's static scripts and stylesheet, which
 * are the npm package's own files: a page opened with `?token=` loads them without the token).
 *
 * @example
 * registerAuthStrategy(server, createAuthenticator({ token }), () => false);
 * server.route({ method: 'GET', path: '/', options: { auth: AUTH_STRATEGY }, handler });
 */
export function registerAuthStrategy(server: Server, authenticator: Authenticator, isPublic: (request: Request) => boolean): void {
  server.auth.scheme(AUTH_STRATEGY, (): ServerAuthSchemeObject => ({
    authenticate: async (request: Request, h: ResponseToolkit) => {
      if (isPublic(request)) return h.authenticated({ credentials: { user: 'anonymous' } });
      const result = await authenticator.check(request.headers.authorization as string | undefined, request.url.pathname + request.url.search);
      if (result.ok) return h.authenticated({ credentials: { user: result.user } });
      const error = Boom.unauthorized(result.reason);
      error.output.headers['WWW-Authenticate'] = result.challenge;
      throw error;
    },
  }));
  server.auth.strategy(AUTH_STRATEGY, AUTH_STRATEGY);
}
