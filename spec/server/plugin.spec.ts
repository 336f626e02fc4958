import Hapi from '@hapi/hapi';
import { firstValueFrom, map, NEVER } from 'rxjs';
import { createHub, type Hub } from '../../src/hub';
import { pistreamPlugin, type PistreamPluginOptions } from '../../src/server/plugin';
import { testPattern } from '../../src/sources/test-pattern';
import { pic } from '../helpers/pictures';

const ENCODER = { width: 640, height: 480, fps: 24 } as const;

/** A hub over the test pattern with a stand-in encoder (a keyframe per frame): real timing, no ffmpeg. */
function standInHub(): Hub {
  return createHub({
    source: testPattern(ENCODER),
    encoder: ENCODER,
    encode: map((frame) => ({ ...pic('I', frame.seq), capturedAt: frame.capturedAt })),
    graceMs: 0,
  });
}

async function register(options: unknown): Promise<Hapi.Server> {
  const server = Hapi.server();
  await server.register({ plugin: pistreamPlugin, options: options as PistreamPluginOptions });
  return server;
}

describe('pistreamPlugin option validation', () => {
  it('rejects registration with neither source nor hub, naming both', async () => {
    await expect(register({})).rejects.toThrow('pistream plugin options: pistream plugin needs either source or hub');
  });

  it('rejects registration without options at all', async () => {
    const server = Hapi.server();
    await expect(server.register(pistreamPlugin as Hapi.Plugin<unknown>)).rejects.toThrow(/needs either source or hub/);
  });

  it('rejects source and hub together', async () => {
    await expect(register({ source: NEVER, encoder: ENCODER, hub: standInHub() })).rejects.toThrow(
      /pistream plugin options: .*source.*hub/,
    );
  });

  it('rejects a source without encoder settings, naming encoder', async () => {
    await expect(register({ source: NEVER })).rejects.toThrow('pistream plugin options: "encoder" is required');
    await expect(register({ source: { kind: 'test' } })).rejects.toThrow('"encoder" is required');
  });

  it('rejects a source that is neither an Observable nor a source spec', async () => {
    await expect(register({ source: 'camera', encoder: ENCODER })).rejects.toThrow(/pistream plugin options: "source"/);
    await expect(register({ source: { kind: 'webcam' }, encoder: ENCODER })).rejects.toThrow(/"source"/);
  });

  it('rejects a hub that is not one', async () => {
    await expect(register({ hub: {} })).rejects.toThrow(/"hub.pictures\$" is required/);
  });

  it.each([
    [{ highWaterMark: 100 }, /"highWaterMark" must be greater than or equal to 1024/],
    [{ highWaterMark: 'lots' }, /"highWaterMark" must be a number/],
    [{ highWaterMark: 2048.5 }, /"highWaterMark" must be an integer/],
    [{ maxViewers: 0 }, /"maxViewers" must be greater than or equal to 1/],
    [{ heartbeatMs: -1 }, /"heartbeatMs" must be greater than or equal to 0/],
    [{ graceMs: -5 }, /"graceMs"/],
    [{ allowOrigins: 'https://a.example' }, /"allowOrigins" must be an array/],
    [{ legacy: 'maybe' }, /"legacy" must be a boolean/],
    [{ camera: true }, /"camera" is not allowed/],
  ])('rejects %j with a message naming the option', async (bad, message) => {
    await expect(register({ hub: standInHub(), ...bad })).rejects.toThrow(message);
  });

  it.each([
    [{ width: 641 }, /"encoder.width" must be a multiple of 2/],
    [{ fps: 0 }, /"encoder.fps" must be greater than or equal to 1/],
    [{ bitrate: 1 }, /"encoder.bitrate"/],
  ])('rejects encoder settings %j, naming the key', async (bad, message) => {
    await expect(register({ source: NEVER, encoder: { ...ENCODER, ...bad } })).rejects.toThrow(message);
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
