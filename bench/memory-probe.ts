// Preloaded into a server under test (`node -r memory-probe.js …`, PISTREAM_MEMORY_PROBE=<file>): every 200 ms it
// appends one JSON line to the file with the process's memory as Node and V8 see it (RSS, V8's heap committed and
// used per space, external and ArrayBuffer memory), so bench/heap-per-viewer.ts can say which part of RSS grew.
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.PISTREAM_MEMORY_PROBE;
if (file) {
  setInterval(() => {
    const spaces: Record<string, [number, number]> = {};
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = [s.space_size, s.space_used_size];
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), ...process.memoryUsage(), spaces })}\n`);
  }, 200).unref();
}
