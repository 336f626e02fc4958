/** A frame rate as an exact fraction: `[30000, 1001]` is 29.97…. */
export type Rational = readonly [number, number];

/** The film, PAL and NTSC rates, exact: the rates cameras and players mean when they round (23.98, 29.97). */
export const STANDARD_FRAME_RATES: readonly Rational[] = [
  [24000, 1001],
  [24, 1],
  [25, 1],
  [30000, 1001],
  [30, 1],
  [50, 1],
  [60000, 1001],
  [60, 1],
];

/**
 * The rate of `rates` that `fps` means, tolerating the usual roundings (23.98, 29.97), or undefined.
 * @example
 * matchRate(29.97, STANDARD_FRAME_RATES); // [30000, 1001]
 */
export function matchRate(fps: number, rates: readonly Rational[]): Rational | undefined {
  return rates.find(([num, den]) => Math.abs(fps - num / den) < 0.006);
}

/**
 * `fps` made exact where it means a standard rate (29.97 → 30000/1001), else as it is.
 * @example
 * exactRate(29.97); // 29.97002997…
 */
export function exactRate(fps: number): number {
  const rate = matchRate(fps, STANDARD_FRAME_RATES);
  return rate ? rate[0] / rate[1] : fps;
}

/**
 * A rate as ffmpeg reads it for `-framerate`: exact fractions for the NTSC rates (`30000/1001`), else the number.
 * @example
 * frameRateText(30000 / 1001); // '30000/1001'
 */
export function frameRateText(fps: number): string {
  const rate = matchRate(fps, STANDARD_FRAME_RATES);
  if (!rate) return String(fps);
  return rate[1] === 1 ? String(rate[0]) : `${rate[0]}/${rate[1]}`;
}
