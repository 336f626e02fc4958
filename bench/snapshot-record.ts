/**
 * Snapshots and recording, measured (issue 13): the server's CPU with and without `--record`, and `/snapshot.jpg`
 * latency (p50/p95) while the camera runs, for fresh pictures (each request after a new picture: a real decode)
 * and for the same picture asked again (the cache).
 *
 *   npm run bench:record -- [--seconds 20] [--snapshots 60] [--width 640] [--height 480] [--codec mpeg1|h264]
 *
 * The server runs in this process (test pattern, real ffmpeg encoder, always on, no viewer), so "server CPU" is
 * this process's user+system time (the encoder ffmpeg is a child: measured apart, from /proc).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../src/server/start-server';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1]! : fallback;
}

const seconds = Number(arg('seconds', '20'));
const snapshots = Number(arg('snapshots', '60'));
const width = Number(arg('width', '640'));
const height = Number(arg('height', '480'));
const codec = arg('codec', 'mpeg1');
const TICKS = 100; // USER_HZ on Linux

/** CPU seconds of the ffmpeg children of this process, from /proc (utime + stime of each). */
function childCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) !== process.pid) continue;
      total += (Number(rest[11]) + Number(rest[12])) / TICKS;
    } catch {
      // gone
    }
  }
  return total;
}

async function start(record?: string): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    headerTimeoutMs: 10_000,
    logLevel: 'warn',
    plugin: {
      source: { kind: 'test' },
      codec,
      encoder: { width, height, fps: 24 },
      alwaysOn: true,
      ...(record ? { record: { dir: record, segmentSeconds: 10 } } : {}),
    },
  });
}

async function cpuRun(label: string, record?: string): Promise<{ label: string; serverPct: number; encoderPct: number; bytes?: number }> {
  const running = await start(record);
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000)); // warm up: encoder started, first segment open
    const cpu0 = process.cpuUsage();
    const child0 = childCpuSeconds();
    const t0 = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const serverPct = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
    const encoderPct = ((childCpuSeconds() - child0) / wall) * 100;
    const bytes = record ? readdirSync(record).reduce((sum, name) => sum + statSync(join(record, name)).size, 0) : undefined;
    return { label, serverPct, encoderPct, ...(bytes !== undefined ? { bytes } : {}) };
  } finally {
    await running.stop();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latencyRun(): Promise<void> {
  const running = await start();
  try {
    const url = `http://127.0.0.1:${running.port}/snapshot.jpg`;
    await fetch(url).then((r) => r.arrayBuffer()); // camera on, ffmpeg probed
    const fresh: number[] = [];
    const again: number[] = [];
    for (let i = 0; i < snapshots; i++) {
      // A picture comes every 42 ms: waiting 100 ms makes the next request a new picture, a real decode.
      await new Promise((resolve) => setTimeout(resolve, 100));
      let t = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`snapshot ${res.status}`);
      fresh.push(performance.now() - t);
      t = performance.now();
      await (await fetch(url)).arrayBuffer();
      again.push(performance.now() - t);
    }
    const stats = running.server.plugins.pistream.snapshots.stats;
    for (const [label, list] of [
      ['fresh picture (decode)', fresh],
      ['asked again at once (cached when no newer picture came)', again],
    ] as const) {
      const sorted = [...list].sort((a, b) => a - b);
      console.log(
        `snapshot ${width}x${height} ${codec}, ${label}: p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms (n=${list.length})`,
      );
    }
    console.log(`snapshot decodes ${stats.decodes}, cached ${stats.cached}, shared ${stats.shared}`);
  } finally {
    await running.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pistream-bench-record-'));
  try {
    const without = await cpuRun('without recording');
    const withRec = await cpuRun('with --record', dir);
    for (const r of [without, withRec]) {
      console.log(
        `${r.label}: server ${r.serverPct.toFixed(2)} % CPU, encoder ffmpeg ${r.encoderPct.toFixed(1)} % (${width}x${height}@24 ${codec}, ${seconds} s)` +
          (r.bytes !== undefined ? `; ${(r.bytes / 1024 / 1024).toFixed(1)} MiB recorded` : ''),
      );
    }
    console.log(`recording costs the server ${(withRec.serverPct - without.serverPct).toFixed(2)} percentage points of one core`);
    await latencyRun();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
