import { createHash, timingSafeEqual } from 'node:crypto';
import Boom from '@hapi/boom';
import type { Request, ResponseToolkit, Server, ServerAuthSchemeObject } from '@hapi/hapi';

import { DEFAULTS } from '../defaults';
import { isPasswordHash, scrypt, type AuthOptions } from '../options/auth-users';
import { concurrencyLimit, QueueFullError } from './concurrency';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle';
import { queryParam } from './request-target';

export type { AuthOptions };

/** The outcome of one check: who it is, or the `WWW-Authenticate` challenge to answer 401 with. */
export type AuthResult =
  | { readonly ok: true; readonly user: string }
  | {
      readonly ok: false;
      readonly challenge: string;
      readonly reason: string;
      /** Set when the client must wait (429 with `Retry-After`): locked out after failed logins, or checks busy. */
      readonly retryAfterMs?: number;
    };

/** Checks the credentials of one request (a page request or a WebSocket upgrade alike). */
export interface Authenticator {
  /**
   * `authorization`: the request's `Authorization` header; `url`: its path and query (`req.url`); `address`: the
   * client's, whose failed logins are counted (default: one shared count).
   */
  check(authorization: string | undefined, url: string, address?: string): Promise<AuthResult>;
}

export interface AuthenticatorOptions {
  /** Failed logins per address before lockouts (see {@link LoginThrottle}). Default `DEFAULTS.loginFailures`. */
  readonly failures?: LoginThrottleOptions;
  /** Where the one line per lockout goes. */
  readonly log?: (level: 'warn', message: string, details?: object) => void;
}

/** The realm browsers show in their password prompt. */
export const AUTH_REALM = 'pistream';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Timing-safe string equality: compares equal-length digests, so neither content nor length leaks. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** scrypt runs few at a time, whatever the number of requests: each holds 16 MiB and a thread-pool thread. */
const limitedScrypt = concurrencyLimit(DEFAULTS.scryptConcurrency, DEFAULTS.scryptQueue);

async function passwordMatches(stored: string, password: string): Promise<boolean> {
  if (!isPasswordHash(stored)) return safeEqual(stored, password);
  const [, salt, key] = stored.split('$') as [string, string, string];
  const expected = Buffer.from(key, 'base64');
  const actual = await limitedScrypt(() => scrypt(password, Buffer.from(salt, 'base64'), expected.length));
  return timingSafeEqual(actual, expected);
}

/** The `token` query parameter of a request URL (path and query, as in `req.url`). */
function queryToken(url: string): string | null {
  return queryParam(url, 'token');
}

/**
 * Basic credentials against `users` (user → password or scrypt hash): the user they name, or undefined. Every
 * configured user is compared, so the time taken does not tell which names exist; a password once verified is
 * remembered as a digest per user, so scrypt runs once per user, not per request.
 */
function basicUsers(users: readonly (readonly [string, string])[]): (encoded: string) => Promise<string | undefined> {
  const verified = new Map<string, Buffer>();
  return async (encoded) => {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const known = verified.get(user);
    if (known && timingSafeEqual(known, digest(password))) return user;
    let match: string | undefined;
    for (const [name, stored] of users) {
      const nameOk = safeEqual(name, user);
      const passwordOk = await passwordMatches(stored, password);
      if (nameOk && passwordOk) match = name;
    }
    if (match !== undefined) verified.set(match, digest(password));
    return match;
  };
}

/** One request's credentials judged, with no memory of earlier failures: a Basic user or the token. */
interface CredentialsCheck {
  /** The `WWW-Authenticate` challenge a 401 carries. */
  readonly challenge: string;
  check(authorization: string, url: string): Promise<AuthResult>;
}

function credentialsCheck(options: AuthOptions): CredentialsCheck {
  const users = Object.entries(options.users ?? {});
  const token = options.token;
  if (users.length === 0 && !token) throw new Error('auth needs users or a token');
  // A browser shows its password prompt only for a Basic challenge; token-only servers say Bearer.
  const challenge = users.length > 0 ? `Basic realm="${AUTH_REALM}", charset="UTF-8"` : `Bearer realm="${AUTH_REALM}"`;
  const basic = basicUsers(users);
  return {
    challenge,
    async check(authorization, url) {
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

/**
 * The one credentials check for the page, `/healthz`, `/metrics` and the WebSocket upgrades (so they cannot
 * disagree). A request passes with a valid Basic user or the token (either one when both are configured). Around
 * the check of the credentials themselves: lockouts per address after failed logins (429), and 429 while the
 * password checks are all busy.
 *
 * @example
 * const auth = createAuthenticator({ token: 'k3y' });
 * await auth.check(undefined, '/stream?token=k3y'); // { ok: true, user: 'token' }
 */
export function createAuthenticator(options: AuthOptions, settings: AuthenticatorOptions = {}): Authenticator {
  const credentials = credentialsCheck(options);
  const { challenge } = credentials;
  const throttle = new LoginThrottle(settings.failures ?? DEFAULTS.loginFailures);
  return {
    async check(header, url, address = '') {
      const locked = throttle.retryAfterMs(address);
      if (locked > 0) return { ok: false, challenge, reason: 'too many failed logins', retryAfterMs: locked };
      let result: AuthResult;
      try {
        result = await credentials.check(header ?? '', url);
      } catch (err) {
        if (err instanceof QueueFullError) return { ok: false, challenge, reason: 'busy checking passwords', retryAfterMs: 1000 };
        throw err;
      }
      if (result.ok) throttle.succeeded(address);
      else if (result.reason !== 'no credentials') {
        const failure = throttle.failed(address);
        // One line when a lockout starts, never one per request: a flood cannot flood the log.
        if (failure.started) {
          settings.log?.('warn', `failed logins from ${address || 'a client'}: locked out for ${failure.lockoutMs / 1000} s (429)`, {
            address,
            lockoutMs: failure.lockoutMs,
          });
        }
      }
      return result;
    },
  };
}

/** Name of the hapi auth scheme and strategy the plugin registers. */
export const AUTH_STRATEGY = 'pistream';

/**
 * Registers `authenticator` as the hapi auth scheme and strategy `pistream`, for routes to name in `options.auth`.
 * `isPublic` lets a route serve some requests without credentials (the page's static scripts and stylesheet, which
 * are the npm package's own files: a page opened with `?token=` loads them without the token). `addressOf` names the
 * client whose failed logins count (the peer by default; behind a trusted proxy, the client it forwarded for).
 *
 * @example
 * registerAuthStrategy(server, createAuthenticator({ token }), () => false);
 * server.route({ method: 'GET', path: '/', options: { auth: AUTH_STRATEGY }, handler });
 */
export function registerAuthStrategy(
  server: Server,
  authenticator: Authenticator,
  isPublic: (request: Request) => boolean,
  addressOf: (request: Request) => string = (request) => request.info.remoteAddress,
): void {
  server.auth.scheme(AUTH_STRATEGY, (): ServerAuthSchemeObject => ({
    authenticate: async (request: Request, h: ResponseToolkit) => {
      if (isPublic(request)) return h.authenticated({ credentials: { user: 'anonymous' } });
      // The raw target, not request.url: hapi parses that lazily, with the Host, and it can throw.
      const result = await authenticator.check(
        request.headers.authorization as string | undefined,
        request.raw.req.url ?? '/',
        addressOf(request),
      );
      if (result.ok) return h.authenticated({ credentials: { user: result.user } });
      if (result.retryAfterMs !== undefined) {
        const busy = Boom.tooManyRequests(result.reason);
        busy.output.headers['Retry-After'] = String(Math.ceil(result.retryAfterMs / 1000));
        throw busy;
      }
      const error = Boom.unauthorized(result.reason);
      error.output.headers['WWW-Authenticate'] = result.challenge;
      throw error;
    },
  }));
  server.auth.strategy(AUTH_STRATEGY, AUTH_STRATEGY);
}
