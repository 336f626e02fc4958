// A/V offset on screen and speaker (pure): the page's analyser says when each beep of the test tone reached the
// speakers (public/av-offset.js: `at`, ms since the epoch, and `audioMs`, capture → speaker); the screencast says
// which picture was on screen at that moment and how old it was when it appeared (bench/screen.ts).
import type { ScreenFrame } from './screen';

/** One beep as the page measured it (AvOffset in types/page.d.ts). */
export interface HeardBeep {
  /** When it left for the speakers, ms since the epoch. */
  readonly at: number;
  /** Its capture (a whole second) → speaker, ms. */
  readonly audioMs: number;
}

/** One beep against the screen: sound latency, the on-screen picture's latency, and sound − picture. */
export interface ScreenAv {
  readonly audioMs: number;
  readonly videoMs: number;
  /** Positive: the sound comes after its picture. */
  readonly offsetMs: number;
}

/** A beep with no picture on screen within this long before it is not matched (ms). */
export const SCREEN_FRESH_MS = 250;

/**
 * Each picture's first appearance on screen, in time order: when, and its glass-to-glass then. (A picture stays on
 * screen, in later frames too, until the next one appears.)
 */
export function appearances(frames: readonly ScreenFrame[]): { at: number; glassMs: number }[] {
  const out: { at: number; glassMs: number }[] = [];
  let newest = -Infinity;
  for (const f of frames) {
    if (!f.barcode || f.glassMs === undefined || f.barcode.frame <= newest) continue;
    newest = f.barcode.frame;
    out.push({ at: f.at, glassMs: f.glassMs });
  }
  return out;
}

/**
 * The A/V offset of each beep against the picture on screen when it was heard: the newest picture that appeared at
 * or before the beep (within SCREEN_FRESH_MS), whose glass-to-glass on appearing is the video latency then.
 *
 * @example
 * screenAv([{ at: 1_000_050, audioMs: 50 }], frames); // [{ audioMs: 50, videoMs: 30, offsetMs: 20 }]
 */
export function screenAv(beeps: readonly HeardBeep[], frames: readonly ScreenFrame[]): ScreenAv[] {
  const shown = appearances(frames);
  const out: ScreenAv[] = [];
  for (const beep of beeps) {
    let picture: { at: number; glassMs: number } | undefined;
    for (const p of shown) {
      if (p.at > beep.at) break;
      picture = p;
    }
    if (!picture || beep.at - picture.at > SCREEN_FRESH_MS) continue;
    out.push({ audioMs: beep.audioMs, videoMs: picture.glassMs, offsetMs: beep.audioMs - picture.glassMs });
  }
  return out;
}
