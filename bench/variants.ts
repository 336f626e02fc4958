// Where pistream's extra per-viewer CPU goes, measured on real sockets: the same fan-out (1 and N viewers, CPU per
// extra viewer) against pistream as shipped, two experimental per-viewer paths on the same hub and encoder
// (bench/server.ts --variant inline|loop), and the baseline relay; rounds alternate the order, medians reported.
// Run: npm run build && npm run bench:variants [-- --viewers 500 --seconds 20 --rounds 2]
import { parseArgs } from 'node:util';
import { runMain } from './children';
import { BENCH_MAX_VIEWERS, runClients, sleep, startBaseline, startPistream, type RunningChild } from './servers';
import { cell, median, printTable } from './stats';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
  },
});
const N = Number(values.viewers),
  SECONDS = Number(values.seconds),
  ROUNDS = Number(values.rounds);
const SD = { width: 640, height: 480, fps: 24, bitrateKbps: 800 };
/** pistream's viewer cap: above N, or the plugin would refuse some of the fan-out. */
const MAX_VIEWERS = Math.max(BENCH_MAX_VIEWERS, N + 10);
const NAMES = ['pistream (Viewer)', 'inline subscriber', 'shared loop', 'baseline relay'] as const;

async function main(): Promise<void> {
  // All four up at once, each encoding: the same background load for every measurement.
  const servers: RunningChild[] = [
    await startPistream(SD, [], 'plugin', MAX_VIEWERS),
    await startPistream(SD, [], 'inline', MAX_VIEWERS),
    await startPistream(SD, [], 'loop', MAX_VIEWERS),
    await startBaseline(SD),
  ];
  await sleep(2000);
  const cpu: number[][][] = NAMES.map(() => [[], []]);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1, 2, 3] : [3, 2, 1, 0];
    for (const [k, n] of [1, N].entries()) {
      for (const i of order) {
        const r = await runClients(servers[i]!, { count: n, seconds: SECONDS, settle: 2, delays: false });
        if (r.connected !== n) throw new Error(`${NAMES[i]}: ${r.connected} of ${n} viewers connected`);
        cpu[i]![k]!.push(r.cpuPct);
      }
    }
  }
  const perViewer = cpu.map(([one, many]) => (median(many!) - median(one!)) / (N - 1));
  const us = (pv: number): number => ((pv / 100) * 1e6) / SD.fps;
  printTable(
    `Per-viewer CPU on real sockets: 1 vs ${N} viewers, ${SECONDS} s, ${ROUNDS} alternating rounds, medians ` +
      '(CPU % of a core; µs of server CPU per picture per extra viewer)',
    ['server', 'CPU@1', `CPU@${N}`, 'rounds', 'µs/pic/viewer', '× baseline'],
    NAMES.map((name, i) => [
      name,
      cell(median(cpu[i]![0]!)),
      cell(median(cpu[i]![1]!)),
      cpu[i]![1]!.map((c) => cell(c)).join('/'),
      cell(us(perViewer[i]!), 1),
      cell(perViewer[i]! / perViewer[3]!, 2),
    ]),
  );
  await Promise.all(servers.map((s) => s.stop()));
}

runMain(main);
