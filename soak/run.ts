// pistream soak: many viewers for many minutes against the built server; reports errors, RSS at start and end,
// the delivered rate per viewer (min / median), and encoder restarts. Not part of `npm test`.
//   npm run build && npm run soak -- --viewers 200 --minutes 10
// The server runs as `node dist/cli.js --source test …` (or bench/server.ts, the same plugin with maxViewers, when
// the CLI has no --max-viewers), the viewers in another process (soak/viewers.ts). Bounded in time: everything is
// ended at the end, on error, on Ctrl-C, and at a hard deadline.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ROOT,
  compileScript,
  cpuSeconds,
  freePort,
  killAll,
  killAllNow,
  rssMiB,
  spawnTracked,
  stderrTail,
  stopChild,
} from '../bench/children';
import { median } from '../bench/stats';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '200' },
    minutes: { type: 'string', default: '10' },
    width: { type: 'string', default: '640' },
    height: { type: 'string', default: '480' },
    fps: { type: 'string', default: '24' },
  },
});
const VIEWERS = Number(values.viewers);
const SECONDS = Math.round(Number(values.minutes) * 60);
const FPS = Number(values.fps);
const SAMPLE_MS = 10_000;
if (!(VIEWERS >= 1 && SECONDS >= 10)) {
  console.error('usage: npm run soak -- --viewers N (≥ 1) --minutes M (≥ 1/6)');
  process.exit(2);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
const log = (line: string): void => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Polls `url` until it answers (any status), or throws after `deadlineMs`. */
async function answers(url: string, server: ChildProcess, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`server exited (${server.exitCode}): ${stderrTail(server)}`);
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      if (Date.now() > until) throw new Error(`no answer from ${url} after ${deadlineMs} ms: ${stderrTail(server)}`);
      await sleep(100);
    }
  }
}

/** The samples of one metric from /metrics, as `labels → value` ('' when unlabelled). */
async function metrics(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out.set(m[1]! + (m[2] ?? ''), Number(m[3]));
  }
  return out;
}

/** The server: the CLI when it can raise the viewer cap, else bench/server.ts (the plugin with maxViewers). */
function startServerChild(port: number): { child: ChildProcess; how: string } {
  const cli = join(ROOT, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error('dist/cli.js missing: run `npm run build` first');
  const help = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  const cap = String(VIEWERS + 10);
  const stream = ['--width', String(values.width), '--height', String(values.height), '--fps', String(FPS)];
  if (help.includes('--max-viewers')) {
    // All viewers come from one address, faster than a per-address upgrade limit allows: lift it when there is one.
    const unlimited = [
      ...(help.includes('--upgrade-rate') ? ['--upgrade-rate', '0'] : []),
      ...(help.includes('--max-viewers-per-address') ? ['--max-viewers-per-address', '0'] : []),
    ];
    const args = [
      cli,
      '--source',
      'test',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--max-viewers',
      cap,
      '--log-level',
      'warn',
      ...unlimited,
      ...stream,
    ];
    return { child: spawnTracked(process.execPath, args), how: `node dist/cli.js --source test --max-viewers ${cap}` };
  }
  const args = [compileScript('server.ts'), '--port', String(port), '--max-viewers', cap, ...stream];
  return { child: spawnTracked(process.execPath, args), how: `bench/server.ts (the plugin, maxViewers ${cap})` };
}

interface ViewerResult {
  seconds: number;
  opened: number;
  refused: number;
  live: number;
  closeCodes: Record<string, number>;
  socketErrors: number;
  pictureRates: number[];
  byteRates: number[];
}

async function main(): Promise<void> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  const { child: server, how } = startServerChild(port);
  // Warnings and errors the server logged (restarts, refused viewers…), counted as they come.
  const serverLines: string[] = [];
  server.stdout!.on('data', (d: Buffer) =>
    serverLines.push(
      ...d
        .toString()
        .split('\n')
        .filter((l) => l.trim() !== ''),
    ),
  );
  await answers(`${base}healthz`, server);
  const pid = server.pid!;
  const rssStart = rssMiB(pid);
  log(`server ${how} on ${base} (pid ${pid}), RSS ${round(rssStart)} MiB; opening ${VIEWERS} viewers for ${SECONDS} s`);

  const viewers = spawnTracked(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      join(ROOT, 'soak', 'viewers.ts'),
      '--url',
      `ws://127.0.0.1:${port}/stream`,
      '--count',
      String(VIEWERS),
      '--seconds',
      String(SECONDS),
    ],
    true,
  );
  viewers.stdout!.resume();
  let connectedAt = 0;
  let cpuAtConnect = 0;
  let rssConnected = 0;
  const rssSamples: number[] = [];
  const result = await new Promise<ViewerResult>((resolve, reject) => {
    let sampler: NodeJS.Timeout | undefined;
    viewers.on('message', (msg: { type: string } & Record<string, unknown>) => {
      if (msg.type === 'connected') {
        connectedAt = Date.now();
        cpuAtConnect = cpuSeconds(pid);
        rssConnected = rssMiB(pid);
        log(`${String(msg.opened)} viewers open (${String(msg.refused)} refused), server RSS ${round(rssConnected)} MiB`);
        sampler = setInterval(() => {
          void metrics(base)
            .then((m) => {
              const rss = rssMiB(pid);
              rssSamples.push(rss);
              log(
                `RSS ${round(rss)} MiB, encoder ${round(m.get('pistream_encoder_fps') ?? NaN)} fps, ` +
                  `viewers ${m.get('pistream_viewers')}, restarts ${m.get('pistream_encoder_restarts_total')}`,
              );
            })
            .catch(() => undefined);
        }, SAMPLE_MS);
      } else if (msg.type === 'result') {
        clearInterval(sampler);
        resolve(msg as unknown as ViewerResult);
      }
    });
    viewers.once('exit', (code) => {
      clearInterval(sampler);
      reject(new Error(`viewers exited (${code}) before their result: ${stderrTail(viewers)}`));
    });
  });
  const cpuPercent = ((cpuSeconds(pid) - cpuAtConnect) / ((Date.now() - connectedAt) / 1000)) * 100;
  const m = await metrics(base);
  const rssEnd = rssMiB(pid);
  await stopChild(viewers);
  await stopChild(server);
  const serverExit = server.exitCode ?? server.signalCode;

  const pictureRates = [...result.pictureRates].sort((a, b) => a - b);
  const kbps = [...result.byteRates].sort((a, b) => a - b).map((b) => (b * 8) / 1000);
  const unexpectedCloses = Object.values(result.closeCodes).reduce((a, b) => a + b, 0);
  const errorLines = serverLines.filter((l) => /"level":(50|60)/.test(l));
  const summary = {
    startedAt: new Date(connectedAt).toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    server: how,
    viewers: VIEWERS,
    seconds: round(result.seconds),
    stream: { width: Number(values.width), height: Number(values.height), fps: FPS },
    errors: {
      refused: result.refused,
      closedEarly: unexpectedCloses,
      closeCodes: result.closeCodes,
      socketErrors: result.socketErrors,
      serverErrorLines: errorLines.length,
    },
    rssMiB: { start: round(rssStart), connected: round(rssConnected), end: round(rssEnd), max: round(Math.max(rssEnd, ...rssSamples)) },
    serverCpuPercentOfOneCore: round(cpuPercent),
    picturesPerSecondPerViewer: {
      min: round(pictureRates[0] ?? 0, 2),
      median: round(median(pictureRates), 2),
      max: round(pictureRates.at(-1) ?? 0, 2),
    },
    kbitPerSecondPerViewer: { min: round(kbps[0] ?? 0), median: round(median(kbps)) },
    restarts: m.get('pistream_encoder_restarts_total') ?? NaN,
    pictures: m.get('pistream_pictures_total') ?? NaN,
    framesDroppedBeforeEncoder: m.get('pistream_frames_dropped_total') ?? NaN,
    droppedForViewers: Object.fromEntries(
      [...m].filter(([k]) => k.startsWith('pistream_dropped_pictures_total')).map(([k, v]) => [/reason="(\w+)"/.exec(k)?.[1] ?? k, v]),
    ),
    serverExit,
  };
  console.log(JSON.stringify(summary, null, 2));
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `soak-${summary.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  log(`written to ${file}`);
  const ok = result.refused === 0 && unexpectedCloses === 0 && result.socketErrors === 0 && errorLines.length === 0;
  if (!ok) process.exitCode = 1;
}

// Bounded: the run, plus time to connect and shut down; then everything is killed whatever state it is in.
const deadline = setTimeout(
  () => {
    console.error('soak: hard deadline passed; killing everything');
    killAllNow();
    process.exit(1);
  },
  (SECONDS + 120) * 1000,
);
deadline.unref();
process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void killAll().then(() => process.exit(130));
  });
}
main()
  .catch((err: unknown) => {
    console.error(`soak: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => killAll());
