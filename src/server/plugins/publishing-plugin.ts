import type { Plugin, Server } from '@hapi/hapi';
import type { Subscription } from 'rxjs';
import type { ValidPluginOptions } from '../../options/plugin-options';
import { publishProblem, type Publisher } from '../../publish/publisher';
import { publishedAudio } from '../../publish/publish-args';
import { version } from '../../version';
import { addPublishMetrics, checkPublishFfmpeg, createPublishers, publishHealth } from '../publishing';
import { dependencyOf } from './dependency';
import { CORE, PUBLISHING, stopOrder } from './plugin-names';

/** The options the publishing plugin reads (of the core's validated ones). */
export type PublishingOptions = Pick<ValidPluginOptions, 'publish' | 'scheduler'>;

/** What the publishing plugin exposes as `server.plugins['pistream-publishing']`. */
export interface PistreamPublishingApi {
  /** One publisher per `publish` target (started with the server): their `stats`, and `problem` for `/healthz`. */
  readonly publishers: readonly Publisher[];
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    'pistream-publishing': PistreamPublishingApi;
  }
}

/**
 * Publishing (the core's `publish` targets): one supervised ffmpeg per target, started with the server, the camera
 * kept on while any is configured; their state in `/healthz` and `/metrics`. What this ffmpeg cannot send (SRT)
 * fails registration. On stop, after the viewers, each publisher's ffmpeg is stopped. Depends on `pistream-core`,
 * registered with `publish`.
 *
 * @example
 * await server.register({ plugin: pistreamCore, options: { source: { kind: 'auto' }, encoder, codec: 'h264', publish: ['rtmp://…'] } });
 * await server.register(pistreamPublishing);
 */
export const pistreamPublishing: Plugin<void> = {
  name: PUBLISHING,
  version,
  dependencies: [CORE],
  register: async (server: Server) => {
    const core = dependencyOf(server, CORE);
    const options: PublishingOptions = core.options;
    if (options.publish.length === 0) throw new Error(`Plugin ${PUBLISHING} needs publish targets in the options of ${CORE}`);
    await checkPublishFfmpeg(options.publish, core.ffmpeg());
    const { hub, log } = core;
    const publishers = createPublishers(hub, options.publish, () => core.ffmpeg().path, log, options.scheduler);
    addPublishMetrics(core.reports.metrics, publishers);
    core.reports.addProblem(() => publishProblem(publishers));
    core.reports.addHealthDetails(() => ({ publish: publishHealth(publishers) }));
    core.keepsSourceOn('publishing');
    server.expose('publishers', publishers);
    let keepAlive: Subscription | undefined;
    server.ext('onPostStart', () => {
      // The camera stays on while a target is configured, even while every target waits out its backoff.
      keepAlive = hub.keepAlive();
      const shown = options.publish.map((t) => `${t.label} (${hub.codec.label} copied, ${publishedAudio(t, hub.audio !== undefined)})`);
      log('info', `Publishing to ${shown.join(', ')}`, { publish: options.publish.map((t) => t.label) });
      for (const publisher of publishers) publisher.start();
    });
    server.ext(
      'onPreStop',
      () => {
        for (const publisher of publishers) publisher.stop();
        keepAlive?.unsubscribe();
      },
      stopOrder(PUBLISHING),
    );
  },
};
