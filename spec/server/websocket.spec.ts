import { connect as netConnect } from 'node:net';
import Hapi from '@hapi/hapi';
import pino from 'pino';
import { parseConfig } from '../../src/config/command-line';
import { pistreamPlugin } from '../../src/server/plugin';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';
import { demuxPes, tsPackets, type PesUnit } from '../helpers/mpegts-demux';
import { connect, refusedStatus, type WsClient } from '../helpers/ws-client';
import { standInHub } from '../helpers/stand-in-hub';

const SEQUENCE_HEADER = Buffer.from([0, 0, 1, 0xb3]);
const JSMP_640_480 = Buffer.from([0x6a, 0x73, 0x6d, 0x70, 0x02, 0x80, 0x01, 0xe0]);

/** The one video PES of a `/stream` message (every message is one picture), after checking the packets. */
function pes(message: Buffer): PesUnit {
  tsPackets(message); // throws unless whole 188-byte packets, each starting with 0x47
  const units = demuxPes(message);
  expect(units).toHaveLength(1);
  return units[0]!;
}

function isKeyframe(message: Buffer): boolean {
  return pes(message).data.subarray(0, 4).equals(SEQUENCE_HEADER);
}

const ptsOf = (message: Buffer): number => pes(message).pts!;

describe('WebSockets on a real server (test pattern through ffmpeg)', () => {
  let running: RunningServer;
  let base: string;
  const clients: WsClient[] = [];
  const open = async (path: string, options: Parameters<typeof connect>[1] = {}, port?: number): Promise<WsClient> => {
    const client = await connect(`ws://127.0.0.1:${port ?? running.port}${path}`, options);
    clients.push(client);
    return client;
  };

  // ffmpeg children this file started (any left by an earlier spec file in this worker are not ours to judge).
  let baseline: Set<number>;
  const ourFfmpeg = (): number[] => ffmpegChildren().filter((pid) => !baseline.has(pid));

  beforeAll(async () => {
    baseline = new Set(ffmpegChildren());
    // GOP 600 (25 s at 24 fps): one keyframe for the whole file, so which keyframe a viewer starts at is certain.
    // A low bitrate keeps that GOP's replay to a new viewer far below the slow-viewer high-water mark.
    const config = parseConfig(
      [
        '--source',
        'test',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--legacy-port',
        '0',
        '--gop',
        '600',
        '--bitrate',
        '200',
        '--log-level',
        'silent',
      ],
      {},
    );
    expect(config.plugin.legacyListener?.port).toBe(0);
    running = await startServer(config, { logger: pino({ level: 'silent' }) });
    base = `ws://127.0.0.1:${running.port}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await running?.stop();
    await waitFor(() => ourFfmpeg().length === 0, 'ffmpeg to exit');
  });

  describe('/stream (MPEG-TS for JSMpeg)', () => {
    it('starts with a PAT, sends whole TS packets, and starts at a keyframe', async () => {
      const viewer = await open('/stream');
      const messages = await viewer.received(5);
      const first = messages[0]!;
      expect([...first.subarray(0, 3)]).toEqual([0x47, 0x40, 0x00]);
      for (const message of messages) {
        expect(message.length % 188).toBe(0);
        for (let i = 0; i < message.length; i += 188) expect(message[i]).toBe(0x47);
        expect(pes(message).streamId).toBe(0xe0);
      }
      expect(isKeyframe(first)).toBe(true);
      // Capture times run forward, picture by picture.
      const pts = messages.map(ptsOf);
      for (let i = 1; i < pts.length; i++) expect(pts[i]).toBeGreaterThan(pts[i - 1]!);
      // And it keeps coming.
      const later = await viewer.more(3);
      expect(ptsOf(later[2]!)).toBeGreaterThan(pts[4]!);
      await viewer.close();
    });

    it('starts a later viewer at once from the cached GOP, at its keyframe', async () => {
      const first = await open('/stream');
      const seen = await first.received(4);
      const keyPts = ptsOf(seen[0]!);
      expect(isKeyframe(seen[0]!)).toBe(true);

      const second = await open('/stream');
      // The replay holds every picture of the GOP so far: at least as many as the first viewer had seen.
      const replay = await second.received(seen.length);
      expect(isKeyframe(replay[0]!)).toBe(true);
      // Its first picture is the GOP's keyframe, which the first viewer had before the second connected (GOP
      // 600: no other keyframe came since), so it is older than the latest picture and came without a wait.
      expect(ptsOf(replay[0]!)).toBe(keyPts);
      expect(ptsOf(replay[0]!)).toBeLessThan(ptsOf(seen[seen.length - 1]!));
      expect(replay.map(ptsOf)).toEqual(seen.map(ptsOf));
      // Only the first picture of a replay is a keyframe.
      expect(replay.slice(1).some(isKeyframe)).toBe(false);
      await Promise.all([first.close(), second.close()]);
    });

    it('runs the encoder while someone watches', async () => {
      const viewer = await open('/stream');
      await viewer.received(1);
      expect(running.hub.stats.running).toBe(true);
      expect(ourFfmpeg()).toHaveLength(1);
      await viewer.close();
    });
  });

  describe('/legacy (the original jsmp protocol)', () => {
    it('sends the jsmp header, then a sequence header, then MPEG-1 pictures', async () => {
      const viewer = await open('/legacy');
      const [header, first, ...rest] = await viewer.received(6);
      expect(header!.equals(JSMP_640_480)).toBe(true);
      expect(first!.subarray(0, 4).equals(SEQUENCE_HEADER)).toBe(true);
      for (const picture of rest) {
        expect([...picture.subarray(0, 3)]).toEqual([0, 0, 1]);
        // A picture start code (0x00) or, on a keyframe, a sequence header; never TS.
        expect([0x00, 0xb3]).toContain(picture[3]);
      }
      await viewer.close();
    });

    it('is also served at / on the legacy port', async () => {
      expect(running.legacyPort).toEqual(expect.any(Number));
      expect(running.legacyPort).not.toBe(running.port);
      const viewer = await open('/', {}, running.legacyPort);
      const [header, first] = await viewer.received(2);
      expect(header!.equals(JSMP_640_480)).toBe(true);
      expect(first!.subarray(0, 4).equals(SEQUENCE_HEADER)).toBe(true);
      await viewer.close();
    });

    it('counts legacy-port viewers with everyone else in /healthz and /metrics (one viewer server for both listeners)', async () => {
      const before = (await (await fetch(`http://127.0.0.1:${running.port}/healthz`)).json()) as { viewers: number };
      const legacy = await open('/', {}, running.legacyPort);
      const stream = await open('/stream');
      await Promise.all([legacy.received(1), stream.received(1)]);
      const health = (await (await fetch(`http://127.0.0.1:${running.port}/healthz`)).json()) as { viewers: number };
      expect(health.viewers).toBe(before.viewers + 2);
      const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^pistream_viewers ${before.viewers + 2}$`, 'm'));
      // Both formats had viewers, so both were muxed (each once per picture).
      expect(metrics).toMatch(/^pistream_muxed_bytes_total\{format="mpegts"\} [1-9]/m);
      expect(metrics).toMatch(/^pistream_muxed_bytes_total\{format="jsmp"\} [1-9]/m);
      await Promise.all([legacy.close(), stream.close()]);
    });

    it('accepts the page’s origin (same host, the HTTP port) on the legacy port, refuses other sites', async () => {
      const viewer = await open('/', { origin: `http://127.0.0.1:${running.port}` }, running.legacyPort);
      await viewer.received(1);
      await viewer.close();
      expect(await refusedStatus(`ws://127.0.0.1:${running.legacyPort}/`, { origin: 'https://evil.example' })).toBe(403);
    });

    it("listens on the server's own address only (--host 127.0.0.1), not on every interface", async () => {
      const refused = await new Promise<string>((resolve) => {
        const socket = netConnect({ host: '127.0.0.2', port: running.legacyPort! });
        socket.once('connect', () => (socket.destroy(), resolve('connected')));
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
    });

    it('answers plain HTTP on the legacy port with 426', async () => {
      const res = await fetch(`http://127.0.0.1:${running.legacyPort}/`);
      expect(res.status).toBe(426);
      expect(res.headers.get('upgrade')).toBe('websocket');
      await res.text();
    });
  });

  describe('control messages', () => {
    let other: WsClient;
    beforeAll(async () => {
      other = await open('/stream');
      await other.received(1);
    });

    it.each<[string, string | Buffer]>([
      ['binary', Buffer.from([1, 2, 3])],
      ['text that is not JSON', 'hello'],
      ['JSON that is not an object', '42'],
      ['JSON null', 'null'],
      ['more than 256 bytes of JSON', JSON.stringify({ type: 'ack', frames: 1, pad: 'x'.repeat(300) })],
    ])('closes a viewer that sends %s with 1008; the others keep receiving', async (_what, data) => {
      const bad = await open('/stream');
      await bad.received(1);
      bad.ws.send(data);
      const closed = await bad.closed;
      expect(closed.code).toBe(1008);
      await other.more(2);
    });

    it('closes a viewer that sends 70 KiB with 1009', async () => {
      const bad = await open('/stream');
      await bad.received(1);
      bad.ws.send(JSON.stringify({ type: 'ack', pad: 'x'.repeat(70 * 1024) }));
      expect((await bad.closed).code).toBe(1009);
      await other.more(2);
    });

    it('keeps a viewer that acknowledges pictures, and counts its acks', async () => {
      const viewer = await open('/stream');
      await viewer.received(1);
      viewer.ws.send(JSON.stringify({ type: 'ack', frames: 3 }));
      const { viewers } = running.server.plugins.pistream;
      await waitFor(() => [...viewers.viewers].some((v) => v.stats.acked === 3), 'the ack to arrive');
      // From here it acks every picture as a page does: a viewer that stopped acking would be judged slow once the
      // oldest unacknowledged picture is old enough, which a machine that stalls this process can make happen.
      viewer.ws.on('message', () => viewer.ws.send(JSON.stringify({ type: 'ack', frames: viewer.messages.length })));
      await viewer.more(3);
      expect(viewer.ws.readyState).toBe(viewer.ws.OPEN);
      // Unknown control types are ignored (newer pages, older servers).
      viewer.ws.send(JSON.stringify({ type: 'hello-from-the-future' }));
      await viewer.more(2);
      expect(viewer.ws.readyState).toBe(viewer.ws.OPEN);
      await viewer.close();
    });
  });

  describe('upgrade checks', () => {
    it.each(['/nope', '/stream/x', '/streams', '/index.html'])('answers an upgrade to %s with 404', async (path) => {
      expect(await refusedStatus(`${base}${path}`)).toBe(404);
    });

    it('refuses an Origin from another site with 403', async () => {
      expect(await refusedStatus(`${base}/stream`, { origin: 'https://evil.example' })).toBe(403);
      expect(await refusedStatus(`${base}/legacy`, { origin: `http://127.0.0.1:${running.port + 1}` })).toBe(403);
      expect(await refusedStatus(`${base}/stream`, { origin: 'null' })).toBe(403);
    });

    it('accepts the same origin, and clients that send no Origin', async () => {
      const sameOrigin = await open('/stream', { origin: `http://127.0.0.1:${running.port}` });
      const noOrigin = await open('/stream');
      const [[fromSame], [fromNone]] = await Promise.all([sameOrigin.received(1), noOrigin.received(1)]);
      // Let in, and streamed to from a keyframe like any viewer.
      expect(isKeyframe(fromSame!)).toBe(true);
      expect(isKeyframe(fromNone!)).toBe(true);
      await Promise.all([sameOrigin.close(), noOrigin.close()]);
      expect([(await sameOrigin.closed).code, (await noOrigin.closed).code]).toEqual([1000, 1000]);
    });
  });
});

describe('WebSockets through the plugin on a host app’s server', () => {
  let server: Hapi.Server;
  let base: string;
  const clients: WsClient[] = [];
  const open = async (path: string, options: Parameters<typeof connect>[1] = {}): Promise<WsClient> => {
    const client = await connect(`${base}${path}`, options);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({
      plugin: pistreamPlugin,
      options: { hub: standInHub(), maxViewers: 1, heartbeatMs: 100, formats: ['mpegts'], allowOrigins: ['https://embed.example'] },
    });
    await server.start();
    base = `ws://127.0.0.1:${server.info.port}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  });

  const viewerCount = (): number => server.plugins.pistream.viewers.viewers.size;

  it('closes viewers beyond maxViewers with 1013, and takes a new one once a place is free', async () => {
    const first = await open('/stream');
    await first.received(1);
    const second = await open('/stream');
    expect((await second.closed).code).toBe(1013);
    expect(second.messages).toHaveLength(0);
    expect(viewerCount()).toBe(1);

    await first.close();
    await waitFor(() => viewerCount() === 0, 'the first viewer to leave');
    const third = await open('/stream');
    await third.received(2);
    await third.close();
    await waitFor(() => viewerCount() === 0, 'the third viewer to leave');
  });

  it('does not serve /legacy when formats leaves jsmp out', async () => {
    expect(await refusedStatus(`${base}/legacy`)).toBe(404);
  });

  it('accepts an origin from allowOrigins', async () => {
    const viewer = await open('/stream', { origin: 'https://embed.example' });
    const [first] = await viewer.received(1);
    expect(viewerCount()).toBe(1);
    expect([...first!.subarray(0, 3)]).toEqual([0x47, 0x40, 0x00]); // the PAT that starts every keyframe
    await viewer.close();
    await waitFor(() => viewerCount() === 0, 'the viewer to leave');
  });

  it('terminates a viewer that stops answering pings, keeps one that answers', async () => {
    const silent = await open('/stream', { autoPong: false });
    // Dropped without a closing handshake: the client sees an abnormal closure.
    expect((await silent.closed).code).toBe(1006);
    expect(silent.pings).toBeGreaterThanOrEqual(1);
    await waitFor(() => viewerCount() === 0, 'the silent viewer to be gone');

    const alive = await open('/stream');
    let answered = 0;
    await new Promise<void>((resolve) => alive.ws.on('ping', () => ++answered === 3 && resolve()));
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    await alive.close();
  });
});
