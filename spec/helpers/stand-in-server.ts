import { spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { resolveFfmpeg } from '../../src/encoder/ffmpeg-path';
import { TestPatternRenderer } from '../../src/sources/test-pattern';

const PUBLIC_DIR = join(__dirname, '..', '..', 'public');
// The package's `exports` map hides dist/; its main entry lives there.
const JSMPEG_FILE = join(dirname(require.resolve('@cycjimmy/jsmpeg-player')), 'jsmpeg-player.umd.min.js');
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:";
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface StandInServer {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** Acknowledgements received from pages (`frames` of each `{"type":"ack"}` message), in order. */
  readonly acks: readonly number[];
  stop(): Promise<void>;
}

/**
 * A minimal stand-in for pistream's server, for browser tests of the page before (or apart from) the real one:
 * serves public/ and the JSMpeg player under the real CSP, and `/stream` as MPEG-TS from one ffmpeg fed by the
 * test pattern (same encoder flags as the server). No GOP replay: a new page waits for the next keyframe (≤ 1 s).
 * `stop()` ends the ffmpeg child and the listener.
 *
 * @example
 * const server = await startStandInServer({ port: 0 });
 * // … point a browser at server.url …
 * await server.stop();
 */
export async function startStandInServer(options: { port?: number } = {}): Promise<StandInServer> {
  const width = 640;
  const height = 480;
  const fps = 24;
  const acks: number[] = [];
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const file = path === '/vendor/jsmpeg-player.umd.min.js' ? JSMPEG_FILE : normalize(join(PUBLIC_DIR, path === '/' ? 'index.html' : path));
    const inside = file === JSMPEG_FILE || file.startsWith(PUBLIC_DIR + sep);
    if (!inside || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP });
    createReadStream(file).pipe(res);
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const viewers = new Set<WebSocket>();
  http.on('upgrade', (req, socket, head) => {
    if (req.url !== '/stream') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      viewers.add(ws);
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type?: string; frames?: number };
        if (message.type === 'ack' && typeof message.frames === 'number') acks.push(message.frames);
      });
      ws.on('close', () => viewers.delete(ws));
      ws.on('error', () => viewers.delete(ws));
    });
  });

  // prettier-ignore
  const ffmpeg = spawn(resolveFfmpeg().path, [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0',
    '-an', '-c:v', 'mpeg1video', '-bf', '0', '-g', String(fps), '-b:v', '800k',
    '-flags', '+low_delay', '-strict', 'unofficial', '-vsync', 'passthrough',
    '-flush_packets', '1', '-f', 'mpegts', '-omit_video_pes_length', '0', 'pipe:1',
  ], { stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<void>((resolve) => ffmpeg.once('close', () => resolve()));
  ffmpeg.stdin.on('error', () => undefined);
  ffmpeg.stdout.on('data', (chunk: Buffer) => {
    for (const ws of viewers) if (ws.readyState === ws.OPEN) ws.send(chunk);
  });

  // Frames on a fixed 24 fps timeline; a frame is skipped (never queued) while ffmpeg's stdin has not drained.
  const renderer = new TestPatternRenderer(width, height);
  const t0 = Date.now();
  let seq = 0;
  let slot = 0;
  let draining = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    if (!draining) {
      if (!ffmpeg.stdin.write(renderer.render(seq++, Date.now()).data)) {
        draining = true;
        ffmpeg.stdin.once('drain', () => (draining = false));
      }
    }
    slot++;
    timer = setTimeout(tick, Math.max(0, t0 + (slot * 1000) / fps - Date.now()));
  };
  tick();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    acks,
    async stop() {
      clearTimeout(timer);
      for (const ws of viewers) ws.terminate();
      wss.close();
      ffmpeg.stdin.destroy();
      ffmpeg.kill('SIGTERM');
      http.closeAllConnections();
      await Promise.all([new Promise<void>((resolve) => http.close(() => resolve())), exited]);
    },
  };
}
