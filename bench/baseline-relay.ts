// The benchmark's baseline: what a plain pistreaming-style relay does. Test-pattern frames are piped raw into one
// ffmpeg (MPEG-1 in MPEG-TS, low-delay flags), and every chunk ffmpeg writes is sent as-is to every `ws` client:
// no GOP replay, no slow-viewer handling, no acks. It also serves a tiny page that plays the stream with the stock
// JSMpeg.Player and reads the barcode in its onVideoDecode hook, pushing glass-to-glass latencies into
// `window.latencies` (and counting decoded pictures in `window.frames`).
//
// Run as a child process by bench/run.ts: node baseline-relay.js --port 8099 [--width 640 --height 480 --fps 24]
// It prints "ready <port>" on stdout once listening, and exits (ending ffmpeg) on SIGTERM/SIGINT.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { autoThreads } from '../src/config/flags';
import { resolveFfmpeg } from '../src/process/ffmpeg-path';
import { TestPatternRenderer } from '../src/sources/test-pattern';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    width: { type: 'string', default: '640' },
    height: { type: 'string', default: '480' },
    fps: { type: 'string', default: '24' },
    bitrate: { type: 'string', default: '800' },
    root: { type: 'string', default: join(__dirname, '..') },
  },
});
const width = Number(values.width);
const height = Number(values.height);
const fps = Number(values.fps);

// The stock page: JSMpeg.Player with its own WebSocket source and its own decode/paint loop (one picture per
// animation frame). The barcode is read from the decoded Y plane right after each decode, as public/viewer.js does.
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>baseline</title></head>
<body style="margin:0;background:#000"><canvas id="video" width="${width}" height="${height}"></canvas>
<script src="/jsmpeg.js"></script>
<script>
window.frames = 0; window.latencies = []; window.lastBarcode = null;
function readBarcode(y, stride) {
  var words = [0, 0];
  for (var row = 0; row < 2; row++) {
    var word = 0, cy = row * 16 + 8;
    for (var bit = 0; bit < 32; bit++) {
      var i = (cy - 1) * stride + bit * 16 + 7;
      var luma = (y[i] + y[i + 1] + y[i + stride] + y[i + stride + 1]) / 4;
      if (luma > 90 && luma < 160) return null;
      word = word * 2 + (luma >= 128 ? 1 : 0);
    }
    words[row] = word;
  }
  return { frame: words[0], time: words[1] };
}
function yPlane(d) {
  if (d.currentY) return d.currentY;
  if (d.functions && d.instance) {
    var p = d.functions._mpeg1_decoder_get_y_ptr(d.decoder);
    return d.instance.heapU8.subarray(p, p + d.codedSize);
  }
  return null;
}
var T32 = 4294967296;
// Socket open → first decoded picture, as public/viewer.js records it (window.pistream.timings): the stock player
// opens its own socket, so the page watches it through a WebSocket wrapper.
window.timings = { navigationToOpen: null, openToFirstPicture: null, openToFirstPaint: null };
var openedAt = 0, NativeWebSocket = window.WebSocket;
window.WebSocket = function (url, protocols) {
  var ws = protocols === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, protocols);
  ws.addEventListener('open', function () {
    if (openedAt) return;
    openedAt = performance.now();
    window.timings.navigationToOpen = openedAt;
  });
  return ws;
};
['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (k) { window.WebSocket[k] = NativeWebSocket[k]; });
window.WebSocket.prototype = NativeWebSocket.prototype;
new JSMpeg.Player('ws://' + location.host + '/stream', {
  canvas: document.getElementById('video'), audio: false,
  onVideoDecode: function (decoder) {
    window.frames++;
    // The stock player paints every picture it decodes, in the same call.
    if (window.timings.openToFirstPicture === null && openedAt) {
      window.timings.openToFirstPicture = window.timings.openToFirstPaint = performance.now() - openedAt;
    }
    var y = yPlane(decoder);
    if (!y) return;
    // The JS decoder keeps its width; the WASM one only reports it through its exports.
    var w = decoder.width || (decoder.functions ? decoder.functions._mpeg1_decoder_get_width(decoder.decoder) : 0);
    if (!(w >= 512)) return;
    var b = readBarcode(y, (w + 15) & ~15);
    if (!b) return;
    var age = (Date.now() % T32) - b.time;
    if (age < -T32 / 2) age += T32;
    if (age > T32 / 2) age -= T32;
    window.lastBarcode = b;
    window.latencies.push(age);
    if (window.latencies.length > 1000) window.latencies.shift();
  }
});
</script></body></html>`;

const jsmpeg = readFileSync(join(values.root!, 'node_modules/@cycjimmy/jsmpeg-player/dist/jsmpeg-player.umd.min.js'));

const http = createServer((req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  } else if (req.url === '/jsmpeg.js') {
    res.writeHead(200, { 'Content-Type': 'application/javascript' });
    res.end(jsmpeg);
  } else {
    res.writeHead(404);
    res.end();
  }
});
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
const clients = new Set<WebSocket>();
wss.on('connection', (ws) => {
  clients.add(ws);
  ws.on('close', () => clients.delete(ws));
  ws.on('error', () => clients.delete(ws));
});

const ffmpeg = spawn(
  resolveFfmpeg().path,
  [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'warning',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    '-video_size',
    `${width}x${height}`,
    '-framerate',
    String(fps),
    '-i',
    'pipe:0',
    // -threads as pistream's --threads auto: the same encoder settings make the same bytes for both to send.
    '-an',
    '-c:v',
    'mpeg1video',
    '-bf',
    '0',
    '-g',
    String(Math.round(fps)),
    '-b:v',
    `${values.bitrate}k`,
    '-threads',
    String(autoThreads()),
    '-flags',
    '+low_delay',
    '-strict',
    'unofficial',
    '-vsync',
    'passthrough',
    '-f',
    'mpegts',
    '-omit_video_pes_length',
    '0',
    'pipe:1',
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
ffmpeg.stdin.on('error', () => undefined);
// Broadcast exactly what ffmpeg wrote, to everyone, as the original relay does.
ffmpeg.stdout.on('data', (chunk: Buffer) => {
  for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(chunk);
});
ffmpeg.on('exit', (code, signal) => {
  if (!stopping) {
    process.stderr.write(`baseline-relay: ffmpeg exited (${code ?? signal})\n`);
    process.exit(1);
  }
});

// Frames on a fixed timeline; a frame is skipped (not rendered) while ffmpeg's stdin is backed up.
const renderer = new TestPatternRenderer(width, height);
const period = 1000 / fps;
const t0 = Date.now();
let seq = 0;
let backedUp = false;
ffmpeg.stdin.on('drain', () => (backedUp = false));
let timer: NodeJS.Timeout | undefined;
function tick(): void {
  const now = Date.now();
  if (!backedUp) {
    // Released once the pipe has it, as pistream's encoder does: the same source cost on both sides.
    const frame = renderer.render(seq, now);
    backedUp = !ffmpeg.stdin.write(frame.data, frame.release);
  }
  seq++;
  const next = Math.max(seq, Math.floor((Date.now() - t0) / period) + 1);
  seq = next;
  timer = setTimeout(tick, Math.max(0, t0 + next * period - Date.now()));
}

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  for (const ws of clients) ws.terminate();
  wss.close();
  http.close();
  http.closeAllConnections();
  ffmpeg.stdin.end();
  const kill = setTimeout(() => ffmpeg.kill('SIGKILL'), 1000);
  ffmpeg.once('exit', () => {
    clearTimeout(kill);
    process.exit(0);
  });
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Orphaned (the benchmark died): stop too.
process.on('disconnect', stop);

http.listen(Number(values.port), values.host, () => {
  const address = http.address();
  process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : values.port}\n`);
  tick();
});
