import type { Plugin, Server } from '@hapi/hapi';
import { DEFAULTS } from '../../defaults';
import type { ValidPluginOptions } from '../../options/plugin-options';
import { version } from '../../version';
import { methodNotAllowedRoute } from '../pages';
import { RateLimiter } from '../rate-limit';
import { Snapshotter, snapshotRoute } from '../snapshot';
import { dependencyOf } from './dependency';
import { addPartRoutes } from './part-routes';
import { CORE, SNAPSHOTS } from './plugin-names';

/** The options the snapshots plugin reads (of the core's validated ones). */
export type SnapshotsOptions = Pick<ValidPluginOptions, 'scheduler'>;

/** What the snapshots plugin exposes as `server.plugins['pistream-snapshots']`. */
export interface PistreamSnapshotsApi {
  /** What serves `/snapshot.jpg` (its `stats` count decodes, shared and cached answers). */
  readonly snapshots: Snapshotter;
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    'pistream-snapshots': PistreamSnapshotsApi;
  }
}

/**
 * `GET /snapshot.jpg`: the newest picture as a JPEG, decoded on demand by one ffmpeg (the core's), a few a second
 * per client address. Snapshots are footage: the page's credentials, never `publicHealth`'s exception. Nothing to
 * stop: a decode under way is one short ffmpeg, which the core waits for with every other. Depends on `pistream-core`.
 *
 * @example
 * await server.register(pistreamSnapshots); // after pistreamCore
 */
export const pistreamSnapshots: Plugin<void> = {
  name: SNAPSHOTS,
  version,
  dependencies: [CORE],
  register: (server: Server) => {
    const core = dependencyOf(server, CORE);
    const options: SnapshotsOptions = core.options;
    const scheduler = options.scheduler ? { scheduler: options.scheduler } : {};
    const snapshots = new Snapshotter(core.hub, { ffmpeg: () => core.ffmpeg().path, ...scheduler });
    const perAddress = {
      limiter: new RateLimiter({ perSecond: DEFAULTS.snapshotRatePerSecond, burst: DEFAULTS.snapshotRatePerSecond, ...scheduler }),
      addressOf: core.addressOf,
    };
    addPartRoutes(server, core, [snapshotRoute(snapshots, perAddress), methodNotAllowedRoute('/snapshot.jpg')]);
    server.expose('snapshots', snapshots);
  },
};
