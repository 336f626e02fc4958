// Small numeric helpers for the benchmark's tables.

/** The `p` quantile (0–1) of `values` by nearest rank; NaN when empty. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Rounds for display and JSON: `digits` decimals, NaN kept as null-ish "–" by {@link cell}. */
export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function cell(n: number | string | undefined, digits = 1): string {
  if (n === undefined) return '–';
  if (typeof n === 'string') return n;
  return Number.isFinite(n) ? String(round(n, digits)) : '–';
}

/** Prints one table: a header line, then rows, columns padded. */
export function printTable(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}
