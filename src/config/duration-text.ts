/*
 * Durations as the CLI reads them. Every duration option is in ms; a flag may be documented in seconds (--grace,
 * --header-timeout, --record-*) or in ms (--max-lag). A bare number keeps the flag's documented unit, so
 * existing command lines mean what they meant; a number with a unit (500ms, 2.5s, 10m, 12h, 7d, 2w) means that.
 */

/** A flag's documented unit: what a bare number counts. */
export type BareUnit = 'ms' | 's';

const MS_PER: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `90` (in `bare` units), `500ms`, `2.5s`, `30m`, `12h`, `7d`, `2w` as ms (rounded to whole ms), or undefined
 * when the text is none of these (a negative number included).
 * @example
 * parseDurationMs('2.5', 's'); // 2500
 * parseDurationMs('500ms', 's'); // 500
 * parseDurationMs('1000', 'ms'); // 1000
 */
export function parseDurationMs(text: string, bare: BareUnit): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|[smhdw])?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? bare).toLowerCase();
  const ms = Number(m[1]) * MS_PER[unit]!;
  // A bare ms value keeps its fraction, so that "0.5" is refused as no whole number of ms rather than taken as 1.
  return m[2] === undefined && bare === 'ms' ? ms : Math.round(ms);
}

/** The words a flag's help adds about its unit. */
export function durationHelp(bare: BareUnit): string {
  return bare === 's'
    ? 'a bare number is seconds; or with a unit: 500ms, 90s, 10m, 2h'
    : 'a bare number is ms; or with a unit: 500ms, 1.5s';
}
