import type { Plugin, Request, RouteOptions, Server } from '@hapi/hapi';
import type { Subscription } from 'rxjs';
import { DEFAULTS } from '../../defaults';
import type { Hub } from '../../hub';
import { checkRecordDir } from '../../options/check-record-dir';
import { clientAddress, trustProxy, type TrustProxy } from '../../options/client-address';
import { hostAllowlist, type HostAllowlist } from '../../options/host-allowlist';
import { validatePluginOptions, type PistreamPluginOptions, type ValidPluginOptions } from '../../options/plugin-options';
import { childrenExited } from '../../process/child-process';
import { resolveFfmpeg, type ResolvedFfmpeg } from '../../process/ffmpeg-path';
import type { CheckedFfmpeg } from '../../sources/check-source';
import { version } from '../../version';
import { AUTH_STRATEGY, createAuthenticator, registerAuthStrategy, type Authenticator } from '../auth';
import { addHostGuard, machineHostNames } from '../host-guard';
import { hubFor, type Opened } from '../open-hub';
import { isPublicAsset } from '../pages';
import { pluginLogger, type PluginLog } from '../plugin-log';
import { logRestarts, logStartup } from '../startup-lines';
import { CORE, stopOrder } from './plugin-names';
import { StatusReports } from './status-reports';
import type { OpenedAudio } from '../../audio/open-audio';
import { audioHealth, audioProblem } from '../audio-status';

/**
 * Which source runs, what it reads (`target`: the file, device or camera program), for `auto` why the others were
 * not chosen, and the ffmpeg that runs (checked at registration; none with a hub of the host's own).
 */
export interface SourceInfo {
  /** The sound as opened: its hub (also `hub.audio`), or why there is none. */
  readonly audio?: OpenedAudio;
  readonly kind: string;
  readonly reasons: readonly string[];
  readonly target?: string;
  readonly ffmpeg?: CheckedFfmpeg;
}

/** What keeps the source running without viewers, as the parts declare it (for the Encoding line). */
export type KeepOnReason = 'recording' | 'publishing';

/** What the core plugin exposes as `server.plugins['pistream-core']`: what every part shares. */
export interface PistreamCore {
  /** The plugin options, validated once (defaults applied, the recording folder checked): each part reads its slice. */
  readonly options: ValidPluginOptions;
  /** The one hub every part reads pictures from (with the MPEG-1 transcode around it when asked). */
  readonly hub: Hub;
  readonly source: SourceInfo;
  /** The ffmpeg the parts run (snapshots, publishers): the one checked for the encoder, else the configured one. */
  ffmpeg(): ResolvedFfmpeg;
  readonly log: PluginLog;
  /** The route `auth` of the page, the streams and footage; undefined without `auth`. */
  readonly auth: RouteOptions['auth'] | undefined;
  /** The route `auth` of `/healthz` and `/metrics`: the page's, or none with `publicHealth`. */
  readonly monitorAuth: RouteOptions['auth'] | undefined;
  /** The credentials check the WebSocket upgrades make too; undefined without `auth`. */
  readonly authenticator: Authenticator | undefined;
  /** The host names the server answers to (requests and upgrades naming another get 403). */
  readonly hosts: HostAllowlist;
  /** The client's address of a request: the peer, or behind a trusted proxy the client it forwarded for. */
  readonly addressOf: (request: Request) => string;
  readonly trust: TrustProxy;
  /** What `/healthz` and `/metrics` report: each part adds its own. */
  readonly reports: StatusReports;
  /** A part that keeps the source running from start says so (the Encoding line says why the camera is always on). */
  keepsSourceOn(reason: KeepOnReason): void;
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    'pistream-core': PistreamCore;
  }
}

/** The options validated, and the recording folder checked and made, before anything opens. */
function checkedOptions(raw: PistreamPluginOptions): ValidPluginOptions {
  const valid = validatePluginOptions(raw);
  // The recording folder (already absolute: the options schema resolves it) is checked and made once, before
  // anything starts: a file, a kernel pseudo-filesystem or a folder that cannot be written stops registration.
  return valid.record ? { ...valid, record: { ...valid.record, dir: checkRecordDir(valid.record.dir) } } : valid;
}

type Access = Pick<PistreamCore, 'auth' | 'monitorAuth' | 'authenticator' | 'hosts' | 'addressOf' | 'trust'>;

/**
 * Who may ask what: the auth strategy every guarded route and upgrade uses (with `auth`), and the host guard before
 * routing (for the plugin's paths: those under its prefix).
 */
function setUpAccess(server: Server, options: ValidPluginOptions, log: PluginLog): Access {
  const trust = trustProxy(options.trustProxy);
  const addressOf = (request: Request) =>
    clientAddress(request.info.remoteAddress, request.headers['x-forwarded-for'] as string | undefined, trust);
  const authenticator = options.auth
    ? createAuthenticator(options.auth, {
        log,
        ...(options.scheduler ? { failures: { ...DEFAULTS.loginFailures, scheduler: options.scheduler } } : {}),
      })
    : undefined;
  if (authenticator) registerAuthStrategy(server, authenticator, isPublicAsset, addressOf);
  const auth = authenticator ? { strategy: AUTH_STRATEGY, mode: 'required' as const } : undefined;
  const hosts = hostAllowlist([...DEFAULTS.allowedHosts, ...machineHostNames(), ...options.allowedHosts]);
  addHostGuard(server, hosts, trust, server.realm.modifiers.route.prefix ?? '');
  return { auth, monitorAuth: options.publicHealth ? undefined : auth, authenticator, hosts, addressOf, trust };
}

function sourceInfo({ kind, reasons, target, ffmpeg, audio }: Opened): SourceInfo {
  return { kind, reasons, ...(target ? { target } : {}), ...(ffmpeg ? { ffmpeg } : {}), ...(audio ? { audio } : {}) };
}

/** The sound's part of `/healthz`: `degraded` while the microphone or its encoder fails, and the `audio` field. */
function reportAudio(reports: StatusReports, opened: Opened): void {
  const audio = opened.audio;
  if (!audio) return;
  reports.addProblem(() => audioProblem(audio.hub));
  reports.addHealthDetails(() => ({ audio: audioHealth(audio) }));
}

/**
 * The core's part of start and stop: the startup lines and each restart logged, the source run from start with
 * `alwaysOn`; on stop, the hub closed and its child processes waited for.
 */
function lifecycle(server: Server, core: PistreamCore, opened: Opened, keptOnBy: ReadonlySet<KeepOnReason>): void {
  const { hub, log, options } = core;
  const restarts = logRestarts(log, hub);
  let keepAlive: Subscription | undefined;
  server.ext('onPostStart', () => {
    logStartup(log, core.hosts, opened, options, {
      alwaysOn: options.alwaysOn,
      recording: keptOnBy.has('recording'),
      publishing: keptOnBy.has('publishing'),
    });
    if (options.alwaysOn) keepAlive = hub.keepAlive();
  });
  // Last of the parts' stops (their own order says so): what still subscribes, then the hub itself.
  server.ext(
    'onPreStop',
    () => {
      keepAlive?.unsubscribe();
      hub.close();
      restarts.unsubscribe();
    },
    stopOrder(CORE),
  );
  // Closing the hub sent SIGTERM to the camera and encoder; wait for them (and any part's ffmpeg) so none outlives the server.
  server.ext('onPostStop', () => childrenExited(DEFAULTS.childExitMs));
}

/**
 * The core every pistream part depends on: it validates the plugin options once (failing registration with a
 * `PluginOptionsError`), checks and opens the source and builds the hub (a `SourceCheckError` for a missing camera
 * or ffmpeg), sets up auth and the host guard, logs the startup lines and each pipeline restart, and on stop closes
 * the hub and waits for every child process. It serves no route: the parts do. Its options are
 * {@link PistreamPluginOptions}; it exposes {@link PistreamCore}.
 *
 * @example
 * await server.register({ plugin: pistreamCore, options: { source: { kind: 'test' }, encoder: { width: 640, height: 480, fps: 24 } } });
 * await server.register([pistreamViewers, pistreamMonitoring]); // the streams and /healthz, /metrics, /streams only
 */
export const pistreamCore: Plugin<PistreamPluginOptions> = {
  name: CORE,
  version,
  register: async (server: Server, raw: PistreamPluginOptions) => {
    const options = checkedOptions(raw);
    const log = pluginLogger(server);
    const opened = await hubFor(options);
    const keptOnBy = new Set<KeepOnReason>();
    const core: PistreamCore = {
      options,
      hub: opened.hub,
      source: sourceInfo(opened),
      ffmpeg: () => opened.ffmpeg ?? resolveFfmpeg(options.encoder?.ffmpeg),
      log,
      ...setUpAccess(server, options, log),
      reports: new StatusReports(),
      keepsSourceOn: (reason) => keptOnBy.add(reason),
    };
    // Key by key: hapi's expose() of a whole object would deep-copy it (the hub included).
    for (const [key, value] of Object.entries(core)) server.expose(key, value);
    reportAudio(core.reports, opened);
    lifecycle(server, core, opened, keptOnBy);
  },
};
