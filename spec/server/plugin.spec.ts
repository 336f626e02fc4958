import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import { firstValueFrom, NEVER } from 'rxjs';
import { validatePluginOptions } from '../../src/options/plugin-options';
import { PluginOptionsError } from '../../src/options/plugin-options-error';
import { probeFfmpeg, resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { lifecycleText, pistreamPlugin, type PistreamPluginOptions } from '../../src/server/plugin';
import { SourceCheckError } from '../../src/sources/check-source';
import { testPattern } from '../../src/sources/test-pattern';
import { connect } from '../helpers/ws-client';
import { standInHub } from '../helpers/stand-in-hub';

const ENCODER = { width: 640, height: 480, fps: 24 } as const;

async function register(options: unknown): Promise<Hapi.Server> {
  const server = Hapi.server();
  await server.register({ plugin: pistreamPlugin, options: options as PistreamPluginOptions });
  return server;
}

describe('pistreamPlugin option validation', () => {
  it('rejects registration with neither source nor hub, naming both', async () => {
    await expect(register({})).rejects.toThrow('pistream plugin options: needs either source or hub');
  });

  it('rejects registration without options at all', async () => {
    const server = Hapi.server();
    await expect(server.register(pistreamPlugin as Hapi.Plugin<unknown>)).rejects.toThrow(/needs either source or hub/);
  });

  it('rejects source and hub together', async () => {
    await expect(register({ source: NEVER, encoder: ENCODER, hub: standInHub() })).rejects.toThrow(
      'pistream plugin options: takes source or hub, not both',
    );
  });

  it('rejects a source without encoder settings, naming encoder', async () => {
    await expect(register({ source: NEVER })).rejects.toThrow('pistream plugin options: encoder is required');
    await expect(register({ source: { kind: 'test' } })).rejects.toThrow('encoder is required');
  });

  it('rejects a source that is neither an Observable nor a source spec', async () => {
    await expect(register({ source: 'camera', encoder: ENCODER })).rejects.toThrow(/pistream plugin options: source /);
    await expect(register({ source: { kind: 'webcam' }, encoder: ENCODER })).rejects.toThrow(/source/);
  });

  it('rejects a hub that is not one', async () => {
    await expect(register({ hub: {} })).rejects.toThrow(/hub.pictures\$ is required/);
  });

  it.each([
    [{ highWaterMark: 100 }, 'highWaterMark must be a whole number of bytes from 1024 to 1073741824'],
    [{ highWaterMark: 'lots' }, 'highWaterMark must be a whole number of bytes'],
    [{ highWaterMark: 2048.5 }, 'highWaterMark must be a whole number of bytes'],
    [{ maxViewers: 0 }, 'maxViewers must be a whole number from 1 to 100000'],
    [{ heartbeatMs: -1 }, 'heartbeatMs must be a whole number of ms from 0 (off) to 3600000'],
    [{ graceMs: -5 }, 'graceMs must be a whole number of ms from 0 to 86400000'],
    [{ maxLagMs: 60_001 }, 'maxLagMs must be a whole number of ms from 0 to 60000'],
    [{ allowOrigins: 'https://a.example' }, 'allowOrigins must be an array'],
    [{ formats: ['hls'] }, 'formats.0 must be a list of wire format ids: mpegts, jsmp, h264'],
    [{ codec: 'h265' }, 'codec must be mpeg1 or h264, or a Codec value'],
    [{ formats: ['h264'] }, 'formats cannot include h264: it does not carry MPEG-1'],
    [{ legacyListener: { port: 70000 } }, 'legacyListener.port must be a whole number from 0 to 65535'],
    [{ camera: true }, 'camera is not allowed'],
    [{ formats: ['mpegts'], legacyListener: { port: 0 } }, 'legacyListener.port needs the jsmp format among formats'],
  ])('rejects %j with a message naming the option', async (bad, message) => {
    const error = await register({ hub: standInHub(), ...bad }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(PluginOptionsError);
    expect((error as Error).message).toContain(`pistream plugin options: ${message}`);
  });

  // The codec's own schema checks encoder settings: the same rule the encoder and the CLI use.
  it.each([
    [{ width: 641 }, 'encoder.width must be an even whole number from 2 to 4094'],
    [{ fps: 0 }, "encoder.fps must be one of MPEG-1's frame rates"],
    [{ fps: 15 }, "encoder.fps must be one of MPEG-1's frame rates"],
    [{ bitrate: 1 }, 'encoder.bitrate must be a whole number of kbit/s from 16 to 100000'],
    [{ bitrate: 900, quality: 4 }, 'encoder bitrate and quality cannot be used together'],
  ])('rejects encoder settings %j, naming the key', async (bad, message) => {
    await expect(register({ source: NEVER, encoder: { ...ENCODER, ...bad } })).rejects.toThrow(`pistream plugin options: ${message}`);
  });

  it('takes a test source narrower than its barcode (the pattern leaves the barcode out)', async () => {
    const server = await register({ source: { kind: 'test' }, encoder: { ...ENCODER, width: 320, height: 240 } });
    expect(server.plugins.pistream.hub.width).toBe(320);
    await server.stop(); // its heartbeat timer
    expect(validatePluginOptions({ source: { kind: 'test' }, encoder: { ...ENCODER, width: 2, height: 2 } }).encoder).toMatchObject({
      width: 2,
    });
  });

  it('gives the validated options with the defaults and exact rates', () => {
    const valid = validatePluginOptions({ source: { kind: 'test' }, encoder: { ...ENCODER, fps: 29.97 } });
    expect(valid.encoder?.fps).toBe(30000 / 1001);
    expect(valid.codec.id).toBe('mpeg1');
    expect(valid.formats.map((f) => f.id)).toEqual(['mpegts', 'jsmp']);
    expect(valid).toMatchObject({
      graceMs: 5000,
      maxLagMs: 500,
      maxViewers: 100,
      heartbeatMs: 15_000,
      upgradeRate: { perSecond: 5, burst: 20 },
    });
  });
});

describe('pistreamPlugin registration', () => {
  const servers: Hapi.Server[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });
  async function registered(options: PistreamPluginOptions, prefix?: string): Promise<Hapi.Server> {
    const server = Hapi.server();
    servers.push(server);
    await server.register({ plugin: pistreamPlugin, options }, prefix ? { routes: { prefix } } : {});
    return server;
  }

  it('exposes the hub, the viewers and the source it opened', async () => {
    const hub = standInHub();
    const server = await registered({ hub });
    expect(server.plugins.pistream.hub).toBe(hub);
    expect(server.plugins.pistream.viewers.viewers.size).toBe(0);
    expect(server.plugins.pistream.source).toEqual({ kind: 'hub', reasons: [] });
  });

  it('opens a configured source (the test pattern), starting nothing yet', async () => {
    const server = await registered({ source: { kind: 'test' }, encoder: ENCODER });
    const { hub, source } = server.plugins.pistream;
    expect(source.kind).toBe('test');
    expect(hub.width).toBe(640);
    expect(hub.height).toBe(480);
    expect(hub.stats.running).toBe(false);
  });

  it('takes any Observable<Frame> as the source', async () => {
    const server = await registered({ source: testPattern(ENCODER), encoder: ENCODER });
    expect(server.plugins.pistream.source.kind).toBe('observable');
  });

  it('serves no pages with pages: false, but still /healthz', async () => {
    const server = await registered({ hub: standInHub(), pages: false });
    expect((await server.inject('/')).statusCode).toBe(404);
    expect((await server.inject('/viewer.js')).statusCode).toBe(404);
    expect((await server.inject('/healthz')).statusCode).toBe(200);
  });

  it('routes live under the prefix', async () => {
    const server = await registered({ hub: standInHub() }, '/cam');
    expect((await server.inject('/cam/healthz')).statusCode).toBe(200);
    expect((await server.inject('/healthz')).statusCode).toBe(404);
  });

  it('leaves the host app’s own routes alone', async () => {
    const server = Hapi.server();
    servers.push(server);
    server.route({ method: 'GET', path: '/api/status', handler: () => ({ fine: true }) });
    await server.register({ plugin: pistreamPlugin, options: { hub: standInHub() } }, { routes: { prefix: '/cam' } });
    const res = await server.inject('/api/status');
    expect(res.result).toEqual({ fine: true });
    // The plugin's CSP belongs to the plugin's responses only.
    expect(res.headers['content-security-policy']).toBeUndefined();
  });
});

describe('pistreamPlugin start-up checks (a host app gets what the CLI gets)', () => {
  let dir: string;
  let clip: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-plugin-'));
    clip = join(dir, 'clip.mpg');
    writeFileSync(clip, 'stands in for a video: nothing plays it before a viewer comes');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails registration, before anything streams, for a missing file, device or ffmpeg', async () => {
    const missing = join(dir, 'missing.mp4');
    await expect(register({ source: { kind: 'file', path: missing }, encoder: ENCODER })).rejects.toThrow(
      new SourceCheckError('source', `file:${missing}`, 'no such file'),
    );
    const device = join(dir, 'video7');
    const err = await register({ source: { kind: 'v4l2', device }, encoder: ENCODER }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SourceCheckError);
    expect((err as Error).message).toBe(`pistream: source v4l2:${device}: no such device (ls /dev/video* lists them)`);
    // The encoder's ffmpeg, whatever the source (an Observable of the host's too).
    const ffmpeg = join(dir, 'no-ffmpeg');
    for (const source of [{ kind: 'test' }, testPattern(ENCODER)]) {
      await expect(register({ source, encoder: { ...ENCODER, ffmpeg } })).rejects.toThrow(
        `pistream: encoder.ffmpeg ${ffmpeg}: no such file`,
      );
    }
  });

  /** Registers, starts (the startup lines come in onPostStart) and stops a server; gives the plugin's log lines. */
  async function startupLines(options: PistreamPluginOptions): Promise<{ msg: string; data: Record<string, unknown> }[]> {
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    const lines: { msg: string; data: Record<string, unknown> }[] = [];
    server.events.on('log', (event) => {
      const data = event.data as { msg?: string } | undefined;
      if (event.tags.includes('pistream') && data?.msg) lines.push({ msg: data.msg, data: data as Record<string, unknown> });
    });
    await server.register({ plugin: pistreamPlugin, options: { heartbeatMs: 0, ...options } });
    await server.start();
    await server.stop();
    return lines;
  }

  it('names in its Source line what the source reads and which ffmpeg runs: path, how it was found, version', async () => {
    const { path, origin } = resolveFfmpeg();
    const { version } = await probeFfmpeg(path);
    // Whichever ffmpeg this machine (or PISTREAM_FFMPEG) gives the run.
    const how = { env: 'from PISTREAM_FFMPEG', path: 'found on PATH', '@ffmpeg-installer/ffmpeg': 'the bundled @ffmpeg-installer/ffmpeg' }[
      origin as string
    ];
    const lines = await startupLines({ source: { kind: 'file', path: clip }, encoder: ENCODER });
    const line = lines.find((l) => l.msg.startsWith('Source:'));
    expect(line?.msg).toBe(`Source: video file ${clip}; ffmpeg ${version} at ${path} (${how})`);
    expect(line?.data).toMatchObject({ source: 'file', target: clip, ffmpeg: { path, origin, version } });

    const given = await startupLines({ source: { kind: 'v4l2', device: '/dev/null' }, encoder: { ...ENCODER, ffmpeg: path } });
    expect(given.find((l) => l.msg.startsWith('Source:'))?.msg).toBe(
      `Source: v4l2 /dev/null; ffmpeg ${version} at ${path} (from --ffmpeg/PISTREAM_FFMPEG, the encoder.ffmpeg option)`,
    );
  });

  it('says once when the test pattern is too small for its barcode, so the page shows no latency figure', async () => {
    const small = await startupLines({ source: { kind: 'test' }, encoder: { ...ENCODER, width: 320, height: 480 } });
    expect(small.filter((l) => l.msg.includes('barcode')).map((l) => l.msg)).toEqual([
      'Test pattern at 320x480, without its barcode (it needs at least 512x32): the page shows no latency figure (it reads the barcode)',
    ]);
    const full = await startupLines({ source: { kind: 'test' }, encoder: ENCODER });
    expect(full.some((l) => l.msg.includes('barcode'))).toBe(false);
  });

  it('says once whether the source runs all the time, and why: recording keeps it on, and no line says otherwise', async () => {
    const lines = (await startupLines({ source: { kind: 'test' }, encoder: ENCODER, record: { dir: join(dir, 'rec') } })).map((l) => l.msg);
    expect(lines.filter((l) => /always on|on demand/.test(l))).toEqual([
      'Encoding MPEG-1 640x480 at 24 fps, 800 kbit/s, GOP 24; source always on (recording)',
    ]);
    expect(lines.filter((l) => l.startsWith('Recording to'))).toEqual([`Recording to ${join(dir, 'rec')} in 60 s segments`]);
  });
});

describe('lifecycleText', () => {
  it('says on demand with the grace period when nothing keeps the source on, else always on and every reason', () => {
    const none = { alwaysOn: false, recording: false, publishing: false };
    expect(lifecycleText('camera', 5000, none)).toBe('camera on demand (stops 5 s after the last viewer)');
    expect(lifecycleText('source', 2500, none)).toBe('source on demand (stops 2.5 s after the last viewer)');
    expect(lifecycleText('camera', 5000, { ...none, publishing: true })).toBe('camera always on (publishing)');
    expect(lifecycleText('camera', 5000, { alwaysOn: true, recording: true, publishing: true })).toBe(
      'camera always on (as asked, recording, publishing)',
    );
  });
});

describe('pistreamPlugin lifecycle', () => {
  it('with alwaysOn runs the pipeline from start to stop, without viewers', async () => {
    const hub = standInHub();
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({ plugin: pistreamPlugin, options: { hub, alwaysOn: true, heartbeatMs: 0 } });
    expect(hub.stats.running).toBe(false);
    await server.start();
    expect(hub.stats.running).toBe(true);
    await server.stop();
    expect(hub.stats.running).toBe(false);
  });

  it('is on demand by default: nothing runs after start', async () => {
    const hub = standInHub();
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({ plugin: pistreamPlugin, options: { hub, heartbeatMs: 0 } });
    await server.start();
    expect(hub.stats.running).toBe(false);
    await server.stop();
  });

  it('stops the hub in onPreStop: subscribers complete and the pipeline stops', async () => {
    const hub = standInHub();
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({ plugin: pistreamPlugin, options: { hub, heartbeatMs: 0 } });
    await server.start();
    let completed = false;
    const first = firstValueFrom(hub.pictures$);
    const subscription = hub.pictures$.subscribe({ complete: () => (completed = true) });
    await first;
    expect(hub.stats.running).toBe(true);
    await server.stop();
    expect(completed).toBe(true);
    expect(hub.stats.running).toBe(false);
    subscription.unsubscribe();
  });

  it('takes its upgrade listener off the HTTP server on stop', async () => {
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({ plugin: pistreamPlugin, options: { hub: standInHub(), heartbeatMs: 0 } });
    expect(server.listener.listenerCount('upgrade')).toBe(1);
    await server.start();
    await server.stop();
    expect(server.listener.listenerCount('upgrade')).toBe(0);
  });
});

describe('HTTP answers that teach (server.inject)', () => {
  const servers: Hapi.Server[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });
  async function registered(options: Partial<PistreamPluginOptions> = {}, prefix?: string): Promise<Hapi.Server> {
    const server = Hapi.server();
    servers.push(server);
    await server.register(
      { plugin: pistreamPlugin, options: { hub: standInHub(), heartbeatMs: 0, ...options } },
      prefix ? { routes: { prefix } } : {},
    );
    return server;
  }

  it.each([
    ['/stream', 'MPEG-TS (JSMpeg)'],
    ['/legacy', 'jsmp (original pistreaming)'],
  ])('GET %s without an upgrade: 426, Upgrade: websocket, one line saying what it is and where the page is', async (path, label) => {
    const server = await registered();
    const res = await server.inject(path);
    expect(res.statusCode).toBe(426);
    expect(res.headers.upgrade).toBe('websocket');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.payload).toBe(`${path} is a WebSocket stream, ${label}, not a page: open / in a browser to watch it\n`);
    const head = await server.inject({ method: 'HEAD', url: path });
    expect(head.statusCode).toBe(426);
    expect(head.headers.upgrade).toBe('websocket');
  });

  it('under a route prefix, names the page there; without pages, says to use a WebSocket client', async () => {
    const prefixed = await registered({}, '/cam');
    expect((await prefixed.inject('/cam/stream')).payload).toMatch(
      /^\/cam\/stream is a WebSocket stream, .*: open \/cam\/ in a browser to watch it\n$/,
    );
    expect((await prefixed.inject('/stream')).statusCode).toBe(404);
    const pageless = await registered({ pages: false });
    const res = await pageless.inject('/stream');
    expect(res.statusCode).toBe(426);
    expect(res.payload).toBe('/stream is a WebSocket stream, MPEG-TS (JSMpeg), not a page: connect to it with a WebSocket client\n');
  });

  it('answers only for the formats it serves', async () => {
    const server = await registered({ formats: ['mpegts'], pages: false });
    expect((await server.inject('/stream')).statusCode).toBe(426);
    expect((await server.inject('/legacy')).statusCode).toBe(404);
  });

  it.each([
    [{}, undefined],
    [{ pages: false }, undefined],
    [{}, '/cam'],
  ])('other methods on every known path (options %j, prefix %s): 405 with Allow: GET, HEAD', async (options, prefix) => {
    const server = await registered(options, prefix);
    for (const path of ['/healthz', '/metrics', '/stream', '/legacy']) {
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const res = await server.inject({ method, url: `${prefix ?? ''}${path}`, payload: method === 'DELETE' ? undefined : '{"a":' });
        expect([path, method, res.statusCode]).toEqual([path, method, 405]);
        expect(res.headers.allow).toBe('GET, HEAD');
      }
    }
  });

  it('auth guards the new answers as it guards the paths: 401 without credentials, then 426 or 405', async () => {
    const token = 'sekret-token-1';
    const server = await registered({ auth: { token } });
    for (const [method, url] of [
      ['GET', '/stream'],
      ['POST', '/stream'],
      ['POST', '/healthz'],
      ['POST', '/metrics'],
      ['GET', '/healthz'],
    ]) {
      expect([method, url, (await server.inject({ method: method!, url: url! })).statusCode]).toEqual([method, url, 401]);
    }
    const authorization = `Bearer ${token}`;
    expect((await server.inject({ url: '/stream', headers: { authorization } })).statusCode).toBe(426);
    expect((await server.inject({ method: 'POST', url: '/healthz', headers: { authorization } })).statusCode).toBe(405);
    // With publicHealth the monitor paths are open, their 405 too; the streams stay guarded.
    const open = await registered({ auth: { token }, publicHealth: true });
    expect((await open.inject({ method: 'POST', url: '/metrics' })).statusCode).toBe(405);
    expect((await open.inject('/stream')).statusCode).toBe(401);
  });

  it('a real upgrade on the same path still gets the stream (the route never sees it)', async () => {
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({ plugin: pistreamPlugin, options: { hub: standInHub(), heartbeatMs: 0 } });
    await server.start();
    try {
      const page = await fetch(`http://127.0.0.1:${server.info.port}/stream`);
      expect(page.status).toBe(426);
      await page.text();
      const viewer = await connect(`ws://127.0.0.1:${server.info.port}/stream`);
      await viewer.received(1);
      await viewer.close();
    } finally {
      await server.stop();
    }
  });
});
