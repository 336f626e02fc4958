import type { IncomingMessage } from 'node:http';
import { stdSerializers } from 'pino';
import { clientAddress, type TrustProxy } from '../options/client-address';
import { parseTarget } from './request-target';

/** What a hidden value is logged as. */
export const REDACTED = '[redacted]';

/** Query parameters that carry credentials (any case): pistream's `token`, and what proxies and players add. */
const SECRET_PARAMS: ReadonlySet<string> = new Set(['token', 'access_token', 'password', 'passphrase', 'auth']);

/** Request headers that carry credentials. */
const SECRET_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie'];

const isSecretParam = (name: string): boolean => SECRET_PARAMS.has(name.toLowerCase());

/**
 * A request target for the log: its path as sent, and its query parsed (as the server reads it) with every
 * credential's value replaced; a target that cannot be parsed loses its whole query.
 * @example
 * redactTarget('/stream?a=1&token=k3y'); // '/stream?a=1&token=[redacted]'
 */
export function redactTarget(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const question = url.indexOf('?');
  if (question < 0) return url;
  const path = url.slice(0, question);
  const parsed = parseTarget(url);
  if (!parsed) return `${path}?${REDACTED}`;
  const pairs = [...parsed.searchParams].map(
    ([name, value]) => `${encodeURIComponent(name)}=${isSecretParam(name) ? REDACTED : encodeURIComponent(value)}`,
  );
  return `${path}?${pairs.join('&')}`;
}

/** A parsed query (hapi's `request.query`) with every credential's value replaced. */
export function redactQuery(query: unknown): unknown {
  if (query === null || typeof query !== 'object') return query;
  return Object.fromEntries(
    Object.entries(query as Record<string, unknown>).map(([name, value]) => [name, isSecretParam(name) ? REDACTED : value]),
  );
}

/** Headers with the credentials' values replaced. */
export function redactHeaders(headers: IncomingMessage['headers'] | undefined): IncomingMessage['headers'] {
  const copy = { ...headers };
  for (const name of SECRET_HEADERS) if (copy[name] !== undefined) copy[name] = REDACTED;
  return copy;
}

/** A request as pino serializes it for the log (hapi-pino's `req`). */
export interface LoggedRequest {
  readonly url?: string;
  readonly query?: unknown;
  readonly headers?: IncomingMessage['headers'];
  readonly remoteAddress?: string;
}

/**
 * Request logs without secrets (no credential in the target or the parsed query, no Authorization or Cookie
 * header), and with the client's address rather than the proxy's behind a trusted reverse proxy.
 */
export function requestSerializer(trust: TrustProxy): (req: LoggedRequest) => object {
  return (req) => ({
    ...req,
    remoteAddress: clientAddress(req.remoteAddress, req.headers?.['x-forwarded-for'], trust),
    url: redactTarget(req.url),
    ...('query' in req ? { query: redactQuery(req.query) } : {}),
    headers: redactHeaders(req.headers),
  });
}

/**
 * pino's error serializer, without what Node's URL errors carry besides the message: `input`, the URL a client
 * sent (credentials and all), which would be logged as a field.
 */
export function errorSerializer(err: Error): object {
  const serialized = stdSerializers.err(err) as unknown as Record<string, unknown>;
  delete serialized.input;
  return serialized;
}

/** pino `redact` paths: a second net under the serializers, for fields logged by code that does not use them. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_HEADERS.map((name) => `req.headers["${name}"]`),
  ...[...SECRET_PARAMS].map((name) => `req.query["${name}"]`),
  'res.headers["set-cookie"]',
];
