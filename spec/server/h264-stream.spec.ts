import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { readBarcode } from '../../src/barcode';
import { parseConfig } from '../../src/config/command-line';
import { liveChildCount } from '../../src/process/child-process';
import { protocol, type UnitHeader } from '../../src/protocol';
import { startServer, type RunningServer } from '../../src/server/start-server';
import type { TranscodingHub } from '../../src/transcoded-hub';
import { waitFor } from '../helpers/child-processes';
import { decodeMpeg1 } from '../helpers/ffmpeg-stream';
import { decodeH264Frames as decodeH264, x264Stream } from '../helpers/h264-streams';
import { demuxPes } from '../helpers/mpegts-demux';
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
    const config = parseConfig(
      // No sound whatever the machine has (spec/audio covers sound), so /streams is the same everywhere.
      ['--codec', 'h264', '--source', 'test', '--audio', 'none', '--host', '127.0.0.1', '--port', '0', '--gop', '12', '--grace', '0'],
      {},
    );
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
      formats: [
        { id: 'h264', label: 'H.264 access units (WebCodecs)', path: '/h264' },
        { id: 'fmp4', label: 'fragmented MP4 (MSE)', path: '/fmp4' },
        { id: 'fmp4-sound', label: 'fragmented MP4 with sound (MSE)', path: '/fmp4-sound' },
        { id: 'sound', label: 'MP2 sound alone in MPEG-TS (for MSE pages)', path: '/sound' },
        { id: 'mpegts', label: 'MPEG-TS (JSMpeg)', path: '/stream' },
        { id: 'jsmp', label: 'jsmp (original pistreaming)', path: '/legacy' },
      ],
      audio: { off: 'none (--audio none)' },
      recordings: false,
      webrtc: { path: '/whep' },
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

  it('serves MPEG-1 to old players through a transcode started by the first such viewer and stopped after the last', async () => {
    const transcode = (running.hub as TranscodingHub).transcode;
    expect(transcode.stats.state).toBe('idle');
    const viewer = await connect(`ws://127.0.0.1:${running.port}/stream`);
    const messages = await viewer.received(30);
    expect(transcode.stats.state).toBe('running');
    await viewer.close();
    const pictures = demuxPes(Buffer.concat(messages)).map((pes) => pes.data);
    expect(pictures.length).toBe(30);
    const decoded = await decodeMpeg1(Buffer.concat(pictures), W, H);
    expect(decoded).toHaveLength(30);
    // The barcode in each picture: consecutive frames of the camera's stream, recent.
    const frames = decoded.map((y) => readBarcode((x, row) => y[row * W + x]!)!.frame);
    frames.slice(1).forEach((frame, i) => expect(frame).toBeGreaterThan(frames[i]!));
    // --grace 0: the transcoder stops once its last viewer has gone.
    await waitFor(() => transcode.stats.state === 'idle', 'the transcoder to stop after its last viewer');
  });

  it('refuses paths it does not serve', async () => {
    expect(await refusedStatus(`ws://127.0.0.1:${running.port}/nothing`)).toBe(404);
  });
});

describe('pistream --source rpicam --codec h264 (the camera encodes; a stand-in rpicam-vid writes what a Pi writes)', () => {
  const W2 = 320;
  const H2 = 240;
  let running: RunningServer;
  let dir: string;
  const path = process.env.PATH;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-rpicam-h264-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(join(__dirname, '..', 'helpers', 'fake-h264-camera.js'), join(bin, 'rpicam-vid'));
    writeFileSync(join(dir, 'camera.h264'), await x264Stream({ frames: 48, gop: 12, width: W2, height: H2 }));
    Object.assign(process.env, {
      PATH: `${bin}:${path}`,
      FAKE_H264_FILE: join(dir, 'camera.h264'),
      FAKE_H264_FPS: '24',
      FAKE_H264_FRAMES: '100000',
      FAKE_CAMERA_ARGV: join(dir, 'argv.json'),
    });
    const config = parseConfig(
      [
        '--codec',
        'h264',
        '--source',
        'rpicam',
        '--width',
        String(W2),
        '--height',
        String(H2),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--gop',
        '12',
        '--bitrate',
        '700',
      ],
      {},
    );
    running = await startServer(config, { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await running.stop();
    process.env.PATH = path;
    for (const key of ['FAKE_H264_FILE', 'FAKE_H264_FPS', 'FAKE_H264_FRAMES', 'FAKE_CAMERA_ARGV']) delete process.env[key];
    rmSync(dir, { recursive: true, force: true });
    expect(liveChildCount()).toBe(0);
  });

  it("runs the camera's own encoder (no ffmpeg) with the flags a Pi needs, and sends its access units as they come", async () => {
    expect(running.server.plugins.pistream.source).toMatchObject({ kind: 'rpicam', target: join(dir, 'bin', 'rpicam-vid') });
    expect(running.server.plugins.pistream.source).not.toHaveProperty('ffmpeg');
    const viewer = await connect(`ws://127.0.0.1:${running.port}/h264`);
    const units = (await viewer.received(30)).map(unit);
    await viewer.close();
    const args = JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')) as string[];
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect([
      after('--codec'),
      after('--intra'),
      after('--bitrate'),
      after('--width'),
      after('--height'),
      after('--profile'),
      after('--level'),
    ]).toEqual(['h264', '12', '700000', String(W2), String(H2), 'baseline', '4']);
    expect(args).toEqual(expect.arrayContaining(['--inline', '--flush', '-o', '-']));
    expect(units[0]!.header).toMatchObject({ key: true, width: W2, height: H2 });
    expect(units[0]!.header.codec).toMatch(/^avc1\.42C0[0-9A-F]{2}$/);
    expect(units.map((u) => u.header.seq)).toEqual(units.map((_, i) => units[0]!.header.seq + i));
    const decoded = await decodeH264(Buffer.concat(units.map((u) => u.au)), W2, H2);
    expect(decoded).toHaveLength(units.length);
  });
});
