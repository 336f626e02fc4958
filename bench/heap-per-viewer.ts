// Where a viewer's memory goes: each server (pistream, the baseline relay) runs with `--heapsnapshot-signal`; viewers
// connect from a client process (bench/clients.ts), first 1, then N (default 500); at each count the server's RSS
// (and its parts by kind of mapping, from /proc/PID/smaps) is read and a heap snapshot taken. The two snapshots are compared by
// constructor (V8 node type and name): what grew, in bytes and objects per extra viewer. A snapshot holds live objects
// only (V8 collects before writing it), so RSS growth beyond the live heap's is the collector's headroom, freed heap
// pages not yet returned, or memory outside the JS heap (sockets' native state, malloc).
// Run: npm run build && npm run bench:heap [-- --viewers 500 --impl pistream,baseline --top 30 --dist other/dist --keep]
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, compileScript, rssMiB, runMain, spawnTracked, stderrTail, stopChild } from './children';
import { BENCH_MAX_VIEWERS, sleep, startPistream, startServer, type Impl, type RunningChild } from './servers';
import { cell, printTable, round } from './stats';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '500' },
    impl: { type: 'string', default: 'pistream,baseline' },
    top: { type: 'string', default: '30' },
    settle: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
    /** pistream from another build's dist/ (e.g. a copy of main's), to compare. */
    dist: { type: 'string' },
  },
});
const VIEWERS = Number(values.viewers);
const IMPLS = values.impl!.split(',') as Impl[];
const TOP = Number(values.top);
const SETTLE_S = Number(values.settle);
const SD = { width: 640, height: 480, fps: 24, bitrateKbps: 800 };
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const DIR = join(ROOT, 'bench', 'results', `heap-${stamp}`);

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Per group (V8 node type and name): how many and their self size in bytes. */
type Census = Map<string, { count: number; bytes: number }>;

/** A snapshot's live objects grouped by type and constructor name (strings and code by type only). */
function census(file: string): Census {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out: Census = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const named = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden' || type === 'array';
    const key = named ? `${type}: ${snap.strings[snap.nodes[i + nameAt]!]!.slice(0, 60)}` : `(${type})`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt]!;
    out.set(key, entry);
  }
  return out;
}

const total = (c: Census): number => [...c.values()].reduce((sum, e) => sum + e.bytes, 0);

/**
 * Resident KiB of the process by kind of mapping, from /proc/PID/smaps: `v8 pages` (anonymous 256 KiB mappings: V8's
 * heap pages), `malloc` (`[heap]`, the main arena: Node's and libuv's native objects, ArrayBuffer stores), `anon
 * other` (thread arenas, large allocations), `files`, and `Rss` in all.
 */
function smaps(pid: number): Record<string, number> {
  const out: Record<string, number> = { Rss: 0, 'v8 pages': 0, malloc: 0, 'anon other': 0, files: 0 };
  let kind = 'files';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const kib = (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024;
      const name = head[3]!;
      kind = name === '[heap]' ? 'malloc' : name === '' ? (kib === 256 ? 'v8 pages' : 'anon other') : 'files';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      out[kind]! += Number(rss[1]);
      out.Rss! += Number(rss[1]);
    }
  }
  return out;
}

/** Sends the server SIGUSR2 and waits for the snapshot file it writes into `dir` to be complete. */
async function snapshot(child: RunningChild, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(child.pid, 'SIGUSR2');
  for (let waited = 0; waited < 120_000; waited += 250) {
    await sleep(250);
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const path = join(dir, file);
    const size = statSync(path).size;
    await sleep(1000);
    // Written in one go by the main thread: complete once it stops growing and ends the JSON.
    if (size > 0 && statSync(path).size === size && readFileSync(path, 'utf8').trimEnd().endsWith('}')) return path;
  }
  throw new Error(`no heap snapshot from ${child.impl} (pid ${child.pid})`);
}

/** `count` viewers on the server's /stream from a client process, held open until `release` is called. */
async function hold(child: RunningChild, count: number): Promise<() => Promise<void>> {
  const clients = spawnTracked(
    process.execPath,
    [compileScript('clients.ts'), '--url', `${child.url.replace(/^http/, 'ws')}stream`, '--count', String(count), '--seconds', '3600'],
    true,
  );
  clients.stdout?.resume();
  await new Promise<void>((resolve, reject) => {
    clients.on('message', (msg: { type: string }) => msg.type === 'measuring' && resolve());
    clients.once('exit', (code) => reject(new Error(`clients exited (${code}): ${stderrTail(clients)}`)));
  });
  return () => stopChild(clients);
}

/** One line of bench/memory-probe.ts: bytes as Node and V8 report them (`spaces`: committed and used per space). */
interface Probe {
  t: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, [number, number]>;
}

function probes(file: string, since: number): Probe[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Probe)
    .filter((p) => p.t >= since);
}

interface Point {
  viewers: number;
  rssMiB: number;
  /** The probe's last reading before the snapshot, and the highest RSS it saw from the clients' start. */
  probe: Probe;
  peakRssMiB: number;
  smaps: Record<string, number>;
  heapBytes: number;
  census: Census;
}

/** RSS and the probe at `count` viewers, then (with `dir`) a heap snapshot's census. */
async function measureAt(child: RunningChild, count: number, probeFile: string, dir?: string): Promise<Point> {
  const since = Date.now();
  const release = await hold(child, count);
  await sleep(SETTLE_S * 1000);
  const rss = rssMiB(child.pid);
  const seen = probes(probeFile, since);
  const parts = smaps(child.pid);
  const file = dir === undefined ? undefined : await snapshot(child, dir);
  await release();
  const c: Census = file === undefined ? new Map<string, { count: number; bytes: number }>() : census(file);
  if (file !== undefined && !values.keep) rmSync(file);
  const peakRssMiB = Math.max(...seen.map((p) => p.rss)) / 2 ** 20;
  return { viewers: count, rssMiB: rss, probe: seen[seen.length - 1]!, peakRssMiB, smaps: parts, heapBytes: total(c), census: c };
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const report: Record<string, unknown> = { viewers: VIEWERS, settleSeconds: SETTLE_S };
  for (const impl of IMPLS) {
    const dir = join(DIR, impl);
    mkdirSync(dir, { recursive: true });
    const probeFile = join(dir, 'memory.jsonl');
    process.env.PISTREAM_MEMORY_PROBE = probeFile;
    const probe = compileScript('memory-probe.ts');
    const nodeArgs = ['-r', probe, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
    const child =
      impl === 'pistream' && values.dist
        ? await startPistream(SD, nodeArgs, 'plugin', BENCH_MAX_VIEWERS, resolve(values.dist))
        : await startServer(impl, SD, nodeArgs);
    try {
      await sleep(2000);
      // RSS first at 1, then at N, with no snapshot before them: writing a snapshot takes native memory that the
      // process keeps. The census at 1 comes last, after N's.
      const one = await measureAt(child, 1, probeFile);
      const many = await measureAt(child, VIEWERS, probeFile, dir);
      one.census = (await measureAt(child, 1, probeFile, dir)).census;
      one.heapBytes = total(one.census);
      const extra = many.viewers - one.viewers;
      const perViewer = (a: number, b: number): number => (a - b) / extra;
      const rows = [...new Set([...one.census.keys(), ...many.census.keys()])]
        .map((key) => {
          const a = one.census.get(key) ?? { count: 0, bytes: 0 };
          const b = many.census.get(key) ?? { count: 0, bytes: 0 };
          return { key, bytes: perViewer(b.bytes, a.bytes), count: perViewer(b.count, a.count), at1: a.bytes, atN: b.bytes };
        })
        .sort((x, y) => y.bytes - x.bytes);
      const smapsGrowth = Object.fromEntries(Object.keys(many.smaps).map((k) => [k, round(perViewer(many.smaps[k]!, one.smaps[k]!), 2)]));
      const summary = {
        rssMiB: [round(one.rssMiB, 1), round(many.rssMiB, 1)],
        rssKiBPerViewer: round(perViewer(many.rssMiB, one.rssMiB) * 1024, 2),
        liveHeapMiB: [round(one.heapBytes / 2 ** 20, 2), round(many.heapBytes / 2 ** 20, 2)],
        liveHeapKiBPerViewer: round(perViewer(many.heapBytes, one.heapBytes) / 1024, 2),
        smapsKiBPerViewer: smapsGrowth,
        peakRssKiBPerViewer: round(perViewer(many.peakRssMiB, one.rssMiB) * 1024, 2),
        // What Node and V8 said just before each snapshot, KiB per extra viewer: heap committed and used, external.
        probeKiBPerViewer: Object.fromEntries(
          (['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const).map((k) => [
            k,
            round(perViewer(many.probe[k], one.probe[k]) / 1024, 2),
          ]),
        ),
        spacesKiBPerViewer: Object.fromEntries(
          Object.keys(many.probe.spaces)
            .filter((k) => many.probe.spaces[k]![0] > 0)
            .map((k) => [k, [0, 1].map((j) => round(perViewer(many.probe.spaces[k]![j]!, one.probe.spaces[k]?.[j] ?? 0) / 1024, 2))]),
        ),
      };
      report[impl] = { ...summary, top: rows.slice(0, TOP) };
      console.log(`\n${impl}: ${JSON.stringify(summary)}`);
      printTable(
        `${impl}: live heap growth by constructor, 1 → ${VIEWERS} viewers (per extra viewer)`,
        ['type: constructor', 'bytes/viewer', 'objects/viewer', `KiB @1`, `KiB @${VIEWERS}`],
        rows.slice(0, TOP).map((r) => [r.key, cell(r.bytes, 1), cell(r.count, 2), cell(r.at1 / 1024, 0), cell(r.atN / 1024, 0)]),
      );
    } finally {
      await child.stop();
    }
  }
  writeFileSync(join(DIR, 'heap.json'), JSON.stringify(report, null, 2));
  console.log(`\nwritten ${join(DIR, 'heap.json')}`);
}

runMain(main);
