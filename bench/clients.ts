// Viewer sockets for the fan-out and slow-viewer parts, in their own process so the server's CPU is measured alone.
// Run by bench/run.ts with an IPC channel:
//   node clients.js --url ws://127.0.0.1:8082/stream --count 100 [--paused 10] --seconds 15 [--settle 1]
// Opens `count` normal viewers (and `paused` ones that stop reading at once: ws._socket.pause()), waits `settle`
// seconds, then sends { type: 'measuring' }, counts bytes for `seconds`, and sends { type: 'result', … } with each
// normal viewer's delivered bytes/s. Then it closes everything and exits.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '1' },
    paused: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '5' },
    settle: { type: 'string', default: '1' },
  },
});

interface Viewer {
  readonly ws: WebSocket;
  readonly paused: boolean;
  open: boolean;
  closed: boolean;
  closeCode?: number;
  bytes: number;
}

const send = (msg: object): void => {
  process.send?.(msg);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openViewer(url: string, paused: boolean): Promise<Viewer> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const viewer: Viewer = { ws, paused, open: false, closed: false, bytes: 0 };
  ws.on('message', (data: Buffer) => {
    viewer.bytes += data.length;
  });
  ws.on('error', () => undefined);
  return new Promise((resolve) => {
    ws.once('open', () => {
      viewer.open = true;
      // A viewer that stops reading: the kernel buffers fill, then the server's send queue.
      if (paused) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      resolve(viewer);
    });
    ws.once('close', (code) => {
      viewer.closed = true;
      viewer.closeCode = code;
      resolve(viewer);
    });
  });
}

async function main(): Promise<void> {
  const url = values.url!;
  const count = Number(values.count);
  const paused = Number(values.paused);
  const viewers: Viewer[] = [];
  // In batches, so the listen backlog never overflows into SYN retries (a 1 s stall each).
  const all = [...Array(count).fill(false), ...Array(paused).fill(true)] as boolean[];
  for (let i = 0; i < all.length; i += 50) {
    viewers.push(...(await Promise.all(all.slice(i, i + 50).map((p) => openViewer(url, p)))));
  }
  await sleep(Number(values.settle) * 1000);
  for (const v of viewers) v.bytes = 0;
  const start = process.hrtime.bigint();
  send({ type: 'measuring' });
  await sleep(Number(values.seconds) * 1000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const normal = viewers.filter((v) => !v.paused);
  const result = {
    type: 'result',
    seconds,
    opened: viewers.filter((v) => v.open).length,
    refused: viewers.filter((v) => !v.open).length,
    /** Close codes of sockets that were closed by the server (1013: too many viewers). */
    closeCodes: viewers.filter((v) => v.closed).map((v) => v.closeCode),
    /** Normal viewers still open at the end. */
    connected: normal.filter((v) => v.open && !v.closed).length,
    pausedConnected: viewers.filter((v) => v.paused && v.open && !v.closed).length,
    rates: normal.filter((v) => v.open && !v.closed).map((v) => v.bytes / seconds),
  };
  send(result);
  for (const v of viewers) v.ws.terminate();
  await sleep(100);
  process.exit(0);
}

process.on('disconnect', () => process.exit(0));
main().catch((err: unknown) => {
  process.stderr.write(`clients: ${String(err)}\n`);
  process.exit(1);
});
