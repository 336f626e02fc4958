// WebRTC fan-out: the server's CPU per WebRTC viewer (every viewer has its own DTLS-SRTP, so its own encryption of
// every packet) and whether N viewers all get the full picture rate. The viewers are real WebRTC receivers
// (node-datachannel peers pulling over WHEP, bench/webrtc-viewers.ts) in a child process of their own, so their
// CPU is not the server's. The server is `node dist/cli.js --codec h264` with the test pattern, 640x480@24.
// Run: npm run bench:webrtc [-- --viewers 50] [-- --seconds 20] [-- --quick]   (npm run build first)
import type { ChildProcess } from 'node:child_process';
import { startCodecServer, treeCpuMeter } from './codec-server';
import { compileScript, runMain, spawnTracked, stderrTail } from './children';
import { scrapeMetrics, sleep, type RunningChild, type StreamSpec } from './servers';
import { cell, printTable, quantile } from './stats';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const VIEWERS = Number(flag('--viewers') ?? 50);
const SECONDS = Number(flag('--seconds') ?? (quick ? 8 : 20));
/** After the viewers have joined: every one through ICE, DTLS and its first keyframe. */
const SETTLE_S = quick ? 3 : 5;
const STREAM: StreamSpec = { width: 640, height: 480, fps: 24, bitrateKbps: 500 };
/**
 * "Full rate": every viewer receives at least this share of the pictures the encoder made in the same window (a
 * loaded machine's test pattern may run below its nominal rate: that is not the viewers' loss).
 */
const FULL_RATE_SHARE = 0.95;

/** The viewer process: asked something over IPC, answers with one message. */
function ask<T>(child: ChildProcess, message: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = () => reject(new Error(`the viewer process ended: ${stderrTail(child)}`));
    child.once('exit', onExit);
    child.once('message', (answer) => {
      child.off('exit', onExit);
      resolve(answer as T);
    });
    child.send(message);
  });
}

interface Row {
  viewers: number;
  /** The server's node process (every viewer's SRTP, RTP packetization, RTCP) and its ffmpeg, % of one core. */
  serverPct: number;
  encoderPct: number;
  /** Pictures per second the encoder made over the window (pistream_pictures_total). */
  streamFps: number;
  /** Pictures per second each viewer received over the window: the lowest, the 5th percentile, the median. */
  minFps: number;
  p5Fps: number;
  p50Fps: number;
  /** Viewers under FULL_RATE_SHARE of the stream's rate. */
  belowFullRate: number;
  /** Viewers that got no picture in the window, as they stand (connection/ICE/track), from the viewers' side. */
  silent: string[];
  /** The server's count of viewers without pictures (pistream_webrtc_viewers_without_pictures) at the window's end. */
  serverWithout: number;
  failed: string[];
}

/** The server's CPU and every viewer's received rate over SECONDS, with `total` viewers joined. */
async function measure(server: RunningChild, viewers: ChildProcess | undefined, total: number, failed: string[]): Promise<Row> {
  if (viewers) await ask(viewers, { window: 'start' });
  const pictures0 = (await scrapeMetrics(server)).pistream_pictures_total ?? NaN;
  const meter = treeCpuMeter(server.pid);
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  const cpu = meter.stop();
  const after = await scrapeMetrics(server);
  const streamFps = ((after.pistream_pictures_total ?? NaN) - pictures0) / ((Date.now() - t0) / 1000);
  const { counts, seconds, silent } = viewers
    ? await ask<{ counts: number[]; seconds: number; silent: string[] }>(viewers, { window: 'stop' })
    : { counts: [], seconds: 1, silent: [] };
  const fps = counts.map((n) => n / seconds);
  return {
    viewers: total,
    serverPct: cpu.selfPct,
    encoderPct: cpu.childrenPct,
    streamFps,
    minFps: fps.length ? Math.min(...fps) : NaN,
    p5Fps: quantile(fps, 0.05),
    p50Fps: quantile(fps, 0.5),
    belowFullRate: fps.filter((f) => f < streamFps * FULL_RATE_SHARE).length,
    silent,
    serverWithout: after.pistream_webrtc_viewers_without_pictures ?? NaN,
    failed,
  };
}

async function main(): Promise<void> {
  const server = await startCodecServer(STREAM, 'h264');
  const endpoint = `${server.url}whep`;
  const rows: Row[] = [await measure(server, undefined, 0, [])];
  for (const n of [1, VIEWERS]) {
    const viewers = spawnTracked(process.execPath, [compileScript('webrtc-viewers.ts'), endpoint], true);
    await new Promise((resolve) => viewers.once('message', resolve));
    const { joined, failed } = await ask<{ joined: number; failed: string[] }>(viewers, { join: n });
    await sleep(SETTLE_S * 1000);
    rows.push(await measure(server, viewers, joined, failed));
    await ask(viewers, { leave: true }).catch(() => undefined);
    await sleep(2000);
  }
  await server.stop();
  report(rows);
}

function report(rows: readonly Row[]): void {
  const idle = rows[0]!;
  const perViewer = (r: Row): number => (r.viewers ? (r.serverPct - idle.serverPct) / r.viewers : NaN);
  printTable(
    `WebRTC fan-out: ${STREAM.width}x${STREAM.height}@${STREAM.fps}, ${STREAM.bitrateKbps} kbit/s H.264, ${SECONDS} s per row; ` +
      'viewers are node-datachannel peers in another process',
    [
      'viewers',
      'server %',
      'per viewer %',
      'ffmpeg %',
      'stream fps',
      'fps min',
      'fps p5',
      'fps p50',
      `< ${FULL_RATE_SHARE * 100}% rate`,
      'no picture',
      'server: without',
      'refused',
    ],
    rows.map((r) => [
      String(r.viewers),
      cell(r.serverPct),
      cell(perViewer(r), 2),
      cell(r.encoderPct),
      cell(r.streamFps),
      cell(r.minFps),
      cell(r.p5Fps),
      cell(r.p50Fps),
      r.viewers ? String(r.belowFullRate) : '',
      r.viewers ? String(r.silent.length) : '',
      r.viewers ? String(r.serverWithout) : '',
      r.failed.length ? `${r.failed.length}: ${r.failed[0]}` : '0',
    ]),
  );
  for (const r of rows.filter((row) => row.silent.length)) console.log(`${r.viewers} viewers: without a picture: ${r.silent.join(', ')}`);
  const many = rows[rows.length - 1]!;
  const met = many.viewers === VIEWERS && many.failed.length === 0 && many.belowFullRate === 0;
  console.log(
    `goal: ${VIEWERS} WebRTC viewers at full rate (each ≥ ${FULL_RATE_SHARE * 100}% of the ${cell(many.streamFps)} pictures/s encoded) on this machine: ` +
      `${met ? 'met' : 'missed'} (${many.viewers} joined, ${many.belowFullRate} below, lowest ${cell(many.minFps)} pictures/s); ` +
      `server CPU per viewer ${cell(perViewer(many), 2)} % of a core (1 viewer: ${cell(perViewer(rows[1]!), 2)} %)`,
  );
}

runMain(main);
