// Part 3 of the benchmark (bench/README.md): fan-out. What one more WebSocket viewer costs the server in CPU and in
// memory, pistream against the plain `ws` relay (bench/baseline-relay.ts), viewers from a client process
// (bench/clients.ts). Called from bench/run.ts.
//
// Every round of every viewer count starts fresh servers (all contenders up at once, so each encodes under the same
// load): RSS is what a process took and keeps, so a server that had served 1000 viewers would show no growth for 500.
// Each contender then serves 1 viewer for a while (unmeasured: the process settles), 1 viewer again (its reference:
// CPU@1 and the RSS the run starts from), then n viewers.
//   CPU per viewer = (CPU@n − CPU@1) / (n − 1), % of one core (also as µs of server CPU per picture per viewer);
//   RSS per viewer = (max RSS over the n-viewer run − RSS at the end of the 1-viewer run) / (n − 1), KiB.
// Medians over rounds; ratios are each contender ÷ the relay.
import { cell, median, printTable, round } from './stats';
import { runClients, scrapeMetrics, sleep, type ClientsResult, type RunningChild, type StreamSpec } from './servers';

/** A server under test: the relay is the one every ratio divides by. */
export interface Contender {
  readonly name: string;
  readonly relay: boolean;
  start(): Promise<RunningChild>;
}

export interface FanoutOptions {
  readonly spec: StreamSpec;
  readonly contenders: readonly Contender[];
  /** Viewer counts above 1; each has its own 1-viewer reference. */
  readonly counts: readonly number[];
  readonly rounds: number;
  /** Seconds of the n-viewer window and of the 1-viewer reference before it. */
  readonly seconds: number;
  readonly referenceSeconds: number;
  /** Seconds between the clients' connecting and the start of the window (the per-viewer path is compiled then). */
  readonly settle: number;
  /**
   * Seconds each fresh server serves 1 viewer, unmeasured, before its reference: the process settles to its 1-viewer
   * steady state. Without it the start RSS misses what V8 grows by itself with one viewer: pistream's young
   * generation grew from 16 to 32 MiB about 12 s after start, and RSS rose by 14 MiB over the next 12 s as its pages
   * were first written (bench:heap's probe), which a 15 s reference straddles, and which is no viewer's cost.
   */
  readonly warmSeconds: number;
  /** Stops a server `start` gave (run.ts tracks them for Ctrl-C). */
  stop(child: RunningChild): Promise<void>;
}

/** The goals of issue 27, contender ÷ relay at 500 and 1000 viewers. */
export const FANOUT_GOALS = { rssRatio: 1.5, cpuRatio: 0.8 } as const;

type Run = ClientsResult & { dropped: number };

interface Pair {
  readonly one: Run;
  readonly many: Run;
}

/** One contender at one count: per round its 1-viewer reference and its n-viewer run. */
interface Cell {
  readonly name: string;
  readonly viewers: number;
  readonly pairs: Pair[];
}

/** Pictures pistream did not send (every reason), from its /metrics: 0 means every viewer got every picture. */
const droppedTotal = (m: Record<string, number>): number =>
  Object.entries(m)
    .filter(([k]) => k.startsWith('pistream_dropped_pictures_total'))
    .reduce((sum, [, v]) => sum + v, 0);

async function measure(child: RunningChild, count: number, seconds: number, settle: number): Promise<Run> {
  const before = await scrapeMetrics(child);
  const r = await runClients(child, { count, seconds, settle, delays: false });
  const dropped = child.impl === 'pistream' ? droppedTotal(await scrapeMetrics(child)) - droppedTotal(before) : NaN;
  return { ...r, delays: [], throttledDelays: [], dropped };
}

const extra = (p: Pair): number => p.many.connected - p.one.connected;
/** % of one core per extra viewer, in one round. */
const cpuPerViewer = (p: Pair): number => (p.many.cpuPct - p.one.cpuPct) / extra(p);
/** KiB per extra viewer, in one round: the most RSS the n-viewer run reached over where the 1-viewer run ended. */
const kibPerViewer = (p: Pair): number => ((p.many.peakRssMiB - p.one.rssMiB) * 1024) / extra(p);

/** The per-round figure's median, and its value in each round. */
function figure(c: Cell, f: (p: Pair) => number): { median: number; rounds: number[] } {
  const rounds = c.pairs.map(f);
  return { median: median(rounds), rounds };
}

/**
 * Runs the fan-out: for each count and round, fresh servers, each contender's reference and run in an order that
 * rotates with the round. Prints the table and the goals; returns what goes into the bench's JSON.
 * @example results.fanout = await runFanout({ spec: SD, contenders, counts: [500, 1000], rounds: 3, … });
 */
export async function runFanout(o: FanoutOptions): Promise<Record<string, unknown>> {
  const cells = new Map<string, Cell>();
  for (const n of o.counts) {
    for (let r = 0; r < o.rounds; r++) {
      const children = await Promise.all(o.contenders.map((c) => c.start()));
      try {
        await sleep(3000);
        for (let k = 0; k < o.contenders.length; k++) {
          const i = (k + r) % o.contenders.length;
          await runClients(children[i]!, { count: 1, seconds: o.warmSeconds, settle: 0, delays: false });
          const one = await measure(children[i]!, 1, o.referenceSeconds, o.settle);
          const many = await measure(children[i]!, n, o.seconds, o.settle);
          const key = `${o.contenders[i]!.name}@${n}`;
          const cellOf = cells.get(key) ?? { name: o.contenders[i]!.name, viewers: n, pairs: [] };
          cellOf.pairs.push({ one, many });
          cells.set(key, cellOf);
        }
      } finally {
        for (const child of children) await o.stop(child);
      }
    }
  }
  return report(o, cells);
}

function report(o: FanoutOptions, cells: Map<string, Cell>): Record<string, unknown> {
  const relay = o.contenders.find((c) => c.relay)!;
  const toUs = (pct: number): number => ((pct / 100) * 1e6) / o.spec.fps;
  const rows: string[][] = [];
  const summary: Record<string, unknown>[] = [];
  const goals: string[] = [];
  for (const n of o.counts) {
    const base = cells.get(`${relay.name}@${n}`)!;
    const baseCpu = figure(base, cpuPerViewer);
    const baseKib = figure(base, kibPerViewer);
    for (const contender of o.contenders) {
      const c = cells.get(`${contender.name}@${n}`)!;
      const cpu = figure(c, cpuPerViewer);
      const kib = figure(c, kibPerViewer);
      const many = (f: (r: Run) => number): number => median(c.pairs.map((p) => f(p.many)));
      const us = (f: (r: Run) => number): number => toUs(median(c.pairs.map((p) => (f(p.many) - f(p.one)) / extra(p))));
      const cpuRatio = cpu.median / baseCpu.median;
      const rssRatio = kib.median / baseKib.median;
      summary.push({
        name: contender.name,
        viewers: n,
        connected: many((r) => r.connected),
        cpuPctAt1: median(c.pairs.map((p) => p.one.cpuPct)),
        cpuPct: many((r) => r.cpuPct),
        cpuPctPerViewer: cpu.median,
        cpuPctPerViewerByRound: cpu.rounds.map((x) => round(x, 4)),
        usPerPicturePerViewer: toUs(cpu.median),
        userUs: us((r) => r.cpu.user),
        sysUs: us((r) => r.cpu.sys),
        helpersPct: many((r) => r.cpu.helpers),
        rssMiBAt1: median(c.pairs.map((p) => p.one.rssMiB)),
        peakRssMiB: many((r) => r.peakRssMiB),
        kibPerViewer: kib.median,
        kibPerViewerByRound: kib.rounds.map((x) => round(x, 1)),
        cpuRatio: contender.relay ? 1 : cpuRatio,
        rssRatio: contender.relay ? 1 : rssRatio,
        droppedByRound: c.pairs.map((p) => p.many.dropped),
        closeCodes: [...new Set(c.pairs.flatMap((p) => p.many.closeCodes))],
      });
      rows.push([
        contender.name,
        cell(n, 0),
        cell(
          many((r) => r.connected),
          0,
        ),
        cell(
          many((r) => r.minKbps),
          0,
        ),
        cell(
          many((r) => r.medianKbps),
          0,
        ),
        `${cell(median(c.pairs.map((p) => p.one.cpuPct)))} → ${cell(many((r) => r.cpuPct))}`,
        cell(cpu.median, 4),
        cell(toUs(cpu.median), 1),
        cpu.rounds.map((x) => cell(toUs(x), 1)).join('/'),
        `${cell(
          us((r) => r.cpu.user),
          1,
        )} / ${cell(
          us((r) => r.cpu.sys),
          1,
        )}`,
        cell(
          many((r) => r.cpu.helpers),
          1,
        ),
        `${cell(median(c.pairs.map((p) => p.one.rssMiB)), 0)} → ${cell(
          many((r) => r.peakRssMiB),
          0,
        )}`,
        cell(kib.median, 1),
        kib.rounds.map((x) => cell(x, 0)).join('/'),
        contender.relay ? '' : `${cell(cpuRatio, 2)} / ${cell(rssRatio, 2)}`,
        contender.relay ? '–' : String(c.pairs.reduce((sum, p) => sum + p.many.dropped, 0)),
        [...new Set(c.pairs.flatMap((p) => p.many.closeCodes))].join(','),
      ]);
      if (!contender.relay && n >= 500) {
        const ok = (ratio: number, goal: number): string =>
          `${cell(ratio, 2)} ${ratio <= goal ? '≤' : '>'} ${goal} ${ratio <= goal ? 'met' : 'MISSED'}`;
        goals.push(
          `   ${contender.name} at ${n}: CPU/viewer ${ok(cpuRatio, FANOUT_GOALS.cpuRatio)}; RSS/viewer ${ok(rssRatio, FANOUT_GOALS.rssRatio)}`,
        );
      }
    }
  }
  printTable(
    `3. Fan-out, ws viewers on loopback from a client process, fresh servers per count and round, ${o.rounds} round(s), ` +
      `${o.seconds} s at n after ${o.referenceSeconds} s at 1 viewer (after ${o.warmSeconds} s unmeasured); medians over rounds. CPU % of one core (1 → n viewers); ` +
      'per viewer = (CPU@n − CPU@1)/(n − 1), also as µs of server CPU per picture per viewer (each round, user / sys, ' +
      'helpers % = threads other than the main one); RSS MiB at the end of the 1-viewer run → the most over the n-viewer ' +
      `run, KiB/viewer = that growth/(n − 1); ratios ÷ ${relay.name}`,
    [
      'server',
      'viewers',
      'connected',
      'min kb/s',
      'median kb/s',
      'CPU %',
      '%/viewer',
      'µs/pic/viewer',
      'µs per round',
      'µs user / sys',
      'helpers %',
      'RSS MiB',
      'KiB/viewer',
      'KiB per round',
      'ratio CPU / RSS',
      'dropped',
      'closed with',
    ],
    rows,
  );
  console.log(
    `   goals (issue 27): CPU/viewer ≤ ${FANOUT_GOALS.cpuRatio}× and RSS/viewer ≤ ${FANOUT_GOALS.rssRatio}× the relay's, at 500 and 1000`,
  );
  for (const line of goals) console.log(line);
  return {
    seconds: o.seconds,
    referenceSeconds: o.referenceSeconds,
    warmSeconds: o.warmSeconds,
    rounds: o.rounds,
    counts: o.counts,
    contenders: o.contenders.map((c) => c.name),
    goals: FANOUT_GOALS,
    summary,
    runs: Object.fromEntries([...cells].map(([key, c]) => [key, c.pairs])),
  };
}
