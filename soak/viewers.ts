// The soak's viewer sockets, in their own process (so the server's RSS and CPU are its own). Started by soak/run.ts
// with an IPC channel:
//   node -r ts-node/register/transpile-only soak/viewers.ts --url ws://127.0.0.1:PORT/stream --count 200 --seconds 600
// Opens `count` viewers (in batches, so the listen backlog never overflows), each acknowledging the pictures it got
// the way the page does ({"type":"ack","frames":N}, at most every 100 ms). Sends { type: 'connected' }, then
// { type: 'progress' } every 10 s, and after `seconds` { type: 'result' } with each viewer's pictures and bytes.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '60' },
  },
});

const ACK_INTERVAL_MS = 100;
const PROGRESS_MS = 10_000;

interface Viewer {
  readonly ws: WebSocket;
  open: boolean;
  /** Close code when the server closed it (any close before the end is a failure). */
  closeCode?: number;
  errors: number;
  pictures: number;
  bytes: number;
  acked: number;
  /** Pictures and bytes at the start of the measured window. */
  from: { pictures: number; bytes: number };
}

const send = (msg: object): void => void process.send?.(msg);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openViewer(url: string): Promise<Viewer> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const viewer: Viewer = { ws, open: false, errors: 0, pictures: 0, bytes: 0, acked: 0, from: { pictures: 0, bytes: 0 } };
  // Every /stream message is one picture.
  ws.on('message', (data: Buffer) => {
    viewer.pictures++;
    viewer.bytes += data.length;
  });
  ws.on('error', () => viewer.errors++);
  return new Promise((resolve) => {
    ws.once('open', () => {
      viewer.open = true;
      resolve(viewer);
    });
    ws.once('close', (code) => {
      viewer.closeCode = code;
      resolve(viewer);
    });
  });
}

async function main(): Promise<void> {
  const url = values.url!;
  const count = Number(values.count);
  const viewers: Viewer[] = [];
  for (let i = 0; i < count; i += 50) {
    viewers.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => openViewer(url)))));
  }
  const acks = setInterval(() => {
    for (const v of viewers) {
      if (v.ws.readyState !== WebSocket.OPEN || v.acked === v.pictures) continue;
      v.ws.send(JSON.stringify({ type: 'ack', frames: v.pictures }));
      v.acked = v.pictures;
    }
  }, ACK_INTERVAL_MS);
  const live = (): number => viewers.filter((v) => v.open && v.closeCode === undefined).length;
  const start = process.hrtime.bigint();
  for (const v of viewers) v.from = { pictures: v.pictures, bytes: v.bytes };
  send({ type: 'connected', opened: viewers.filter((v) => v.open).length, refused: viewers.filter((v) => !v.open).length });

  const progress = setInterval(() => {
    send({ type: 'progress', live: live(), pictures: viewers.reduce((n, v) => n + v.pictures, 0) });
  }, PROGRESS_MS);
  await sleep(Number(values.seconds) * 1000);
  clearInterval(progress);
  clearInterval(acks);

  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const closeCodes: Record<string, number> = {};
  for (const v of viewers) if (v.closeCode !== undefined) closeCodes[v.closeCode] = (closeCodes[v.closeCode] ?? 0) + 1;
  send({
    type: 'result',
    seconds,
    opened: viewers.filter((v) => v.open).length,
    refused: viewers.filter((v) => !v.open).length,
    live: live(),
    closeCodes,
    socketErrors: viewers.reduce((n, v) => n + v.errors, 0),
    // Per viewer that was open: pictures/s and bytes/s over the whole window (a viewer closed early counts low).
    pictureRates: viewers.filter((v) => v.open).map((v) => (v.pictures - v.from.pictures) / seconds),
    byteRates: viewers.filter((v) => v.open).map((v) => (v.bytes - v.from.bytes) / seconds),
  });
  for (const v of viewers) v.ws.terminate();
  await sleep(100);
  process.exit(0);
}

process.on('disconnect', () => process.exit(0));
main().catch((err: unknown) => {
  process.stderr.write(`soak viewers: ${String(err)}\n`);
  process.exit(1);
});
