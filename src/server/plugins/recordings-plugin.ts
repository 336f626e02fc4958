import Inert from '@hapi/inert';
import type { Plugin, Server } from '@hapi/hapi';
import type { ValidPluginOptions } from '../../options/plugin-options';
import { Recorder } from '../../recording/recorder';
import { version } from '../../version';
import { methodNotAllowedRoute } from '../pages';
import { recordingsRoutes } from '../recordings';
import type { PistreamCore } from './core-plugin';
import { dependencyOf } from './dependency';
import { addPartRoutes } from './part-routes';
import { CORE, RECORDINGS, stopOrder } from './plugin-names';

/** The options the recordings plugin reads (of the core's validated ones). */
export type RecordingsOptions = Pick<ValidPluginOptions, 'record' | 'scheduler'>;

/** What the recordings plugin exposes as `server.plugins['pistream-recordings']`. */
export interface PistreamRecordingsApi {
  /** The recorder: its `problem` is what `/healthz` calls degraded. */
  readonly recorder: Recorder;
}

declare module '@hapi/hapi' {
  interface PluginProperties {
    'pistream-recordings': PistreamRecordingsApi;
  }
}

type Recording = NonNullable<ValidPluginOptions['record']>;

function recorderFor(core: PistreamCore, record: Recording, options: RecordingsOptions): Recorder {
  return new Recorder(core.hub, {
    dir: record.dir,
    segmentMs: record.segmentMs,
    ...(record.keepMs !== undefined ? { keepMs: record.keepMs } : {}),
    ...(record.maxBytes !== undefined ? { maxBytes: record.maxBytes } : {}),
    syncMs: record.syncMs,
    minFree: record.minFree,
    fps: core.hub.fps,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    log: core.log,
  });
}

/** The startup line: where it records, in what segments, and what it keeps. */
function recordingLine(record: Recording): string {
  const keep = [
    record.keepMs !== undefined ? `keeping ${record.keepMs / 1000} s` : '',
    record.maxBytes !== undefined ? `at most ${record.maxBytes} bytes` : '',
  ].filter(Boolean);
  return `Recording to ${record.dir} in ${record.segmentMs / 1000} s segments${keep.length ? `, ${keep.join(' and ')}` : ''}`;
}

/**
 * Recording (the core's `record` option): the recorder, a subscriber of the hub's pictures from start (so the camera
 * stays on), with `GET /recordings` (the list) and `GET /recordings/{name}` (one segment, `Range` served) under the
 * page's credentials; a failing disk makes `/healthz` degraded. On stop, after the viewers and while the hub still
 * runs, the open segment is fsynced and closed. Depends on `pistream-core`, registered with `record`.
 *
 * @example
 * await server.register({ plugin: pistreamCore, options: { source: { kind: 'auto' }, encoder, record: { dir: 'rec' } } });
 * await server.register(pistreamRecordings);
 */
export const pistreamRecordings: Plugin<void> = {
  name: RECORDINGS,
  version,
  dependencies: [CORE],
  register: async (server: Server) => {
    const core = dependencyOf(server, CORE);
    const options: RecordingsOptions = core.options;
    const record = options.record;
    if (!record) throw new Error(`Plugin ${RECORDINGS} needs the record option of ${CORE}`);
    const recorder = recorderFor(core, record, options);
    await server.register(Inert, { once: true });
    const notAllowed = [methodNotAllowedRoute('/recordings'), methodNotAllowedRoute('/recordings/{name}')];
    addPartRoutes(server, core, [...recordingsRoutes(recorder, record.dir), ...notAllowed]);
    core.reports.addProblem(() => recorder.problem);
    core.keepsSourceOn('recording');
    server.expose('recorder', recorder);
    server.ext('onPostStart', () => {
      recorder.start();
      core.log('info', recordingLine(record), { record });
    });
    // While the hub still runs: the open segment is fsynced and closed, every file handle released.
    server.ext('onPreStop', () => recorder.stop(), stopOrder(RECORDINGS));
  },
};
