// The per-viewer path alone, in one process, without sockets: how much CPU and how many heap bytes each picture
// costs per viewer on the way from the hub to `socket.send`, for the current Viewer (src/server/viewer.ts) and for
// leaner shapes of the same decisions. The "socket" is a stub whose send() only counts, so network and ws costs
// (the same for every variant, and for the baseline relay) are left out.
// Run: npm run build && npm run bench:viewer-path [-- --viewers 1000 --pictures 2000]
// (the script re-runs itself under node --expose-gc with a large young generation, so allocation is measurable)
import { DEFAULTS } from '../src/defaults';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import { Subject, type Observable } from 'rxjs';
import type { Mpeg1Picture } from '../src/codecs/mpeg1/mpeg1-picture';
import { mpegts } from '../src/formats/mpegts';
import { createHub, type Hub } from '../src/hub';
import type { Picture } from '../src/picture';
import { Viewer } from '../src/server/viewer';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '1000' },
    pictures: { type: 'string', default: '2000' },
    child: { type: 'boolean', default: false },
  },
});

if (!values.child) {
  // Compiled against dist/ like the other server-side scripts; required here only, as the child has no children.ts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { compileScript } = require('./children') as typeof import('./children');
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-semi-space-size=256', compileScript('viewer-path.ts'), ...process.argv.slice(2), '--child'],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

const cell = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

const VIEWERS = Number(values.viewers);
const PICTURES = Number(values.pictures);
const GOP = 24;

/** Enough of a ws WebSocket for Viewer: events, send, bufferedAmount, readyState. */
class StubSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  readyState = 1;
  bufferedAmount = 0;
  sent = 0;
  send(_data: Buffer, _options?: object): void {
    this.sent++;
  }
  close(): void {
    this.readyState = 3;
  }
  terminate(): void {
    this.readyState = 3;
  }
  ping(): void {}
}

function picture(seq: number): Mpeg1Picture {
  const data = Buffer.alloc(4000, seq & 0xff);
  return {
    data,
    codec: 'mpeg1',
    type: seq % GOP === 0 ? 'I' : 'P',
    keyframe: seq % GOP === 0,
    seq,
    capturedAt: Date.now(),
    width: 640,
    height: 480,
  };
}

interface Variant {
  readonly name: string;
  /** Subscribes `n` viewers to the hub's MPEG-TS pictures; returns their sockets and a teardown. */
  attach(hub: Hub, n: number): { sockets: StubSocket[]; stop: () => void };
}

const variants: Variant[] = [
  {
    name: 'Viewer (now: hub.gops → the Viewer itself → one write)',
    attach(hub, n) {
      const sockets = Array.from({ length: n }, () => new StubSocket());
      const viewers = sockets.map(
        (s) =>
          new Viewer(s as never, {
            format: mpegts,
            gops$: hub.gops(mpegts),
            highWaterMark: 512 * 1024,
            maxLagMs: DEFAULTS.maxLagMs,
            stuckMs: DEFAULTS.stuckMs,
          }),
      );
      return { sockets, stop: () => viewers.forEach((v) => v.terminate()) };
    },
  },
  {
    name: 'one subscriber per viewer, decisions inline (no operator chain)',
    attach(hub, n) {
      const pictures$ = hub.stream(mpegts);
      const sockets = Array.from({ length: n }, () => new StubSocket());
      const options = { binary: true };
      const subs = sockets.map((s) => {
        let started = false;
        let resyncing = false;
        const stats = { sent: 0, bytes: 0, dropped: 0 };
        return pictures$.subscribe((p) => {
          if (!started) {
            if (!p.keyframe) return;
            started = true;
          }
          if (s.bufferedAmount > 512 * 1024) {
            resyncing = true;
            stats.dropped++;
            return;
          }
          if (resyncing) {
            if (!p.keyframe) return void stats.dropped++;
            resyncing = false;
          }
          stats.sent++;
          stats.bytes += p.wire.length;
          s.send(p.wire, options);
        });
      });
      return { sockets, stop: () => subs.forEach((x) => x.unsubscribe()) };
    },
  },
  {
    name: "one shared subscriber looping over a Set of viewers (the relay's shape)",
    attach(hub, n) {
      const pictures$ = hub.stream(mpegts);
      const sockets = Array.from({ length: n }, () => new StubSocket());
      const options = { binary: true };
      const state = sockets.map((s) => ({ s, started: false, resyncing: false, sent: 0, bytes: 0, dropped: 0 }));
      // Joining viewers would get the cached GOP replayed once, on their own; here all join before the first picture.
      const sub = pictures$.subscribe((p) => {
        for (const v of state) {
          if (!v.started) {
            if (!p.keyframe) continue;
            v.started = true;
          }
          if (v.s.bufferedAmount > 512 * 1024) {
            v.resyncing = true;
            v.dropped++;
            continue;
          }
          if (v.resyncing) {
            if (!p.keyframe) {
              v.dropped++;
              continue;
            }
            v.resyncing = false;
          }
          v.sent++;
          v.bytes += p.wire.length;
          v.s.send(p.wire, options);
        }
      });
      return { sockets, stop: () => sub.unsubscribe() };
    },
  },
];

const gc = (globalThis as { gc?: () => void }).gc!;
const pictures = Array.from({ length: PICTURES + GOP }, (_, i) => picture(i));

function run(variant: Variant, n: number): { usPerPicture: number; bytesPerPicture: number; sent: number } {
  const frames$ = new Subject<Picture>();
  const hub = createHub({
    source: frames$ as unknown as Observable<never>,
    encoder: { width: 640, height: 480, fps: 24 },
    encode: (source) => source as unknown as Observable<Picture>,
    graceMs: 0,
    watchdogMs: 1e9,
  });
  // The bytes /stream sends: MPEG-TS, muxed once per picture in the hub for all viewers (as the server does).
  const { sockets, stop } = variant.attach(hub, n);
  // Warm-up: one GOP (JIT, first-keyframe paths).
  for (let i = 0; i < GOP; i++) frames$.next(pictures[i] as never);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  for (let i = GOP; i < GOP + PICTURES; i++) frames$.next(pictures[i] as never);
  const cpu = process.cpuUsage(cpu0);
  const heap = process.memoryUsage().heapUsed - heap0;
  const sent = sockets.reduce((a, s) => a + s.sent, 0);
  stop();
  hub.close();
  return { usPerPicture: (cpu.user + cpu.system) / (PICTURES * n), bytesPerPicture: heap / (PICTURES * n), sent };
}

const rows: string[][] = [];
for (const v of variants) {
  // Twice, reporting the second (the first also warms shared code).
  run(v, VIEWERS);
  const r = run(v, VIEWERS);
  rows.push([v.name, cell(r.usPerPicture, 2), cell(r.bytesPerPicture, 0), cell(r.sent / VIEWERS, 0)]);
}
const header = ['variant', 'µs/pic/viewer', 'B/pic/viewer', 'sent/viewer'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
console.log(
  `\nPer-viewer path without sockets: ${VIEWERS} viewers × ${PICTURES} pictures (CPU µs and heap bytes allocated per picture per viewer; ` +
    'no GC ran during the measured loop)',
);
for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
