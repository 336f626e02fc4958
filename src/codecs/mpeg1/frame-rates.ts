import { matchRate, STANDARD_FRAME_RATES, type Rational } from '../common/frame-rate';

export { frameRateText, type Rational } from '../common/frame-rate';

/** The picture rates MPEG-1 has codes for (ISO/IEC 11172-2 picture_rate 1–8), exact: the standard rates. */
export const MPEG1_FRAME_RATES: readonly Rational[] = STANDARD_FRAME_RATES;

/**
 * The codes ffmpeg writes only under `-strict unofficial` (Xing's and libmpeg3's "economy" rates). JSMpeg ignores
 * the rate code while streaming, so they play there; other players may not.
 */
export const MPEG1_NONSTANDARD_RATES: readonly Rational[] = [
  [5, 1],
  [10, 1],
  [12, 1],
  [15, 1],
];

/** What `fps` must be, for messages. */
export const MPEG1_RATES_ALLOWED =
  "one of MPEG-1's frame rates: 23.976, 24, 25, 29.97, 30, 50, 59.94 or 60 " + '(5, 10, 12 or 15 only with --allow-nonstandard-fps)';

/**
 * The MPEG-1 rate `fps` means, tolerating the usual roundings (23.98, 29.97), or undefined.
 * @example
 * matchMpeg1Rate(29.97, false); // [30000, 1001]
 */
export function matchMpeg1Rate(fps: number, nonstandard: boolean): Rational | undefined {
  return matchRate(fps, nonstandard ? [...MPEG1_FRAME_RATES, ...MPEG1_NONSTANDARD_RATES] : MPEG1_FRAME_RATES);
}
