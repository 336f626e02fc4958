// Where the server's per-viewer CPU goes: each server (pistream, baseline) runs under `node --cpu-prof` twice, once
// with 1 viewer and once with N (default 100) for the same time; the difference in each function's self time is
// what the extra N − 1 viewers cost. Prints the top functions and a summary by package; writes
// bench/results/profile-<timestamp>.json (and keeps the .cpuprofile files next to it, for Chrome DevTools).
// Run: npm run build && npm run bench:profile [-- --viewers 100 --seconds 20]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, runMain } from './children';
import { BENCH_MAX_VIEWERS, runClients, sleep, startServer, type Impl } from './servers';
import { cell, printTable, round } from './stats';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    top: { type: 'string', default: '25' },
  },
});
const VIEWERS = Number(values.viewers);
const SECONDS = Number(values.seconds);
const SD = { width: 640, height: 480, fps: 24, bitrateKbps: 800 };
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const DIR = join(ROOT, 'bench', 'results', `profile-${stamp}`);

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time (ms) per function, keyed `name (file:line)`, and the profile's length in ms. */
function selfTimes(file: string): { byFunction: Map<string, number>; ms: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const keyOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    keyOf.set(node.id, where ? `${functionName || '(anonymous)'} (${where})` : functionName);
  }
  const byFunction = new Map<string, number>();
  // timeDeltas[i] is the time before sample i; attribute it to sample i's node (as DevTools does, near enough).
  for (let i = 0; i < profile.samples.length; i++) {
    const key = keyOf.get(profile.samples[i]!)!;
    byFunction.set(key, (byFunction.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return { byFunction, ms: (profile.endTime - profile.startTime) / 1000 };
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return basename(url);
}

/** The package (or bucket) a function belongs to, for the summary. */
function bucket(key: string): string {
  if (/^\((garbage collector|program|idle|root)\)/.test(key)) return key.replace(/ .*/, '');
  const m = /\(([^)]*):\d+\)$/.exec(key);
  if (!m) return '(native)';
  const where = m[1]!;
  if (where.startsWith('node:')) return 'node: ' + where.slice(5).split('/')[0];
  if (where.startsWith('dist/')) return 'pistream ' + where;
  return where.split('/')[0]!.startsWith('@') ? where.split('/').slice(0, 2).join('/') : where.split('/')[0]!;
}

async function profiled(impl: Impl, viewers: number): Promise<{ byFunction: Map<string, number>; cpuPct: number }> {
  const dir = join(DIR, `${impl}-${viewers}`);
  mkdirSync(dir, { recursive: true });
  // pistream's viewer cap above the viewers opened, or the plugin would refuse some of them.
  const server = await startServer(impl, SD, ['--cpu-prof', '--cpu-prof-dir', dir], Math.max(BENCH_MAX_VIEWERS, viewers + 10));
  let cpuPct: number;
  try {
    await sleep(1000);
    cpuPct = (await runClients(server, { count: viewers, seconds: SECONDS, settle: 2, delays: false })).cpuPct;
  } finally {
    await server.stop();
  }
  await sleep(300);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`${impl}: no .cpuprofile written in ${dir}`);
  return { byFunction: selfTimes(join(dir, file)).byFunction, cpuPct };
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = { viewers: VIEWERS, seconds: SECONDS };
  for (const impl of ['pistream', 'baseline'] as const) {
    const one = await profiled(impl, 1);
    const many = await profiled(impl, VIEWERS);
    // Both processes ran about as long (start + settle + window + stop), so plain differences compare.
    const keys = new Set([...one.byFunction.keys(), ...many.byFunction.keys()]);
    const diff = [...keys]
      .filter((k) => !k.startsWith('(idle)') && !k.startsWith('(root)'))
      .map((k) => ({ fn: k, ms: (many.byFunction.get(k) ?? 0) - (one.byFunction.get(k) ?? 0) }));
    const total = diff.reduce((n, d) => n + d.ms, 0);
    diff.sort((a, b) => b.ms - a.ms);
    const buckets = new Map<string, number>();
    for (const d of diff) buckets.set(bucket(d.fn), (buckets.get(bucket(d.fn)) ?? 0) + d.ms);
    const byBucket = [...buckets].sort((a, b) => b[1] - a[1]);
    // µs per picture per extra viewer: the extra self time over the window's pictures and the extra viewers.
    const perPicture = (ms: number): number => (ms * 1000) / (SECONDS * SD.fps * (VIEWERS - 1));
    printTable(
      `${impl}: self time that ${VIEWERS} viewers add over 1, ${SECONDS} s window (ms; µs per picture per extra viewer; % of the added total ${round(total, 0)} ms). ` +
        `CPU: ${cell(one.cpuPct)} % → ${cell(many.cpuPct)} % of a core`,
      ['function', 'ms', 'µs/pic/viewer', '%'],
      diff.slice(0, Number(values.top)).map((d) => [d.fn, cell(d.ms, 0), cell(perPicture(d.ms), 2), cell((d.ms / total) * 100)]),
    );
    printTable(
      `${impl}: the same by package`,
      ['package', 'ms', 'µs/pic/viewer', '%'],
      byBucket.slice(0, 15).map(([b, ms]) => [b, cell(ms, 0), cell(perPicture(ms), 2), cell((ms / total) * 100)]),
    );
    report[impl] = {
      cpuPct: { one: one.cpuPct, many: many.cpuPct },
      addedMs: total,
      usPerPicturePerViewer: perPicture(total),
      top: diff.slice(0, 60).map((d) => ({ fn: d.fn, ms: round(d.ms, 1) })),
      byPackage: byBucket.map(([b, ms]) => ({ package: b, ms: round(ms, 1) })),
    };
  }
  writeFileSync(join(DIR, 'summary.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`\nprofiles and summary: ${DIR}`);
}

runMain(main);
