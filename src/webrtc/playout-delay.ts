/**
 * The playout-delay RTP header extension (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay): the sender
 * tells the receiver the least and the most its jitter buffer may hold a picture, 12 bits each in 10 ms units.
 *
 * Why we send it: without it, Chromium's jitter buffer grows with every spell of delay (a link below the stream's
 * rate, a burst of retransmissions) and shrinks again slowly: measured on a 4 → 0.5 → 4 Mb/s link (bench part 9),
 * WebRTC took 2.4 s after the link recovered to be back within 10 ms of a viewer on a good link, the glass falling
 * from ~95 ms to ~35 over seconds. With a minimum of 0 and a maximum at or below 500 ms, Chromium renders each picture
 * as soon as it is decoded (its "low-latency rendering"): the buffer cannot hold what the link delayed. The maximum is
 * one unit (10 ms), not 0: Firefox froze on 0/0 (meetecho/janus-gateway#2981), and an older libwebrtc clamps its
 * target delay into [min, max] when the two differ. `jitterBufferTarget` (the page) only asks; this is the sender's say.
 */

/** The extension's URI, as offers name it in `a=extmap`. */
export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

/** The least and the most playout delay we ask for, in the extension's 10 ms units. */
export const PLAYOUT_DELAY = { min: 0, max: 1 } as const;

/** The extension ids a one-byte RTP header extension can carry (RFC 8285 §4.2), the only form libdatachannel writes. */
const ONE_BYTE_IDS = { first: 1, last: 14 };

/**
 * The `a=extmap` line our answer's video section carries to use the extension under the id the offer gave it, or
 * undefined when the offer did not offer it or gave it an id a one-byte header cannot carry (then nothing is sent).
 * @example
 * playoutDelayExtmap(5); // 'a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay'
 * playoutDelayExtmap(undefined); // undefined
 */
export function playoutDelayExtmap(offeredId: number | undefined): string | undefined {
  if (offeredId === undefined || offeredId < ONE_BYTE_IDS.first || offeredId > ONE_BYTE_IDS.last) return undefined;
  return `a=extmap:${offeredId} ${PLAYOUT_DELAY_URI}`;
}
