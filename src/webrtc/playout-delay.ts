/**
 * The playout-delay RTP header extension (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay): the sender
 * tells the receiver the least and the most its jitter buffer may hold a picture, 12 bits each in 10 ms units.
 *
 * Why we send it: after a spell of link below the stream's rate, Chromium's jitter buffer holds what the link delayed
 * and lets go of it slowly. Measured (bench/net/webrtc-probe.ts, a 4 → 0.5 (10 s) → 4 Mb/s link, getStats every
 * 100 ms): without the extension the jitter buffer delay per picture was ~90 ms when the link recovered and still
 * ~20 ms 8 s later; with min 0 / max 10 ms it was ~30 ms during the spell and 0 within 2.5 s. A minimum of 0 with a
 * maximum at or below 500 ms is what Chromium takes as a low-latency stream. The maximum is one unit (10 ms), not 0:
 * Firefox froze on 0/0 (meetecho/janus-gateway#2981). `jitterBufferTarget` (the page) only asks for a floor.
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
