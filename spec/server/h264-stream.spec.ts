import pino from 'pino';
import { readBarcode } from '../../src/barcode';
import { parseConfig } from '../../src/config/command-line';
import { liveChildCount } from '../../src/process/child-process';
import { protocol, type UnitHeader } from '../../src/protocol';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { decodeH264 } from '../helpers/ffmpeg-stream';
import { connect, refusedStatus } from '../helpers/ws-client';

const W = 640;
const H = 480;

/** A message as the page reads it: the header (public/protocol.js) and the access unit after it. */
function unit(message: Buffer): { header: UnitHeader; au: Buffer } {
  const header = protocol.readUnitHeader(message.buffer.slice(message.byteOffset, message.byteOffset + message.length) as ArrayBuffer);
  if (!header) throw new Error(`not an /h264 message: ${message.subarray(0, 24).toString('hex')}`);
  return { header, au: message.subarray(header.offset) };
}

describe('pistream --codec h264 (the real server, ffmpeg and sockets)', () => {
  let running: RunningServer;
  beforeAll(async () => {
    const config = parseConfig(['--codec', 'h264', '--source', 'test', '--host', '127.0.0.1', '--port', '0', '--gop', '12', '--grace', '0'], {});
    running = await startServer(config, { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await running.stop();
    expect(liveChildCount()).toBe(0);
  });

  it('tells the page its codec and where the stream is (GET /streams)', async () => {
    const res = await fetch(`http://127.0.0.1:${running.port}/streams`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/no-cache|max-age=0/);
    expect(await res.json()).toEqual({
      codec: 'h264',
      codecLabel: 'H.264',
      width: W,
      height: H,
      fps: 24,
      formats: [{ id: 'h264', label: 'H.264 access units (WebCodecs)', path: '/h264' }],
    });
  });

  it('sends one message per access unit from a key unit with its codec string; ffmpeg decodes the payloads, the barcode intact', async () => {
    const viewer = await connect(`ws://127.0.0.1:${running.port}/h264`);
    const units = (await viewer.received(40)).map(unit);
    await viewer.close();
    const first = units[0]!.header;
    expect(first).toMatchObject({ version: 1, key: true, width: W, height: H, codec: 'avc1.42C01E' });
    units.forEach(({ header }, i) => {
      if (i > 0) expect(header.seq).toBeGreaterThan(units[i - 1]!.header.seq);
      expect(header.codec).toBe(header.key ? 'avc1.42C01E' : '');
    });
    // GOP 12: key units 12 pictures apart (unless the encoder dropped a frame in between, which a loaded machine may).
    expect(units.filter((u) => u.header.key).length).toBeGreaterThanOrEqual(3);
    const decoded = await decodeH264(Buffer.concat(units.map((u) => u.au)), W, H);
    expect(decoded).toHaveLength(units.length);
    const barcodes = decoded.map((y) => readBarcode((x, row) => y[row * W + x]!));
    expect(barcodes).toEqual(units.map(({ header }) => ({ frame: header.seq, time: header.capturedAt % 2 ** 32 })));
  });

  it('serves no MPEG-1 paths: the server sends one codec', async () => {
    expect(await refusedStatus(`ws://127.0.0.1:${running.port}/stream`)).toBe(404);
  });
});
