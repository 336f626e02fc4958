// The network bench's figures from what reached the screen (screen-glass.ts): pure functions over the pictures.
import { quantile } from '../stats';
import type { OnScreen } from './screen-glass';

export interface PhaseFigures {
  /** Pictures that reached the screen in the phase. */
  readonly pictures: number;
  readonly glassP50: number;
  readonly glassP95: number;
  readonly glassMax: number;
  /** New pictures on screen per second. */
  readonly perSecond: number;
  /** The longest time without a new picture on screen (ms), the phase's edges included. */
  readonly maxGapMs: number;
}

/** Figures of the pictures that reached the screen in [from, to) (ms since the epoch). */
export function phaseFigures(all: readonly OnScreen[], from: number, to: number): PhaseFigures {
  const in_ = all.filter((p) => p.at >= from && p.at < to);
  const glass = in_.map((p) => p.glassMs);
  const edges = [from, ...in_.map((p) => p.at), to];
  let maxGapMs = 0;
  for (let i = 1; i < edges.length; i++) maxGapMs = Math.max(maxGapMs, edges[i]! - edges[i - 1]!);
  return {
    pictures: in_.length,
    glassP50: quantile(glass, 0.5),
    glassP95: quantile(glass, 0.95),
    glassMax: quantile(glass, 1),
    perSecond: (in_.length * 1000) / (to - from),
    maxGapMs,
  };
}

/**
 * Time from `recoveredAt` until the viewer is live again: the first picture after it from which the pictures within
 * the next `holdMs` have a glass p50 and p95 each within `slackMs` of `live`'s (the control viewer's), and keep
 * coming: at least half as many in the hold as the control viewer shows in as long (`live.perSecond`; a gap alone
 * would not do, as a loaded machine's screencast has gaps on the good link too). NaN when that never happens before
 * the pictures end.
 * @example
 * backToLive(pictures, linkUpAt, { p50: 30, p95: 45, perSecond: 24 }, { slackMs: 10, holdMs: 1000 }); // e.g. 420
 */
export function backToLive(
  all: readonly OnScreen[],
  recoveredAt: number,
  live: { readonly p50: number; readonly p95: number; readonly perSecond: number },
  { slackMs = 10, holdMs = 1000 }: { slackMs?: number; holdMs?: number } = {},
): number {
  const after = all.filter((p) => p.at >= recoveredAt);
  const end = after.at(-1)?.at ?? -Infinity;
  for (let i = 0; i < after.length; i++) {
    const start = after[i]!.at;
    if (start + holdMs > end) break;
    const hold = after.slice(i).filter((p) => p.at < start + holdMs);
    const f = phaseFigures(hold, start, start + holdMs);
    const enough = f.pictures >= Math.max(1, (live.perSecond * holdMs) / 1000 / 2);
    if (enough && f.glassP50 <= live.p50 + slackMs && f.glassP95 <= live.p95 + slackMs) return start - recoveredAt;
  }
  return NaN;
}

/**
 * Whether latency grows over a long run: the least-squares slope of glass over time of the pictures in [from, to),
 * in ms of glass per minute (0 for a steady latency; NaN with fewer than two pictures at distinct times).
 * @example
 * glassSlope(pictures, t0, t0 + 600_000); // 0.4: glass rose 0.4 ms a minute
 */
export function glassSlope(all: readonly OnScreen[], from: number, to: number): number {
  const in_ = all.filter((p) => p.at >= from && p.at < to);
  const n = in_.length;
  const meanT = in_.reduce((s, p) => s + p.at, 0) / n;
  const meanG = in_.reduce((s, p) => s + p.glassMs, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const p of in_) {
    covariance += (p.at - meanT) * (p.glassMs - meanG);
    variance += (p.at - meanT) ** 2;
  }
  return variance > 0 ? (covariance / variance) * 60_000 : NaN;
}
