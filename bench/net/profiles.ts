// The link profiles of the network bench: what a phone on Wi-Fi goes through, one at a time. Each is a timeline of
// steps applied to a viewer's link (netns.ts) while both viewers are watched; times in seconds from the window's start.
import type { Rate } from './netns';
import { CLEAN, type Impairment } from './relay-schedule';

export interface ProfileStep {
  readonly atS: number;
  /** A new rate cap towards the viewer (kbit/s; null: none). */
  readonly rate?: Rate;
  /** New impairments, both directions alike. */
  readonly impair?: Impairment;
  /** The link goes down both ways for this long (ms). */
  readonly outageMs?: number;
}

export interface NetProfile {
  readonly name: string;
  /** Short name for `--profiles`. */
  readonly id: string;
  readonly steps: readonly ProfileStep[];
  /** When the link is good again (s): back to live is timed from here. None: impaired to the end. */
  readonly recoverAtS?: number;
  /** When the impairment starts (s), for the impaired phase's figures. */
  readonly impairedFromS: number;
  /** The window's length (s). */
  readonly seconds: number;
}

/** RTT 50 ± 20 ms: 25 ± 10 ms each way. */
const JITTERY: Impairment = { delayMs: 25, jitterMs: 10, loss: 0 };
/** Loss on a short Wi-Fi hop: 5 ms each way; a lost TCP chunk costs one retransmission timeout (relay-schedule.ts). */
const lossy = (loss: number): Impairment => ({ delayMs: 5, jitterMs: 2, loss });

/** The profiles (issue 28): the stream is 800 kbit/s MPEG-1 or 500 kbit/s H.264 at 640x480@24. */
export const PROFILES: readonly NetProfile[] = [
  { id: 'cap2', name: 'cap 2 Mb/s', steps: [{ atS: 0, rate: 2000 }], impairedFromS: 0, seconds: 15 },
  { id: 'cap0.5', name: 'cap 0.5 Mb/s', steps: [{ atS: 0, rate: 500 }], impairedFromS: 2, seconds: 20 },
  {
    id: 'drop',
    name: 'cap 4 → 0.5 (10 s) → 4 Mb/s',
    steps: [
      { atS: 0, rate: 4000 },
      { atS: 4, rate: 500 },
      { atS: 14, rate: 4000 },
    ],
    impairedFromS: 4,
    recoverAtS: 14,
    seconds: 22,
  },
  { id: 'rtt', name: 'RTT 50 ± 20 ms', steps: [{ atS: 0, impair: JITTERY }], impairedFromS: 0, seconds: 15 },
  { id: 'loss1', name: 'loss 1 %', steps: [{ atS: 0, impair: lossy(0.01) }], impairedFromS: 0, seconds: 15 },
  { id: 'loss5', name: 'loss 5 %', steps: [{ atS: 0, impair: lossy(0.05) }], impairedFromS: 0, seconds: 15 },
  { id: 'outage', name: 'outage 3 s', steps: [{ atS: 4, outageMs: 3000 }], impairedFromS: 4, recoverAtS: 7, seconds: 15 },
];

/** The long run: the jittery profile for `minutes`, to see whether any player's latency grows. */
export function soakProfile(minutes: number): NetProfile {
  return {
    id: 'soak',
    name: `RTT 50 ± 20 ms, ${minutes} min`,
    steps: [{ atS: 0, impair: JITTERY }],
    impairedFromS: 0,
    seconds: minutes * 60,
  };
}

/** The profile's link at rest (before its first step and between runs). */
export const GOOD_LINK = { rate: null as Rate, impair: CLEAN };
