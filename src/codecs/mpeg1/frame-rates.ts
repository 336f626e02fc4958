/** A frame rate as an exact fraction: `[30000, 1001]` is 29.97…. */
export type Rational = readonly [number, number];

/** The picture rates MPEG-1 has codes for (ISO/IEC 11172-2 picture_rate 1–8), exact. */
export const MPEG1_FRAME_RATES: readonly Rational[] = [
  [24000, 1001], [24, 1], [25, 1], [30000, 1001], [30, 1], [50, 1], [60000, 1001], [60, 1],
];

/**
 * The codes ffmpeg writes only under `-strict unofficial` (Xing's and libmpeg3's "economy" rates). JSMpeg ignores
 * the rate code while streaming, so they play there; other players may not.
 */
export const MPEG1_NONSTANDARD_RATES: readonly Rational[] = [[5, 1], [10, 1], [12, 1], [15, 1]];

/** What `fps` must be, for messages. */
export const MPEG1_RATES_ALLOWED =
  "one of MPEG-1's frame rates: 23.976, 24, 25, 29.97, 30, 50, 59.94 or 60 " +
  '(5, 10, 12 or 15 only with --allow-nonstandard-fps)';

/**
 * The MPEG-1 rate `fps` means, tolerating the usual roundings (23.98, 29.97), or undefined.
 * @example
 * matchMpeg1Rate(29.97, false); // [30000, 1001]
 */
export function matchMpeg1Rate(fps: number, nonstandard: boolean): Rational | undefined {
  const rates = nonstandard ? [...MPEG1_FRAME_RATES, ...MPEG1_NONSTANDARD_RATES] : MPEG1_FRAME_RATES;
  return rates.find(([num, den]) => Math.abs(fps - num / den) < 0.006);
}

/**
 * A rate as ffmpeg reads it for `-framerate`: exact fractions for the NTSC rates (`30000/1001`), else the number.
 * @example
 * frameRateText(30000 / 1001); // '30000/1001'
 */
export function frameRateText(fps: number): string {
  const rate = matchMpeg1Rate(fps, true);
  if (!rate) return String(fps);
  return rate[1] === 1 ? String(rate[0]) : `${rate[0]}/${rate[1]}`;
}
