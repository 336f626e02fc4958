import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Request, ResponseToolkit, Server, ServerRoute } from '@hapi/hapi';
import Boom from '@hapi/boom';
// Type augmentation only (h.file); the plugin registers inert itself.
import '@hapi/inert';

/** The page's own files (index.html, viewer.js, viewer.css). */
export const PUBLIC_DIR = join(__dirname, '..', '..', 'public');

/** The JSMpeg v1 player, served from its npm package (its `exports` map hides dist/, so go via the main entry). */
export function jsmpegPlayerFile(): string {
  return join(dirname(require.resolve('@cycjimmy/jsmpeg-player')), 'jsmpeg-player.umd.min.js');
}

export const JSMPEG_ROUTE = '/vendor/jsmpeg-player.umd.min.js';

const noPayload = { parse: false, output: 'stream' } as const;

const security = { hsts: false, xframe: 'sameorigin', noSniff: true, referrer: 'no-referrer' } as const;

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
  const methodNotAllowed = (request: Request, h: ResponseToolkit) => {
    const file = String(request.params.file ?? '');
    if (file !== '' && !files.has(file) && `/${file}` !== JSMPEG_ROUTE) throw Boom.notFound();
    return h.response('Method Not Allowed: use GET or HEAD').code(405).type('text/plain').header('Allow', 'GET, HEAD');
  };
  return [
    {
      method: 'GET',
      path: '/',
      options: { security },
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
      options: { security, cache: { expiresIn: 24 * 3600 * 1000, privacy: 'public' } },
      handler: (_request, h) => h.file(jsmpegPlayerFile(), { confine: false }),
    },
    {
      method: 'GET',
      path: '/{file*}',
      options: { security },
      handler: (request, h) => {
        // "" is the page itself under a prefix ("/cam/"). inert's confine would answer 403 to a traversal; to a
        // client that is simply a path we do not have.
        const file = String(request.params.file ?? '') || 'index.html';
        if (!files.has(file)) throw Boom.notFound();
        return h.file(join(PUBLIC_DIR, file), { confine: PUBLIC_DIR });
      },
    },
    // A body is never read here: unparsed, so any method with any payload gets its 405 (not a 400 or 415).
    { method: '*', path: '/', options: { payload: noPayload }, handler: methodNotAllowed },
    { method: '*', path: '/{file*}', options: { payload: noPayload }, handler: methodNotAllowed },
  ];
}

/**
 * The Content-Security-Policy of our pages: scripts and styles from our origin only, JSMpeg's WASM decoder
 * allowed to compile, and WebSockets only back to the host that served the page.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const ws = host ? `ws://${host} wss://${host}` : "ws: wss:";
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    `connect-src 'self' ${ws}`,
    "img-src 'self' data:",
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Adds the CSP to every response of the plugin's routes. */
export function addSecurityHeaders(server: Server): void {
  server.ext(
    'onPreResponse',
    (request, h) => {
      const response = request.response;
      const csp = contentSecurityPolicy(request.headers.host as string | undefined);
      if (Boom.isBoom(response)) response.output.headers['Content-Security-Policy'] = csp;
      else response.header('Content-Security-Policy', csp);
      return h.continue;
    },
    { sandbox: 'plugin' },
  );
}
