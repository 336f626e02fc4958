// pistream for the benchmark when the CLI has no --max-viewers yet: the same hapi plugin the CLI serves (page,
// /stream, /metrics, /healthz), on the test pattern, with `maxViewers` set. Compiled by bench/children.ts
// (compileScript) against dist/, so it runs on bare node like `node dist/cli.js`.
//   node server.js --port 8099 [--width 640 --height 480 --fps 24 --bitrate 800 --max-viewers 2000]
// Prints "ready <port>" once listening; SIGTERM/SIGINT stop the server (viewers, camera, encoder) and exit.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { createServer } from 'node:http';
import Hapi from '@hapi/hapi';
import { WebSocketServer, type WebSocket } from 'ws';
import { mpegts } from '../src/formats/mpegts';
import { createHub, type Hub } from '../src/hub';
import type { MuxedPicture } from '../src/picture';
import { pistreamPlugin } from '../src/server/plugin';
import { testPattern } from '../src/sources/test-pattern';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    width: { type: 'string', default: '640' },
    height: { type: 'string', default: '480' },
    fps: { type: 'string', default: '24' },
    bitrate: { type: 'string', default: '800' },
    'max-viewers': { type: 'string', default: '2000' },
    /**
     * plugin: the real thing. The others are experiments on the same hub and encoder, for bench/variants.ts:
     * `inline`: one plain subscriber per viewer with the keyframe/backlog decisions inline (no operator chain);
     * `loop`: one subscriber for all viewers looping over a Set (the relay's shape; no GOP replay).
     */
    variant: { type: 'string', default: 'plugin' },
  },
});
const fps = Number(values.fps);

const HIGH_WATER_MARK = 512 * 1024;
const SEND_OPTIONS = { binary: true };

/** The experimental variants: a bare ws server on `/stream` over one hub; /healthz answers 200. */
async function experiment(variant: string): Promise<void> {
  const width = Number(values.width),
    height = Number(values.height);
  const hub: Hub = createHub({
    source: testPattern({ width, height, fps }),
    encoder: {
      width,
      height,
      fps,
      bitrate: Number(values.bitrate),
      gop: Math.round(fps),
      threads: Math.min(4, Math.max(1, availableParallelism() - 1)),
    },
  });
  const keep = hub.keepAlive();
  // The MPEG-TS the plugin's /stream sends (muxed once per picture for all viewers; no preamble).
  const pictures$ = hub.stream(mpegts);
  const http = createServer((_req, res) => res.end('ok'));
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  interface Slot {
    ws: WebSocket;
    started: boolean;
    resyncing: boolean;
    sent: number;
    bytes: number;
    dropped: number;
  }
  const slots = new Set<Slot>();
  const deliver = (v: Slot, p: MuxedPicture): void => {
    if (!v.started) {
      if (!p.keyframe) return;
      v.started = true;
    }
    if (v.ws.bufferedAmount > HIGH_WATER_MARK) {
      v.resyncing = true;
      v.dropped++;
      return;
    }
    if (v.resyncing) {
      if (!p.keyframe) return void v.dropped++;
      v.resyncing = false;
    }
    v.sent++;
    v.bytes += p.wire.length;
    v.ws.send(p.wire, SEND_OPTIONS);
  };
  if (variant === 'loop') {
    pictures$.subscribe((p) => {
      for (const v of slots) deliver(v, p);
    });
  }
  wss.on('connection', (ws) => {
    const v: Slot = { ws, started: false, resyncing: false, sent: 0, bytes: 0, dropped: 0 };
    ws.on('error', () => undefined);
    if (variant === 'loop') {
      slots.add(v);
      ws.once('close', () => slots.delete(v));
    } else {
      const sub = pictures$.subscribe((p) => deliver(v, p));
      ws.once('close', () => sub.unsubscribe());
    }
  });
  await new Promise<void>((resolve) => http.listen(Number(values.port), values.host, resolve));
  const stop = (): void => {
    for (const c of wss.clients) c.terminate();
    keep.unsubscribe();
    hub.close();
    http.close();
    setTimeout(() => process.exit(0), 500);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.stdout.write(`ready ${(http.address() as { port: number }).port}\n`);
}

async function main(): Promise<void> {
  if (values.variant !== 'plugin') return experiment(values.variant!);
  const server = Hapi.server({ port: Number(values.port), host: values.host });
  await server.register({
    plugin: pistreamPlugin,
    options: {
      source: { kind: 'test' },
      encoder: {
        width: Number(values.width),
        height: Number(values.height),
        fps,
        bitrate: Number(values.bitrate),
        gop: Math.round(fps),
        // As the CLI's --threads auto.
        threads: Math.min(4, Math.max(1, availableParallelism() - 1)),
      },
      maxViewers: Number(values['max-viewers']),
      // Every bench viewer comes from 127.0.0.1: the per-address upgrade limit would refuse the fan-out.
      upgradeRate: false,
      maxViewersPerAddress: 0,
    },
  });
  await server.start();
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const kill = setTimeout(() => process.exit(0), 3000);
    void server.stop({ timeout: 1000 }).finally(() => {
      clearTimeout(kill);
      // Give the encoder's SIGTERM a moment; the plugin's onPreStop has already sent it.
      setTimeout(() => process.exit(0), 200);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.stdout.write(`ready ${server.info.port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server: ${String(err)}\n`);
  process.exit(1);
});
