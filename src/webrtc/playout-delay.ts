/**
 * The playout-delay RTP header extension (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay): the sender
 * tells the receiver the least and the most its jitter buffer may hold a picture, 12 bits each in 10 ms units.
 *
 * Why we send it: after a spell of link below the stream's rate, Chromium's jitter buffer holds what the link delayed
 * and lets go of it slowly. Measured (bench/net/webrtc-probe.ts, a 4 → 0.5 (10 s) → 4 Mb/s link, getStats every
 * 100 ms): without the extension the jitter buffer delay per picture was ~90 ms when the link recovered and still
 * ~20 ms 8 s later; with min 0 / max 10 ms it was ~30 ms during the spell and 0 within 2.5 s. A minimum of 0 with a
 * maximum at or below 500 ms is what Chromium takes as a low-latency stream. `jitterBufferTarget` (the page) only
 * asks for a floor.
 *
 * Why min 0 / max 0 (render at once) and not max 10 ms: with max 10 ms, after a spell of link below the stream's rate
 * (4 → 0.5 Mb/s for 10 s, the kernel's queue empty within 100 ms of the recovery, no loss after it) Chromium 156 held
 * every picture ~95 ms in the jitter buffer, letting go ~10 ms a second (likely its estimate of when pictures arrive,
 * which the spell pushed late: our reading, not measured inside Chromium): glass 134 ms at the recovery, ~40 ms 8 s later (bench:net:probe --profile drop, load 2.4). With
 * 0/0 the jitter buffer held nothing within 300 ms of the recovery and glass was 13–21 ms from then on (load 4.5);
 * bench part 9's drop profile: back to live in 0.46 and 0.75 s (load 6–8), where max 10 ms gave 6.3 s or never.
 * Firefox froze on 0/0 (meetecho/janus-gateway#2981) and takes no effect from the extension (janus-gateway#2895):
 * an offer from Firefox (its origin line's user name starts `mozilla...THIS_IS_SDPARTA`) gets min 0 / max 10 ms.
 */

/** The extension's URI, as offers name it in `a=extmap`. */
export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

/** The least and the most playout delay we ask for, in the extension's 10 ms units. */
export interface PlayoutDelay {
  readonly min: number;
  readonly max: number;
}

/** Render at once: what we ask of every receiver but Firefox. */
export const PLAYOUT_DELAY: PlayoutDelay = { min: 0, max: 0 };
/** What Firefox gets: it froze on 0/0 (see the file comment). */
export const FIREFOX_PLAYOUT_DELAY: PlayoutDelay = { min: 0, max: 1 };

/** Firefox's SDP stack names itself in the origin line's user name (`o=mozilla...THIS_IS_SDPARTA-128.0 …`). */
const FIREFOX_ORIGIN = /^mozilla\.\.\.THIS_IS_SDPARTA/;

/**
 * The playout delay to ask of the receiver whose offer's origin line has this user name (see the file comment).
 * @example
 * playoutDelayFor('-'); // { min: 0, max: 0 } (Chromium, Safari)
 * playoutDelayFor('mozilla...THIS_IS_SDPARTA-128.0'); // { min: 0, max: 1 }
 */
export function playoutDelayFor(originUser: string): PlayoutDelay {
  return FIREFOX_ORIGIN.test(originUser) ? FIREFOX_PLAYOUT_DELAY : PLAYOUT_DELAY;
}

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
