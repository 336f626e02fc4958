import { Counter, type LabelValues, type Registry } from 'prom-client';

/** One value of a running total: its labels (`{}` when unlabelled) and the total now. */
export type TotalSample = readonly [labels: LabelValues<string>, total: number];

/**
 * A Prometheus counter read from running totals at scrape time (nothing on the hot path): each scrape adds what each
 * labelled total gained since the previous scrape (never less than 0), so the exported counter follows the source
 * counter without being told of each change.
 *
 * @example
 * addRunningTotal(registry, { name: 'pistream_pictures_total', help: 'Pictures produced' }, () => [[{}, hub.stats.pictures]]);
 */
export function addRunningTotal(
  registry: Registry,
  counter: { readonly name: string; readonly help: string; readonly labelNames?: readonly string[] },
  read: () => Iterable<TotalSample>,
): void {
  const seen = new Map<string, number>();
  const metric: Counter = new Counter({
    name: counter.name,
    help: counter.help,
    labelNames: counter.labelNames ?? [],
    registers: [registry],
    collect() {
      for (const [labels, total] of read()) {
        const key = JSON.stringify(labels);
        // inc(0) too, so every label value is exported from the first scrape.
        metric.inc(labels, Math.max(0, total - (seen.get(key) ?? 0)));
        seen.set(key, total);
      }
    },
  });
}
