/** The hapi names of pistream's plugins: the core, and the parts that depend on it. */
export const CORE = 'pistream-core';
export const VIEWERS = 'pistream-viewers';
export const PAGES = 'pistream-pages';
export const MONITORING = 'pistream-monitoring';
export const SNAPSHOTS = 'pistream-snapshots';
export const RECORDINGS = 'pistream-recordings';
export const PUBLISHING = 'pistream-publishing';
export const WEBRTC = 'pistream-webrtc';

/**
 * The order the parts stop in, first stage first: no new viewer and every socket closed; then what subscribes to
 * the hub by itself (the recorder closes its segment while pictures still come, the publishers stop their ffmpeg);
 * the core last (keep-alives released, the hub closed: the camera and encoders get SIGTERM). The WebRTC peers end
 * with the WebSocket viewers.
 */
const STOP_STAGES: readonly (readonly string[])[] = [[VIEWERS, WEBRTC], [RECORDINGS, PUBLISHING], [CORE]];

/**
 * The hapi ext options that put a part's `onPreStop` in its stage: before every plugin of the later stages (hapi
 * orders extensions of one event by plugin name; a name not registered is ignored).
 *
 * @example
 * server.ext('onPreStop', () => viewers.close(), stopOrder(VIEWERS));
 */
export function stopOrder(plugin: string): { readonly before: string[] } {
  const stage = STOP_STAGES.findIndex((names) => names.includes(plugin));
  if (stage < 0) throw new Error(`${plugin} has no stop stage`);
  return { before: STOP_STAGES.slice(stage + 1).flat() };
}
