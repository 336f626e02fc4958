import type { Hub } from '../hub';
import type { ValidPluginOptions } from '../options/plugin-options';
import { loadWebRtc, type WebRtcAvailability, type WebRtcLibrary } from '../webrtc/peer-session';

/** The wire format whose pictures (H.264 access units, Annex B) WebRTC viewers take. */
export const H264_FORMAT = 'h264';

/** Whether WebRTC viewers are served, and why not. */
export type WebRtcState = { readonly on: true; readonly library: WebRtcLibrary } | { readonly on: false; readonly reason: string };

/**
 * Whether this server serves WebRTC viewers: on when the options allow it, the hub sends H.264 in the `h264`
 * format, and the library loads here; else off, with why (one line for the log and `GET /streams`).
 * @example
 * webRtcState(options, hub); // { on: false, reason: 'WebRTC is off: it carries H.264, and the codec is MPEG-1' }
 */
export function webRtcState(
  options: Pick<ValidPluginOptions, 'webrtc'>,
  hub: Hub,
  load: () => WebRtcAvailability = loadWebRtc,
): WebRtcState {
  if (options.webrtc.enabled === false) return { on: false, reason: 'WebRTC is off, as the options say' };
  // WebRTC sends the access units of the h264 format as they are: a hub without it (MPEG-1, or formats that leave
  // it out) has nothing to send.
  if (!hub.formats.some((format) => format.id === H264_FORMAT)) {
    return { on: false, reason: `WebRTC is off: it sends H.264 access units, and this ${hub.codec.label} stream has none` };
  }
  const library = load();
  return library.ok ? { on: true, library: library.library } : { on: false, reason: library.reason };
}
