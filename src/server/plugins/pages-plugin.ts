import Inert from '@hapi/inert';
import type { Plugin, Server } from '@hapi/hapi';
import { version } from '../../version';
import { pageRoutes } from '../pages';
import { dependencyOf } from './dependency';
import { addPartRoutes } from './part-routes';
import { CORE, PAGES } from './plugin-names';

/**
 * The viewer page: `/` (and `/index.html`), the files of `public/` and the JSMpeg player, served by `@hapi/inert`
 * (GET and HEAD only, no listings, nothing but those files), with the core's credentials (the static scripts and
 * stylesheet excepted). Nothing to stop. Depends on `pistream-core`.
 *
 * @example
 * await server.register([pistreamViewers, pistreamPages], { routes: { prefix: '/cam' } }); // after pistreamCore, same prefix
 */
export const pistreamPages: Plugin<void> = {
  name: PAGES,
  version,
  dependencies: [CORE],
  register: async (server: Server) => {
    const core = dependencyOf(server, CORE);
    await server.register(Inert, { once: true });
    addPartRoutes(server, core, pageRoutes());
  },
};
