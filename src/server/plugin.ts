import type { Plugin, Server } from '@hapi/hapi';
import type { Hub } from '../hub';
import type { PistreamPluginOptions, ValidPluginOptions } from '../options/plugin-options';
import type { Publisher } from '../publish/publisher';
import type { Recorder } from '../recording/recorder';
import { version } from '../version';
import { pistreamCore, type SourceInfo } from './plugins/core-plugin';
import { pistreamMonitoring } from './plugins/monitoring-plugin';
import { pistreamPages } from './plugins/pages-plugin';
import { CORE, PUBLISHING, RECORDINGS, SNAPSHOTS, VIEWERS } from './plugins/plugin-names';
import { pistreamPublishing, type PistreamPublishingApi } from './plugins/publishing-plugin';
import { pistreamRecordings, type PistreamRecordingsApi } from './plugins/recordings-plugin';
import { pistreamSnapshots } from './plugins/snapshots-plugin';
import { pistreamViewers } from './plugins/viewers-plugin';
import { pistreamWebRtc } from './plugins/webrtc-plugin';
import type { Snapshotter } from './snapshot';
import type { ViewerServer } from './viewer-server';

export type { PistreamPluginOptions };
export { lifecycleText } from './startup-lines';

/** What the plugin exposes as `server.plugins.pistream`. */
export interface PistreamPluginApi {
  readonly hub: Hub;
  /** Every viewer of every listener. */
  readonly viewers: ViewerServer;
  /**
   * Which source runs, what it reads (`target`: the file, device or camera program), for `auto` why the others
   * were not chosen, and the ffmpeg that runs (checked at registration; none with a hub of the host's own).
   */
  readonly source: SourceInfo;
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

/** A part of the server, and whether the options ask for it (absent: always). */
interface Part {
  readonly plugin: Plugin<void>;
  readonly wanted?: (options: ValidPluginOptions) => boolean;
}

/**
 * The parts the top plugin registers after the core, in this order: those whose registration can still fail (the
 * publishers' ffmpeg check) before those that hold a resource from registration on (the viewers' heartbeat), so
 * a refused registration leaves nothing running. Their stops have an order of their own (`stopOrder`). A new part
 * is one more line here.
 */
const PARTS: readonly Part[] = [
  { plugin: pistreamRecordings, wanted: (options) => options.record !== undefined },
  { plugin: pistreamPublishing, wanted: (options) => options.publish.length > 0 },
  { plugin: pistreamViewers },
  { plugin: pistreamWebRtc },
  { plugin: pistreamPages, wanted: (options) => options.pages },
  { plugin: pistreamSnapshots },
  { plugin: pistreamMonitoring },
];

/** `server.plugins.pistream`: the parts' APIs in one place, as before there were parts. */
function exposeApi(server: Server): void {
  const { hub, source } = server.plugins[CORE];
  const viewers = server.plugins[VIEWERS];
  server.expose('hub', hub);
  server.expose('viewers', viewers.viewers);
  server.expose('snapshots', server.plugins[SNAPSHOTS].snapshots);
  // Registered only when asked for.
  const recordings = server.plugins[RECORDINGS] as PistreamRecordingsApi | undefined;
  const publishing = server.plugins[PUBLISHING] as PistreamPublishingApi | undefined;
  server.expose('recorder', recordings?.recorder);
  server.expose('publishers', publishing?.publishers ?? []);
  server.expose('source', source);
  Object.defineProperty(server.plugins.pistream, 'legacyPort', { enumerable: true, get: () => viewers.legacyPort });
}

/**
 * The hapi plugin, and with it the whole pistream server: the core (options validated once, the source checked and
 * opened, the hub, auth, host names) and every part the options ask for, each a hapi plugin of its own that depends
 * on the core: the viewers (a WebSocket route per wire format on the server's own listener: `/stream`: MPEG-TS for
 * JSMpeg; `/legacy`: the original `jsmp` protocol; `/h264`: access units for WebCodecs; `/fmp4`: fragmented MP4 for
 * MSE; MPEG-1's through a transcode when the codec is H.264; and optionally the legacy listener on a port of its
 * own), the pages, monitoring (`/healthz`, `/metrics` for Prometheus, `/streams`), `/snapshot.jpg`, `/recordings`
 * (with `record`) and the publishers (with `publish`). Works under a route prefix. On stop: viewers closed first,
 * then the recorder and publishers, then the hub, and it waits for the camera and encoder to exit.
 *
 * @example
 * await server.register({ plugin: pistreamPlugin, options: { source: myFrames$, encoder: { width: 640, height: 480, fps: 24 } },
 *   routes: { prefix: '/cam' } });
 */
export const pistreamPlugin: Plugin<PistreamPluginOptions> = {
  name: 'pistream',
  version,
  register: async (server: Server, options: PistreamPluginOptions) => {
    await server.register({ plugin: pistreamCore, options });
    const valid = server.plugins[CORE].options;
    for (const part of PARTS) {
      if (part.wanted?.(valid) ?? true) await server.register(part.plugin);
    }
    exposeApi(server);
  },
};
