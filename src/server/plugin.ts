import type { Plugin, Request, RouteOptions, Server, ServerRoute } from '@hapi/hapi';
import Inert from '@hapi/inert';
import Joi from 'joi';
import { isObservable, type Observable, type Subscription } from 'rxjs';
import type { EncoderOptions } from '../encoder/encoder-options';
import type { Frame } from '../frame';
import { createHub, type Hub } from '../hub';
import { openSource, type SourceSpec } from '../sources/open-source';
import { AUTH_STRATEGY, createAuthenticator, registerAuthStrategy, type AuthOptions } from './auth';
import { healthRoute } from './health';
import { createMetrics, metricsRoute } from './metrics';
import { addSecurityHeaders, JSMPEG_ROUTE, pageRoutes } from './pages';
import { RateLimiter } from './rate-limit';
import { ViewerServer } from './viewer-server';

export interface PistreamPluginOptions {
  /**
   * The frames to stream: any `Observable<Frame>` your app already has, or a source to open (`{ kind: 'auto' }`,
   * `{ kind: 'test' }`, `{ kind: 'v4l2', device }`, …). Give `source` or `hub`.
   */
  readonly source?: Observable<Frame> | SourceSpec;
  /** An existing hub to serve (then `source`, `encoder`, `graceMs`, `alwaysOn` are not used). */
  readonly hub?: Hub;
  /** Encoder settings: frame size and rate (required with `source`), bitrate or quality, GOP, threads, ffmpeg. */
  readonly encoder?: Omit<EncoderOptions, 'counters' | 'spawn' | 'onSpawn'>;
  /** Seconds' worth of ms the camera keeps running after the last viewer leaves. Default 5000. */
  readonly graceMs?: number;
  /** Run the camera and encoder from server start, not only while someone watches. */
  readonly alwaysOn?: boolean;
  /** Unsent bytes above which a viewer counts as slow and skips pictures. Default 512 KiB. */
  readonly highWaterMark?: number;
  /**
   * A viewer whose page acks (ours does) and has left a picture unacknowledged for longer than this many ms skips
   * pictures until it catches up, then resumes at a keyframe. Default 500; 0: judge by `highWaterMark` only.
   */
  readonly maxLagMs?: number;
  /** A viewer that stays slow this many ms is closed with 1008 "too slow" (the page reconnects). Default 10 000; 0: never. */
  readonly stuckMs?: number;
  /** Most viewers at once; more are closed with 1013. Default 100. */
  readonly maxViewers?: number;
  /** WebSocket ping interval in ms; a viewer silent for two is dropped. Default 15 000; 0 turns it off. */
  readonly heartbeatMs?: number;
  /** Origins (besides the page's own) whose pages may open the streams, e.g. an embedding site; `'*'`: any. */
  readonly allowOrigins?: readonly string[];
  /** Serve the original protocol at `/legacy`. Default true. */
  readonly legacy?: boolean;
  /** Serve the viewer page and its assets. Default true. */
  readonly pages?: boolean;
  /**
   * Credentials for the page, the streams, `/healthz` and `/metrics`: Basic `users` (user → password or scrypt
   * hash) and/or a `token` (`?token=` or `Authorization: Bearer`). 401 before any byte. Absent: open to anyone.
   */
  readonly auth?: AuthOptions;
  /** Leave `/healthz` and `/metrics` open when `auth` is set (for a monitor that has no credentials). */
  readonly publicHealth?: boolean;
  /** WebSocket upgrades allowed per client address: `perSecond` sustained, `burst` at once; beyond, 429. `false`: no limit. Default 5/s, burst 20. */
  readonly upgradeRate?: { readonly perSecond: number; readonly burst: number } | false;
}

/** What the plugin exposes as `server.plugins.pistream`. */
export interface PistreamPluginApi {
  readonly hub: Hub;
  readonly viewers: ViewerServer;
  /** Which source runs, and for `auto` why the others were not chosen. */
  readonly source: { readonly kind: string; readonly reasons: readonly string[] };
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    pistream: PistreamPluginApi;
  }
}

const observable = Joi.any().custom((value: unknown) => {
  if (!isObservable(value)) throw new Error('must be an Observable');
  return value;
});

const encoderSchema = Joi.object({
  width: Joi.number().integer().min(2).max(4094).multiple(2).required(),
  height: Joi.number().integer().min(2).max(4094).multiple(2).required(),
  fps: Joi.number().min(1).max(60).required(),
  bitrate: Joi.number().min(16).max(100_000),
  quality: Joi.number().integer().min(2).max(31),
  gop: Joi.number().integer().min(1).max(600),
  threads: Joi.number().integer().min(1).max(16),
  fullRange: Joi.boolean(),
  allowNonstandardFps: Joi.boolean(),
  ffmpeg: Joi.string(),
});

const optionsSchema = Joi.object({
  source: Joi.alternatives(
    observable,
    Joi.object({
      kind: Joi.string().valid('auto', 'test', 'rpicam', 'libcamera', 'raspivid', 'v4l2', 'file').required(),
      device: Joi.string(),
      path: Joi.string(),
    }),
  ),
  hub: Joi.object({ pictures$: observable.required() }).unknown(),
  encoder: encoderSchema.when('source', { is: Joi.exist(), then: Joi.required() }),
  graceMs: Joi.number().integer().min(0).default(5000),
  alwaysOn: Joi.boolean().default(false),
  highWaterMark: Joi.number().integer().min(1024).default(512 * 1024),
  maxLagMs: Joi.number().integer().min(0).default(500),
  stuckMs: Joi.number().integer().min(0).default(10_000),
  maxViewers: Joi.number().integer().min(1).default(100),
  heartbeatMs: Joi.number().integer().min(0).default(15_000),
  allowOrigins: Joi.array().items(Joi.string()).default([]),
  legacy: Joi.boolean().default(true),
  pages: Joi.boolean().default(true),
  auth: Joi.object({
    users: Joi.object().pattern(Joi.string().min(1).pattern(/^[^:]*$/), Joi.string()),
    token: Joi.string().min(1),
  })
    .or('users', 'token')
    .messages({ 'object.missing': '"auth" needs users or a token' }),
  publicHealth: Joi.boolean().default(false),
  upgradeRate: Joi.alternatives(
    Joi.object({ perSecond: Joi.number().positive().required(), burst: Joi.number().integer().min(1).required() }),
    Joi.valid(false),
  ).default({ perSecond: 5, burst: 20 }),
})
  .xor('source', 'hub')
  .messages({ 'object.missing': 'pistream plugin needs either source or hub' });

type ValidOptions = Required<Omit<PistreamPluginOptions, 'source' | 'hub' | 'encoder' | 'auth'>> &
  Pick<PistreamPluginOptions, 'source' | 'hub' | 'encoder' | 'auth'>;

/**
 * Requests the page routes answer without credentials: its static scripts and stylesheet (the npm package's own
 * files; a page opened as `/?token=…` loads them without the token). The page itself and everything live is
 * guarded; unknown names are 404 either way.
 */
function isPublicAsset(request: Request): boolean {
  if (request.route.path.endsWith(JSMPEG_ROUTE)) return true;
  const file = request.route.path.endsWith('/{file*}') ? String(request.params.file ?? '') : '';
  return file !== '' && file !== 'index.html';
}

/** Puts `auth` on routes (a no-op without it). */
function guarded(routes: ServerRoute | ServerRoute[], auth: RouteOptions['auth'] | undefined): ServerRoute[] {
  const list = Array.isArray(routes) ? routes : [routes];
  if (auth === undefined) return list;
  return list.map((route) => ({ ...route, options: { ...(route.options as RouteOptions | undefined), auth } }));
}

async function hubFor(options: ValidOptions): Promise<{ hub: Hub; kind: string; reasons: readonly string[] }> {
  if (options.hub) return { hub: options.hub, kind: 'hub', reasons: [] };
  const encoder = options.encoder!;
  const source = options.source!;
  const opened = isObservable(source)
    ? { source, kind: 'observable', reasons: [], fullRange: false }
    : await openSource(source, { width: encoder.width, height: encoder.height, fps: encoder.fps, ffmpeg: encoder.ffmpeg });
  const hub = createHub({
    source: opened.source,
    encoder: { fullRange: opened.fullRange, ...encoder },
    graceMs: options.graceMs,
  });
  return { hub, kind: opened.kind, reasons: opened.reasons };
}

/**
 * The hapi plugin: the viewer page, `/healthz`, `/metrics` (Prometheus), and the WebSockets `/stream` (MPEG-TS for JSMpeg) and `/legacy`
 * (the original `jsmp` protocol) on the server's own listener. Works under a route prefix. Validates its options
 * at registration and stops everything it started in `onPreStop`.
 *
 * @example
 * await server.register({ plugin: pistreamPlugin, options: { source: myFrames$, encoder: { width: 640, height: 480, fps: 24 } },
 *   routes: { prefix: '/cam' } });
 */
export const pistreamPlugin: Plugin<PistreamPluginOptions> = {
  name: 'pistream',
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  version: (require('../../package.json') as { version: string }).version,
  register: async (server: Server, rawOptions: PistreamPluginOptions) => {
    const { error, value } = optionsSchema.validate(rawOptions ?? {}, { abortEarly: true });
    if (error) throw new Error(`pistream plugin options: ${error.message}`);
    // Joi hands back a shallow copy of an object it validated: serve the caller's own hub, not a clone of it.
    const options: ValidOptions = { ...(value as ValidOptions), hub: rawOptions?.hub };
    const { hub, kind, reasons } = await hubFor(options);

    const prefix = server.realm.modifiers.route.prefix ?? '';
    const paths: Record<string, 'stream' | 'legacy'> = { [`${prefix}/stream`]: 'stream' };
    if (options.legacy) paths[`${prefix}/legacy`] = 'legacy';
    const authenticator = options.auth ? createAuthenticator(options.auth) : undefined;
    if (authenticator) registerAuthStrategy(server, authenticator, isPublicAsset);
    const auth = authenticator ? { strategy: AUTH_STRATEGY, mode: 'required' as const } : undefined;
    const viewers = new ViewerServer({
      hub,
      paths,
      highWaterMark: options.highWaterMark,
      maxLagMs: options.maxLagMs,
      stuckMs: options.stuckMs,
      maxViewers: options.maxViewers,
      heartbeatMs: options.heartbeatMs,
      allowOrigins: options.allowOrigins,
      rejectUnknownPaths: () => server.listener.listenerCount('upgrade') === 1,
      ...(authenticator ? { authenticator } : {}),
      ...(options.upgradeRate ? { upgradeLimit: new RateLimiter(options.upgradeRate) } : {}),
      log: (level, message, details) => server.log(['pistream', level], { msg: message, ...details }),
    });
    server.listener.on('upgrade', viewers.onUpgrade);

    if (options.pages) {
      await server.register(Inert, { once: true });
      server.route(guarded(pageRoutes(), auth));
    }
    const monitorAuth = options.publicHealth ? undefined : auth;
    server.route(guarded(healthRoute(hub, () => viewers.viewers.size), monitorAuth));
    server.route(guarded(metricsRoute(createMetrics(hub, viewers)), monitorAuth));
    addSecurityHeaders(server);
    server.expose('hub', hub);
    server.expose('viewers', viewers);
    server.expose('source', { kind, reasons });

    let keepAlive: Subscription | undefined;
    if (options.alwaysOn) server.ext('onPostStart', () => void (keepAlive = hub.keepAlive()));
    server.ext('onPreStop', () => {
      server.listener.off('upgrade', viewers.onUpgrade);
      viewers.close();
      keepAlive?.unsubscribe();
      hub.close();
    });
  },
};
