import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Request, ResponseToolkit, Server, ServerRoute } from '@hapi/hapi';
import Boom from '@hapi/boom';
// Type augmentation only (h.file); the plugin registers inert itself.
import '@hapi/inert';
import { DEFAULTS } from '../defaults';
import type { WireFormat } from '../formats/wire-format';
import { pathParam } from './request-target';

/** The page's own files (index.html, viewer.js, viewer.css, and barcode.js and protocol.js, which the server shares). */
export const PUBLIC_DIR = join(__dirname, '..', '..', 'public');

/** The JSMpeg v1 player, served from its npm package (its `exports` map hides dist/, so go via the main entry). */
export function jsmpegPlayerFile(): string {
  return join(dirname(require.resolve('@cycjimmy/jsmpeg-player')), 'jsmpeg-player.umd.min.js');
}

export const JSMPEG_ROUTE = '/vendor/jsmpeg-player.umd.min.js';

/**
 * The CSS the JSMpeg player puts into a `<style>` element of its own as it loads (its bundler's style-inject
 * helper: `…document.createTextNode(css))}}("<css>")`), or undefined when `playerSource` has no such call.
 * Read from the player's code rather than copied here, so an upgraded player with other CSS keeps its hash right.
 */
export function jsmpegInjectedStyle(playerSource: string): string | undefined {
  const call = /\.createTextNode\([\w$]+\)\)\}\}\(("(?:[^"\\\n]|\\.)*")/.exec(playerSource);
  if (!call) return undefined;
  try {
    // The minifier writes a plain double-quoted literal; one with escapes JSON does not know is not worth guessing.
    return JSON.parse(call[1]!) as string;
  } catch {
    return undefined;
  }
}

/** The CSP source (`'sha256-…'`) that allows inline style elements whose text is exactly `css`. */
export function styleHashSource(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

/**
 * The hash sources that let JSMpeg's injected style through, worked out once at load: its CSS, and the empty text,
 * because the player appends the `<style>` to the document before putting the CSS into it, and the browser checks
 * the element at both steps. Empty when the player file cannot be read or holds no such style: the page still
 * works, the browser just refuses that style (it is for JSMpeg's own poster and buttons, which the page does not
 * use) and logs console errors.
 */
const JSMPEG_STYLE_SOURCES: readonly string[] = (() => {
  try {
    const css = jsmpegInjectedStyle(readFileSync(jsmpegPlayerFile(), 'utf8'));
    return css === undefined ? [] : [styleHashSource(''), styleHashSource(css)];
  } catch {
    return [];
  }
})();

const noPayload = { parse: false, output: 'stream' } as const;

/** 405 with `Allow: GET, HEAD`: the answer to any other method on a path we serve. */
function methodNotAllowed(h: ResponseToolkit) {
  return h.response('Method Not Allowed: use GET or HEAD').code(405).type('text/plain').header('Allow', 'GET, HEAD');
}

/**
 * 405 for every method on `path` but GET and HEAD (give it next to the path's GET route, which answers HEAD too).
 * A body is never read: unparsed, so any method with any payload gets its 405 (not a 400 or 415).
 */
export function methodNotAllowedRoute(path: string): ServerRoute {
  return { method: '*', path, options: { payload: noPayload }, handler: (_request, h) => methodNotAllowed(h) };
}

/**
 * The HTTP answers of a WebSocket path, for a browser tab or curl that opens it as a page: GET (and HEAD) get
 * 426 Upgrade Required with `Upgrade: websocket` and one line saying what the path is and where the page is
 * (`page`, e.g. `/cam/`; absent when the server serves none); other methods 405. Real upgrades never reach these
 * routes: they are taken on the listener's `upgrade` event, before hapi routes anything.
 */
export function webSocketPathRoutes(format: WireFormat, page: string | undefined): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: format.path,
      handler: (request, h) => {
        const watch = page === undefined ? 'connect to it with a WebSocket client' : `open ${page} in a browser to watch it`;
        return h
          .response(`${request.path} is a WebSocket stream, ${format.label}, not a page: ${watch}\n`)
          .code(426)
          .type('text/plain')
          .header('Upgrade', 'websocket')
          .header('Connection', 'Upgrade');
      },
    },
    methodNotAllowedRoute(format.path),
  ];
}

/**
 * The page routes: `/` (and `/index.html`) the viewer, the files of `public/`, and the JSMpeg player. GET and HEAD
 * only (405 for other methods on these paths), no listings, nothing but the files of `public/`.
 */
export function pageRoutes(): ServerRoute[] {
  // public/ is flat: these names are all it serves, so a path that is not one (a traversal, a hidden file) is 404.
  const files = new Set(
    readdirSync(PUBLIC_DIR, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name),
  );
  const methodNotAllowedOrNotFound = (request: Request, h: ResponseToolkit) => {
    const file = pathParam(request, 'file');
    if (file !== '' && !files.has(file) && `/${file}` !== JSMPEG_ROUTE) throw Boom.notFound();
    return methodNotAllowed(h);
  };
  return [
    {
      method: 'GET',
      path: '/',
      handler: (request, h) => {
        // Under a route prefix ("/cam") the page must be at "/cam/" so its relative URLs stay inside the prefix.
        const path = request.path;
        if (!path.endsWith('/')) return h.redirect(`${path}/`).permanent(false);
        return h.file(join(PUBLIC_DIR, 'index.html'), { confine: PUBLIC_DIR });
      },
    },
    {
      method: 'GET',
      path: JSMPEG_ROUTE,
      options: { cache: { expiresIn: 24 * 3600 * 1000, privacy: 'public' } },
      handler: (_request, h) => h.file(jsmpegPlayerFile(), { confine: false }),
    },
    {
      method: 'GET',
      path: '/{file*}',
      handler: (request, h) => {
        // "" is the page itself under a prefix ("/cam/"). inert's confine would answer 403 to a traversal; to a
        // client that is simply a path we do not have.
        const file = pathParam(request, 'file') || 'index.html';
        if (!files.has(file)) throw Boom.notFound();
        return h.file(join(PUBLIC_DIR, file), { confine: PUBLIC_DIR });
      },
    },
    // A body is never read here: unparsed, so any method with any payload gets its 405 (not a 400 or 415).
    { method: '*', path: '/', options: { payload: noPayload }, handler: methodNotAllowedOrNotFound },
    { method: '*', path: '/{file*}', options: { payload: noPayload }, handler: methodNotAllowedOrNotFound },
  ];
}

/**
 * Requests the page routes answer without credentials: its static scripts and stylesheet (the npm package's own
 * files; a page opened as `/?token=…` loads them without the token). The page itself and everything live is
 * guarded; unknown names are 404 either way.
 */
export function isPublicAsset(request: Request): boolean {
  if (request.route.path.endsWith(JSMPEG_ROUTE)) return true;
  const file = request.route.path.endsWith('/{file*}') ? pathParam(request, 'file') : '';
  return file !== '' && file !== 'index.html';
}

/**
 * The Content-Security-Policy of our pages: scripts and styles from our origin only (plus, by its hash, the one
 * style element JSMpeg injects), JSMpeg's WASM decoder allowed to compile, WebSockets only back to the host
 * that served the page, and media from blob: URLs (the MSE player's MediaSource).
 */
export function contentSecurityPolicy(host: string | undefined, frameAncestors: string = DEFAULTS.frameAncestors): string {
  const ws = host ? `ws://${host} wss://${host}` : 'ws: wss:';
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    ["style-src 'self'", ...JSMPEG_STYLE_SOURCES].join(' '),
    `connect-src 'self' ${ws}`,
    // The MSE player plays a MediaSource through a blob: URL (Chrome takes it no other way).
    "media-src 'self' blob:",
    "img-src 'self' data:",
    `frame-ancestors ${frameAncestors}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export interface SecurityHeaderOptions {
  /** CSP `frame-ancestors` sources. Default `'self'`. */
  readonly frameAncestors?: string;
  /** The server speaks TLS: add `Strict-Transport-Security`. */
  readonly tls?: boolean;
}

/**
 * The headers every response of the plugin carries: the CSP, `nosniff` (a JPEG or a recording is never run as a
 * script), no referrer (a `?token=` in the page's URL goes nowhere), `Cross-Origin-Resource-Policy: same-origin`
 * (another site's page cannot embed snapshots or recordings), `X-Frame-Options` for browsers without
 * `frame-ancestors` while only our own pages may frame, and HSTS over TLS.
 */
export function securityHeaders(host: string | undefined, options: SecurityHeaderOptions = {}): Record<string, string> {
  const frameAncestors = options.frameAncestors ?? DEFAULTS.frameAncestors;
  return {
    'Content-Security-Policy': contentSecurityPolicy(host, frameAncestors),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    ...(frameAncestors === "'self'" ? { 'X-Frame-Options': 'SAMEORIGIN' } : {}),
    ...(options.tls ? { 'Strict-Transport-Security': `max-age=${DEFAULTS.hstsMaxAgeSeconds}` } : {}),
  };
}

/** Adds {@link securityHeaders} to every response of the plugin's routes, errors included. */
export function addSecurityHeaders(server: Server, options: Omit<SecurityHeaderOptions, 'tls'> = {}): void {
  server.ext(
    'onPreResponse',
    (request, h) => {
      const response = request.response;
      const headers = securityHeaders(request.headers.host as string | undefined, {
        ...options,
        tls: request.server.info.protocol === 'https',
      });
      if (Boom.isBoom(response)) Object.assign(response.output.headers, headers);
      else for (const [name, value] of Object.entries(headers)) response.header(name, value);
      return h.continue;
    },
    { sandbox: 'plugin' },
  );
}
