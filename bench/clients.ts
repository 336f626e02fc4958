// Viewer sockets for the fan-out and slow-viewer parts, in their own process so the server's CPU is measured alone.
// Run by bench/run.ts with an IPC channel:
//   node clients.js --url ws://127.0.0.1:8082/stream --count 100 [--paused 10] [--stalled 10]
//                   [--throttled 5 --throttle-kbps 400] [--ack 1]
//                   --seconds 30 [--settle 2]
// Opens `count` normal viewers, `paused` ones that stop reading at once (ws._socket.pause(): the kernel buffers
// fill, then the server's queue) and `throttled` ones that read at most `throttle-kbps` (the socket is paused and
// resumed on a 50 ms token bucket). With --ack, normal and throttled viewers ack received pictures as the page does,
// and `stalled` ones ack until the window starts, then read on without acking (a page whose main thread froze: the
// browser keeps reading the socket). Waits `settle` seconds, sends { type: 'measuring' }, counts for `seconds`, then
// sends { type: 'result', … } and exits.
//
// Delivery delay: every picture starts a PES packet whose PTS is a 90 kHz timestamp. pistream's PTS is the frame's
// capture time (ptsOf(capturedAt) = capturedAt × 90 mod 2^33, src/formats/mpegts.ts), so
// (Date.now() × 90 − PTS) mod 2^33 / 90 is the exact capture → socket-read delay. ffmpeg's (the baseline's) PTS
// starts at 1.4 s when the encoder starts, so the same sum is the delay plus a constant that bench/run.ts removes.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '1' },
    paused: { type: 'string', default: '0' },
    throttled: { type: 'string', default: '0' },
    stalled: { type: 'string', default: '0' },
    'throttle-kbps': { type: 'string', default: '400' },
    seconds: { type: 'string', default: '5' },
    settle: { type: 'string', default: '1' },
    delays: { type: 'string', default: '1' },
    ack: { type: 'string', default: '0' },
  },
});

type Kind = 'normal' | 'paused' | 'throttled' | 'stalled';

interface Viewer {
  readonly ws: WebSocket;
  readonly kind: Kind;
  open: boolean;
  closed: boolean;
  closeCode?: number;
  bytes: number;
  /** Messages received since open (on pistream's /stream, one message is one picture). */
  messages: number;
  /** Bytes of a TS packet split across messages (the baseline relays ffmpeg's pipe chunks as they come). */
  carry: Buffer | undefined;
  delays: number[];
}

const TS = 188;
const MOD33 = 2 ** 33;
const measureDelays = values.delays !== '0';
/** Ack like the page does ({"type":"ack","frames":N} at most every 100 ms), counting a received picture as decoded. */
const ack = values.ack !== '0';
let measuring = false;

const send = (msg: object): void => {
  process.send?.(msg);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The PTS of each PES start in `data` (whole 188-byte packets from `offset`), appended to the viewer's delays. */
function scanPackets(viewer: Viewer, data: Buffer): void {
  let buf = data;
  if (viewer.carry) {
    buf = Buffer.concat([viewer.carry, data]);
    viewer.carry = undefined;
  }
  let i = 0;
  // Resynchronise on the sync byte if a chunk ever starts mid-packet.
  while (i < buf.length && buf[i] !== 0x47) i++;
  const now90 = Date.now() * 90;
  for (; i + TS <= buf.length; i += TS) {
    if (buf[i] !== 0x47) continue;
    if ((buf[i + 1]! & 0x40) === 0) continue; // not a payload unit start
    const afc = (buf[i + 3]! >> 4) & 3;
    let p = i + 4;
    if (afc === 2) continue;
    if (afc === 3) p += 1 + buf[i + 4]!;
    if (p + 14 > i + TS) continue;
    if (buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1 || (buf[p + 3]! & 0xf0) !== 0xe0) continue;
    if ((buf[p + 7]! & 0x80) === 0) continue;
    const b = p + 9;
    const pts =
      ((buf[b]! >> 1) & 7) * 2 ** 30 + buf[b + 1]! * 2 ** 22 + (buf[b + 2]! >> 1) * 2 ** 15 + buf[b + 3]! * 2 ** 7 + (buf[b + 4]! >> 1);
    viewer.delays.push(Math.round(((((now90 - pts) % MOD33) + MOD33) % MOD33) / 9) / 10);
  }
  if (i < buf.length) viewer.carry = Buffer.from(buf.subarray(i));
}

function openViewer(url: string, kind: Kind, throttleBytesPerTick: number): Promise<Viewer> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const viewer: Viewer = { ws, kind, open: false, closed: false, bytes: 0, messages: 0, carry: undefined, delays: [] };
  ws.on('message', (data: Buffer) => {
    viewer.messages++;
    if (!measuring) return;
    viewer.bytes += data.length;
    if (measureDelays && (kind === 'normal' || kind === 'throttled')) scanPackets(viewer, data);
  });
  ws.on('error', () => undefined);
  return new Promise((resolve) => {
    ws.once('open', () => {
      viewer.open = true;
      const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      if (kind === 'paused') socket.pause();
      if (ack && kind !== 'paused') {
        let acked = 0;
        const acker = setInterval(() => {
          // A stalled page (its main thread frozen): the browser still reads the socket, but nothing is decoded.
          if (kind === 'stalled' && measuring) return;
          if (viewer.messages === acked || ws.readyState !== ws.OPEN) return;
          acked = viewer.messages;
          ws.send(JSON.stringify({ type: 'ack', frames: acked }));
        }, 100);
        ws.once('close', () => clearInterval(acker));
      }
      if (kind === 'throttled') {
        // A token bucket at the TCP level: read while there is budget, then stop reading until the next tick.
        let budget = throttleBytesPerTick;
        socket.on('data', (chunk: Buffer) => {
          budget -= chunk.length;
          if (budget <= 0) socket.pause();
        });
        const tick = setInterval(() => {
          budget = Math.min(budget + throttleBytesPerTick, throttleBytesPerTick);
          if (budget > 0 && !viewer.closed) socket.resume();
        }, 50);
        ws.once('close', () => clearInterval(tick));
      }
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
  const kinds: Kind[] = [
    ...Array<Kind>(Number(values.count)).fill('normal'),
    ...Array<Kind>(Number(values.paused)).fill('paused'),
    ...Array<Kind>(Number(values.throttled)).fill('throttled'),
    ...Array<Kind>(Number(values.stalled)).fill('stalled'),
  ];
  const throttleBytesPerTick = (Number(values['throttle-kbps']) * 1000) / 8 / 20;
  const viewers: Viewer[] = [];
  // In batches, so the listen backlog never overflows into SYN retries (a 1 s stall each).
  for (let i = 0; i < kinds.length; i += 50) {
    viewers.push(...(await Promise.all(kinds.slice(i, i + 50).map((k) => openViewer(url, k, throttleBytesPerTick)))));
  }
  await sleep(Number(values.settle) * 1000);
  measuring = true;
  const start = process.hrtime.bigint();
  send({ type: 'measuring' });
  await sleep(Number(values.seconds) * 1000);
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const live = (k: Kind): Viewer[] => viewers.filter((v) => v.kind === k && v.open && !v.closed);
  const result = {
    type: 'result',
    seconds,
    opened: viewers.filter((v) => v.open).length,
    refused: viewers.filter((v) => !v.open).length,
    /** Close codes of sockets that were closed by the server (1013: too many viewers). */
    closeCodes: viewers.filter((v) => v.closed).map((v) => v.closeCode),
    /** Normal viewers still open at the end. */
    connected: live('normal').length,
    pausedConnected: live('paused').length,
    throttledConnected: live('throttled').length,
    rates: live('normal').map((v) => v.bytes / seconds),
    throttledRates: live('throttled').map((v) => v.bytes / seconds),
    delays: measureDelays ? live('normal').flatMap((v) => v.delays) : [],
    throttledDelays: live('throttled').flatMap((v) => v.delays),
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
