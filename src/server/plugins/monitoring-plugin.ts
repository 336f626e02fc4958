import type { Plugin, Server } from '@hapi/hapi';
import type { ValidPluginOptions } from '../../options/plugin-options';
import { version } from '../../version';
import { healthRoute } from '../health';
import { addHubMetrics, metricsRoute } from '../metrics';
import { methodNotAllowedRoute } from '../pages';
import { streamsRoute } from '../streams';
import { dependencyOf } from './dependency';
import { addPartRoutes } from './part-routes';
import { CORE, MONITORING } from './plugin-names';

/** The options the monitoring plugin reads (of the core's validated ones). */
export type MonitoringOptions = Pick<ValidPluginOptions, 'record' | 'scheduler'>;

/**
 * What a monitor and the page ask about the server: `GET /healthz` (what every part reports: viewers, a degraded
 * part, publish targets), `GET /metrics` (Prometheus: the pipeline's metrics, and what the other parts add),
 * `GET /streams` (the codec and formats, for the page to pick its player). `/healthz` and `/metrics` take the
 * monitor's credentials (open with `publicHealth`), `/streams` the page's. Nothing to stop. Depends on
 * `pistream-core`.
 *
 * @example
 * await server.register(pistreamMonitoring); // after pistreamCore
 */
export const pistreamMonitoring: Plugin<void> = {
  name: MONITORING,
  version,
  dependencies: [CORE],
  register: (server: Server) => {
    const core = dependencyOf(server, CORE);
    const options: MonitoringOptions = core.options;
    addHubMetrics(core.reports.metrics, core.hub, options.scheduler);
    addPartRoutes(server, core, [
      streamsRoute(
        core.hub,
        { recordings: options.record !== undefined, ...(core.source.audio ? { audio: core.source.audio.description } : {}) },
        () => core.reports.streamsDetails(),
      ),
      methodNotAllowedRoute('/streams'),
    ]);
    const health = healthRoute(core.hub, core.reports, {
      source: core.source.kind,
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    });
    for (const route of [health, metricsRoute(core.reports.metrics)])
      addPartRoutes(server, core, [route, methodNotAllowedRoute(route.path)], 'monitor');
  },
};
