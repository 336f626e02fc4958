import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plugin, RouteOptions, Request, Server, ServerRoute } from '@hapi/hapi';
import Inert from '@hapi/inert';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import { BARCODE } from '../barcode';
import { DEFAULTS } from '../defaults';
import { jsmp } from '../formats/jsmp';
import type { Hub } from '../hub';
import { validatePluginOptions, type PistreamPluginOptions, type ValidPluginOptions } from '../options/plugin-options';
import { ChildProcessError, childrenExited } from '../process/child-process';
import { FFMPEG_ORIGIN_LABELS, resolveFfmpeg } from '../process/ffmpeg-path';
import { checkRecordDir } from '../options/check-record-dir';
import { Recorder } from '../recording/recorder';
import type { CheckedFfmpeg } from '../sources/check-source';
import { AUTH_STRATEGY, createAuthenticator, registerAuthStrategy } from './auth';
import { clientAddress, trustProxy } from '../options/client-address';
import { hostAllowlist, type HostAllowlist } from '../options/host-allowlist';
import { addHostGuard, machineHostNames } from './host-guard';
import { healthRoute } from './health';
import { addRangeNormalizer } from './byte-range';
import { createListener } from './listener';
import { createMetrics, metricsRoute } from './metrics';
import { hubFor, type Opened } from './open-hub';
import { addSecurityHeaders, JSMPEG_ROUTE, methodNotAllowedRoute, pageRoutes, webSocketPathRoutes } from './pages';
import { RateLimiter } from './rate-limit';
import { publishProblem, type Publisher } from '../publish/publisher';
import { addPublishMetrics, checkPublishFfmpeg, createPublishers, publishHealth } from './publishing';
import { recordingsRoutes } from './recordings';
import { Snapshotter, snapshotRoute } from './snapshot';
import { streamsRoute } from './streams';
import { ViewerServer, type FormatPaths } from './viewer-server';
import { version } from '../version';
import { drawsBarcode, isCameraKind } from '../sources/source-kinds';

export type { PistreamPluginOptions };

/** What the plugin exposes as `server.plugins.pistream`. */
export interface PistreamPluginApi {
  readonly hub: Hub;
  /** Every viewer of every listener. */
  readonly viewers: ViewerServer;
  /**
   * Which source runs, what it reads (`target`: the file, device or camera program), for `auto` why the others
   * were not chosen, and the ffmpeg that runs (checked at registration; none with a hub of the host's own).
   */
  readonly source: { readonly kind: string; readonly reasons: readonly string[]; readonly target?: string; readonly ffmpeg?: CheckedFfmpeg };
  /** The legacy listener's port once the server has started (with `legacyListener`), else undefined. */
  readonly legacyPort: number | undefined;
  /** What serves `/snapshot.jpg` (its `stats` count decodes, shared and cached answers). */
  readonly snapshots: Snapshotter;
  /** One publisher per `publish` target (started with the server): their `stats`, and `problem` for `/healthz`. */
  readonly publishers: readonly Publisher[];
  /** The recorder, with `record`: its `problem` is what `/healthz` calls degraded. */
  readonly recorder: Recorder | undefined;
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    pistream: PistreamPluginApi;
  }
}

type Log = (level: 'info' | 'warn', message: string, details?: object) => void;

/**
 * Logs through hapi-pino's logger when the server has one, else as a hapi server event. Each message is one
 * self-contained line (a terminal shows the message only, see `prettyOptions()` in start-server.ts); `details` are
 * the same facts as fields, for JSON logs.
 */
function logger(server: Server): Log {
  return (level, message, details) => {
    const pinoLogger = (server as unknown as { logger?: Logger }).logger;
    if (pinoLogger) pinoLogger[level](details ?? {}, message);
    else server.log(['pistream', level], { msg: message, ...details });
  };
}

/**
 * The one log line of a pipeline restart: what failed (exit code or signal, and the last stderr lines for a child
 * process), the attempt, and the wait.
 */
function logRestart(log: Log, error: unknown, attempt: number, delayMs: number): void {
  const details: Record<string, unknown> = { attempt, delayMs };
  if (error instanceof ChildProcessError) {
    Object.assign(details, { command: error.command, exitCode: error.exitCode, signal: error.signal, stderr: error.stderr.slice(-5) });
  }
  // ChildProcessError's message already says "<cmd> exited with code N" or "was killed by SIG…" plus the stderr tail.
  const what = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' | ');
  log('warn', `pipeline failed: ${what}; restarting in ${delayMs} ms (attempt ${attempt})`, details);
}

function sourceLabel(kind: string): string {
  return { test: 'test pattern', observable: 'frames from the host application', file: 'video file', hub: 'a hub from the host application' }[kind] ?? kind;
}

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

/**
 * The startup line about the source: what it is and reads, why `auto` passed over the others, and which ffmpeg
 * runs, e.g. `Source: video file /home/pi/demo.mp4; ffmpeg 6.1.1 at /usr/bin/ffmpeg (found on PATH)`.
 */
function sourceLine({ kind, reasons, target, ffmpeg }: Omit<Opened, 'hub'>): string {
  const why = reasons.length ? ` (${reasons.join('; ')})` : '';
  const runs = ffmpeg ? `; ffmpeg ${ffmpeg.version} at ${ffmpeg.path} (${FFMPEG_ORIGIN_LABELS[ffmpeg.origin]})` : '';
  return `Source: ${sourceLabel(kind)}${target ? ` ${target}` : ''}${why}${runs}`;
}

/**
 * Whether the source runs all the time, and why, as one statement for the Encoding line: `camera always on
 * (recording, publishing)`, or `camera on demand (stops 5 s after the last viewer)` when nothing keeps it on.
 */
export function lifecycleText(noun: 'camera' | 'source', graceMs: number, keptOnBy: { alwaysOn: boolean; recording: boolean; publishing: boolean }): string {
  const why = [keptOnBy.alwaysOn && 'as asked', keptOnBy.recording && 'recording', keptOnBy.publishing && 'publishing'].filter(Boolean);
  return why.length > 0 ? `${noun} always on (${why.join(', ')})` : `${noun} on demand (stops ${graceMs / 1000} s after the last viewer)`;
}

/** The startup line naming the hosts answered to, and how to add one. */
function hostsLine(hosts: HostAllowlist): string {
  return `Answering to ${hosts.patterns.join(', ')} and IP addresses; to open it by another name, add it with --allowed-hosts NAME (other names get 403)`;
}

/** Starts the legacy listener: the original protocol at any path, on its own port. */
async function listenLegacy(server: Server, options: NonNullable<ValidPluginOptions['legacyListener']>, viewers: ViewerServer): Promise<HttpServer> {
  const http = createListener(options, (_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
    res.end('This port speaks the original pistreaming WebSocket protocol only.\n');
  });
  http.on('upgrade', viewers.upgradeHandler({ paths: { '*': jsmp }, anyPortOfHost: true, rejectUnknownPaths: () => true }));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host ?? server.settings.host ?? DEFAULTS.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  return http;
}

/**
 * The hapi plugin, and with it the whole pistream server: the viewer page, `GET /streams`, `/healthz`, `/metrics`
 * (Prometheus), `/snapshot.jpg`, `/recordings` (with `record`), a WebSocket route per wire format on the server's own
 * listener (`/stream`: MPEG-TS for JSMpeg; `/legacy`: the original `jsmp` protocol; `/h264`: access units for
 * WebCodecs; `/fmp4`: fragmented MP4 for MSE; MPEG-1's through a transcode when the codec is H.264), the publishers
 * (with `publish`), and optionally the legacy listener on a port of its own. Works under a route prefix.
 * Validates its options at registration, logs pipeline restarts, closes viewers in `onPreStop` and waits for the
 * camera and encoder to exit in `onPostStop`.
 *
 * @example
 * await server.register({ plugin: pistreamPlugin, options: { source: myFrames$, encoder: { width: 640, height: 480, fps: 24 } },
 *   routes: { prefix: '/cam' } });
 */
export const pistreamPlugin: Plugin<PistreamPluginOptions> = {
  name: 'pistream',
  version,
  register: async (server: Server, rawOptions: PistreamPluginOptions) => {
    const valid = validatePluginOptions(rawOptions);
    // The recording folder (already absolute: the options schema resolves it) is checked and made once, before
    // anything starts: a file, a kernel pseudo-filesystem or a folder that cannot be written stops registration.
    const options = valid.record ? { ...valid, record: { ...valid.record, dir: checkRecordDir(valid.record.dir) } } : valid;
    const log = logger(server);
    const opened = await hubFor(options);
    const { hub, kind, reasons, target, ffmpeg } = opened;
    // Publishing: what this ffmpeg cannot send (SRT) fails registration; the publishers start with the server.
    if (options.publish.length > 0) await checkPublishFfmpeg(options.publish, opened.ffmpeg ?? resolveFfmpeg(options.encoder?.ffmpeg));
    const publishers = createPublishers(hub, options.publish, () => opened.ffmpeg?.path ?? resolveFfmpeg(options.encoder?.ffmpeg).path, log, options.scheduler);
    const restartLog = hub.restarts$.subscribe(({ error, attempt, delayMs }) => logRestart(log, error, attempt, delayMs));

    const prefix = server.realm.modifiers.route.prefix ?? '';
    const paths: Record<string, FormatPaths[string]> = {};
    for (const format of options.formats) paths[`${prefix}${format.path}`] = format;
    const trust = trustProxy(options.trustProxy);
    const addressOf = (request: Request) => clientAddress(request.info.remoteAddress, request.headers['x-forwarded-for'] as string | undefined, trust);
    const authenticator = options.auth
      ? createAuthenticator(options.auth, { log, ...(options.scheduler ? { failures: { ...DEFAULTS.loginFailures, scheduler: options.scheduler } } : {}) })
      : undefined;
    if (authenticator) registerAuthStrategy(server, authenticator, isPublicAsset, addressOf);
    const auth = authenticator ? { strategy: AUTH_STRATEGY, mode: 'required' as const } : undefined;
    const hosts = hostAllowlist([...DEFAULTS.allowedHosts, ...machineHostNames(), ...options.allowedHosts]);
    addHostGuard(server, hosts, trust, prefix);
    const viewers = new ViewerServer({
      hub,
      highWaterMark: options.highWaterMark,
      maxLagMs: options.maxLagMs,
      stuckMs: options.stuckMs,
      maxViewers: options.maxViewers,
      maxViewersPerAddress: options.maxViewersPerAddress,
      heartbeatMs: options.heartbeatMs,
      allowOrigins: options.allowOrigins,
      hosts,
      ...(options.trustProxy.length ? { trustProxy: trustProxy(options.trustProxy) } : {}),
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      ...(authenticator ? { authenticator } : {}),
      ...(options.upgradeRate ? { upgradeLimit: new RateLimiter({ ...options.upgradeRate, ...(options.scheduler ? { scheduler: options.scheduler } : {}) }) } : {}),
      log,
    });
    const onUpgrade = viewers.upgradeHandler({ paths, rejectUnknownPaths: () => server.listener.listenerCount('upgrade') === 1 });
    server.listener.on('upgrade', onUpgrade);

    if (options.pages) {
      await server.register(Inert, { once: true });
      server.route(guarded(pageRoutes(), auth));
    }
    server.route(guarded([streamsRoute(hub, { recordings: options.record !== undefined }), methodNotAllowedRoute('/streams')], auth));
    // A plain GET of a stream path (a browser tab, curl) gets 426 and where the page is; other methods 405.
    for (const format of options.formats) server.route(guarded(webSocketPathRoutes(format, options.pages ? `${prefix}/` : undefined), auth));
    // Snapshots and recordings are footage: the page's credentials, never publicHealth's exception.
    const snapshots = new Snapshotter(hub, {
      ffmpeg: () => opened.ffmpeg?.path ?? resolveFfmpeg(options.encoder?.ffmpeg).path,
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    });
    const snapshotLimit = {
      limiter: new RateLimiter({ perSecond: DEFAULTS.snapshotRatePerSecond, burst: DEFAULTS.snapshotRatePerSecond, ...(options.scheduler ? { scheduler: options.scheduler } : {}) }),
      addressOf,
    };
    server.route(guarded([snapshotRoute(snapshots, snapshotLimit), methodNotAllowedRoute('/snapshot.jpg')], auth));
    const recorder = options.record
      ? new Recorder(hub, {
          dir: options.record.dir,
          segmentMs: options.record.segmentMs,
          ...(options.record.keepMs !== undefined ? { keepMs: options.record.keepMs } : {}),
          ...(options.record.maxBytes !== undefined ? { maxBytes: options.record.maxBytes } : {}),
          syncMs: options.record.syncMs,
          minFree: options.record.minFree,
          fps: hub.fps,
          ...(options.scheduler ? { scheduler: options.scheduler } : {}),
          log,
        })
      : undefined;
    if (recorder) {
      await server.register(Inert, { once: true });
      server.route(guarded([...recordingsRoutes(recorder, options.record!.dir), methodNotAllowedRoute('/recordings'), methodNotAllowedRoute('/recordings/{name}')], auth));
    }
    const monitorAuth = options.publicHealth ? undefined : auth;
    const registry = createMetrics(hub, viewers, options.scheduler);
    addPublishMetrics(registry, publishers);
    const degraded = (): string | undefined => recorder?.problem ?? publishProblem(publishers);
    for (const route of [healthRoute(hub, () => viewers.viewerCount, options.scheduler, degraded, () => publishHealth(publishers)), metricsRoute(registry)]) {
      server.route(guarded([route, methodNotAllowedRoute(route.path)], monitorAuth));
    }
    addSecurityHeaders(server, { frameAncestors: options.frameAncestors });
    addRangeNormalizer(server);

    let legacy: HttpServer | undefined;
    server.expose('hub', hub);
    server.expose('viewers', viewers);
    server.expose('snapshots', snapshots);
    server.expose('recorder', recorder);
    server.expose('publishers', publishers);
    server.expose('source', { kind, reasons, ...(target ? { target } : {}), ...(ffmpeg ? { ffmpeg } : {}) });
    Object.defineProperty(server.plugins.pistream, 'legacyPort', {
      enumerable: true,
      get: () => (legacy?.listening ? (legacy.address() as AddressInfo).port : undefined),
    });

    let keepAlive: Subscription | undefined;
    let publishKeepAlive: Subscription | undefined;
    server.ext('onPostStart', async () => {
      if (!hosts.any) log('info', hostsLine(hosts), { allowedHosts: hosts.patterns });
      log('info', sourceLine(opened), { source: kind, reasons, ...(target ? { target } : {}), ...(ffmpeg ? { ffmpeg } : {}) });
      if (options.encoder) {
        const e = options.encoder;
        if (drawsBarcode(kind) && (e.width < BARCODE.width || e.height < BARCODE.height)) {
          log('info', `Test pattern at ${e.width}x${e.height}, without its barcode (it needs at least ${BARCODE.width}x${BARCODE.height}): ` +
            "the page shows no latency figure (it reads the barcode)", { width: e.width, height: e.height });
        }
        if (opened.inCamera && e.quality !== undefined) {
          log('warn', `The camera's H.264 encoder takes a bitrate, not a quality: quality ${e.quality} is not used (--bitrate sets the rate)`, { quality: e.quality });
        }
        const rate = e.quality !== undefined && !opened.inCamera ? `quality ${e.quality}` : `${e.bitrate ?? options.codec.defaultBitrate} kbit/s`;
        log('info', `Encoding ${options.codec.label}${opened.inCamera ? ` in the camera (${target ?? kind})` : ''} ${e.width}x${e.height} at ${Number(e.fps.toFixed(3))} fps, ${rate}, ` +
          `GOP ${e.gop ?? options.codec.defaultGop(e.fps)}; ` +
          lifecycleText(isCameraKind(kind) ? 'camera' : 'source', options.graceMs, {
            alwaysOn: options.alwaysOn, recording: recorder !== undefined, publishing: publishers.length > 0,
          }));
      }
      if (options.legacyListener) {
        legacy = await listenLegacy(server, options.legacyListener, viewers);
        const scheme = options.legacyListener.tls ? 'wss' : 'ws';
        log('info', `Original-protocol WebSocket server on ${scheme}://${options.legacyListener.host ?? server.settings.host ?? DEFAULTS.host}:${(legacy.address() as AddressInfo).port}/ (any path)`);
      }
      if (options.alwaysOn) keepAlive = hub.keepAlive();
      if (publishers.length > 0) {
        // The camera stays on while a target is configured, even while every target waits out its backoff.
        publishKeepAlive = hub.keepAlive();
        const shown = options.publish.map((t) => `${t.label} (${hub.codec.label} copied, ${t.audio === 'silent' ? 'silent AAC' : 'no audio'})`);
        log('info', `Publishing to ${shown.join(', ')}`, { publish: options.publish.map((t) => t.label) });
        for (const publisher of publishers) publisher.start();
      }
      if (recorder) {
        // The recorder is a subscriber of the hub's pictures: the camera stays on while it records.
        recorder.start();
        const r = options.record!;
        const keep = [r.keepMs !== undefined ? `keeping ${r.keepMs / 1000} s` : '', r.maxBytes !== undefined ? `at most ${r.maxBytes} bytes` : ''].filter(Boolean);
        log('info', `Recording to ${r.dir} in ${r.segmentMs / 1000} s segments${keep.length ? `, ${keep.join(' and ')}` : ''}`, { record: r });
      }
    });
    server.ext('onPreStop', async () => {
      server.listener.off('upgrade', onUpgrade);
      viewers.close();
      if (legacy) {
        legacy.close();
        legacy.closeAllConnections();
      }
      // While the hub still runs: the open segment is fsynced and closed, every file handle released.
      await recorder?.stop();
      for (const publisher of publishers) publisher.stop();
      publishKeepAlive?.unsubscribe();
      keepAlive?.unsubscribe();
      hub.close();
      restartLog.unsubscribe();
    });
    // Unsubscribing sent SIGTERM to the camera and encoder; wait for them so none outlives the server.
    server.ext('onPostStop', () => childrenExited(DEFAULTS.childExitMs));
  },
};
