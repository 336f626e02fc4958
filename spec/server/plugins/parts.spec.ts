import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import { pistreamPlugin } from '../../../src/server/plugin';
import { pistreamCore } from '../../../src/server/plugins/core-plugin';
import { pistreamMonitoring } from '../../../src/server/plugins/monitoring-plugin';
import { pistreamPages } from '../../../src/server/plugins/pages-plugin';
import { CORE, MONITORING, PAGES, PUBLISHING, RECORDINGS, SNAPSHOTS, VIEWERS, WEBRTC } from '../../../src/server/plugins/plugin-names';
import { pistreamPublishing } from '../../../src/server/plugins/publishing-plugin';
import { pistreamRecordings } from '../../../src/server/plugins/recordings-plugin';
import { pistreamSnapshots } from '../../../src/server/plugins/snapshots-plugin';
import { pistreamViewers } from '../../../src/server/plugins/viewers-plugin';
import { ffmpegChildren, waitFor } from '../../helpers/child-processes';
import { standInHub } from '../../helpers/stand-in-hub';
import { connect } from '../../helpers/ws-client';

const ENCODER = { width: 320, height: 240, fps: 24, gop: 24 };
/** pistream's plugins among a server's registrations (inert is one too). */
const ours = (server: Hapi.Server): string[] =>
  Object.keys(server.registrations)
    .filter((name) => name.startsWith('pistream'))
    .sort();
const PARTS = [
  [VIEWERS, pistreamViewers],
  [PAGES, pistreamPages],
  [MONITORING, pistreamMonitoring],
  [SNAPSHOTS, pistreamSnapshots],
  [RECORDINGS, pistreamRecordings],
  [PUBLISHING, pistreamPublishing],
] as const;

describe('the parts of the pistream server, as hapi plugins', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-parts-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(PARTS)('%s without the core fails registration at once, in hapi’s words', async (name, part) => {
    const server = Hapi.server();
    expect(part).toMatchObject({ name, dependencies: [CORE] });
    await expect(server.register(part)).rejects.toThrow(`Plugin ${name} missing dependency ${CORE}`);
  });

  it('says what hapi itself says of a missing dependency at initialize', async () => {
    const server = Hapi.server();
    await server.register({ name: 'needs-core', dependencies: [CORE], register: () => undefined });
    await expect(server.initialize()).rejects.toThrow(`Plugin needs-core missing dependency ${CORE}`);
  });

  it('refuses the recordings and publishing parts when the core was given no record or publish option', async () => {
    const server = Hapi.server();
    await server.register({ plugin: pistreamCore, options: { hub: standInHub(), heartbeatMs: 0 } });
    await expect(server.register(pistreamRecordings)).rejects.toThrow(`Plugin ${RECORDINGS} needs the record option of ${CORE}`);
    await expect(server.register(pistreamPublishing)).rejects.toThrow(
      `Plugin ${PUBLISHING} needs publish targets in the options of ${CORE}`,
    );
    await server.stop();
  });

  it('the top plugin registers the core and every part the options ask for', async () => {
    const server = Hapi.server();
    await server.register({
      plugin: pistreamPlugin,
      options: {
        source: { kind: 'test' },
        codec: 'h264',
        encoder: ENCODER,
        heartbeatMs: 0,
        record: { dir: join(dir, 'all') },
        publish: ['rtmp://127.0.0.1:9/live/key'],
      },
    });
    expect(ours(server)).toEqual(['pistream', CORE, MONITORING, PAGES, PUBLISHING, RECORDINGS, SNAPSHOTS, VIEWERS, WEBRTC].sort());
    const api = server.plugins.pistream;
    expect(api.hub).toBe(server.plugins[CORE].hub);
    expect(api.viewers).toBe(server.plugins[VIEWERS].viewers);
    expect(api.recorder).toBe(server.plugins[RECORDINGS].recorder);
    expect(api.publishers).toBe(server.plugins[PUBLISHING].publishers);
    expect(api.snapshots).toBe(server.plugins[SNAPSHOTS].snapshots);
    await server.stop();
  });

  it('the top plugin leaves out the pages, recordings and publishing when the options do', async () => {
    const server = Hapi.server();
    await server.register({ plugin: pistreamPlugin, options: { hub: standInHub(), heartbeatMs: 0, pages: false } });
    expect(ours(server)).toEqual(['pistream', CORE, MONITORING, SNAPSHOTS, VIEWERS, WEBRTC].sort());
    expect(server.plugins.pistream.recorder).toBeUndefined();
    expect(server.plugins.pistream.publishers).toEqual([]);
    await server.stop();
  });

  it('a host app registers only the parts it wants, under its prefix: the streams and /healthz, no page, no snapshot', async () => {
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({ plugin: pistreamCore, options: { hub: standInHub(), heartbeatMs: 0 } }, { routes: { prefix: '/cam' } });
    await server.register([pistreamViewers, pistreamMonitoring], { routes: { prefix: '/cam' } });
    await server.start();
    try {
      expect((await server.inject('/cam/healthz')).statusCode).toBe(200);
      expect((await server.inject('/cam/stream')).statusCode).toBe(426);
      expect((await server.inject('/cam/')).statusCode).toBe(404);
      expect((await server.inject('/cam/snapshot.jpg')).statusCode).toBe(404);
      // Every part's responses carry the security headers, each part adding them to its own routes.
      expect((await server.inject('/cam/healthz')).headers['content-security-policy']).toContain("default-src 'self'");
      expect((await server.inject('/cam/stream')).headers['x-content-type-options']).toBe('nosniff');
      const viewer = await connect(`ws://127.0.0.1:${server.info.port}/cam/stream`);
      await viewer.received(1);
      expect(JSON.parse((await server.inject('/cam/healthz')).payload)).toMatchObject({ viewers: 1 });
      await server.stop();
      expect((await viewer.closed).code).toBe(1001);
      expect(server.listener.listenerCount('upgrade')).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('stop runs each part’s stop in order (viewers, recorder and publishers, hub) and leaves no ffmpeg behind', async () => {
    const baseline = new Set(ffmpegChildren());
    const ourFfmpegs = (): number[] => ffmpegChildren().filter((pid) => !baseline.has(pid));
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({
      plugin: pistreamPlugin,
      options: {
        source: { kind: 'test' },
        codec: 'h264',
        encoder: ENCODER,
        heartbeatMs: 0,
        record: { dir: join(dir, 'stop') },
        publish: ['rtmp://127.0.0.1:9/live/key'],
        restart: { initialDelayMs: 50, maxDelayMs: 50 },
      },
    });
    const api = server.plugins.pistream;
    const order: string[] = [];
    const spy = <T extends object>(object: T, method: keyof T & string, name: string) => {
      const original = (object[method] as (...args: unknown[]) => unknown).bind(object);
      jest.spyOn(object as Record<string, (...args: unknown[]) => unknown>, method).mockImplementation((...args: unknown[]) => {
        order.push(name);
        return original(...args);
      });
    };
    spy(api.viewers, 'close', 'viewers closed');
    spy(api.recorder!, 'stop', 'recorder stopped');
    spy(api.publishers[0]!, 'stop', 'publisher stopped');
    spy(api.hub, 'close', 'hub closed');
    await server.start();
    const viewer = await connect(`ws://127.0.0.1:${server.info.port}/h264`);
    await viewer.received(2);
    await waitFor(() => ourFfmpegs().length >= 2, 'the encoder and a publisher’s ffmpeg to run');
    await server.stop();
    expect(order).toEqual(['viewers closed', 'recorder stopped', 'publisher stopped', 'hub closed']);
    expect((await viewer.closed).code).toBe(1001);
    expect(api.hub.stats.running).toBe(false);
    // At the moment stop() resolves, not soon after: the core's onPostStop waited for every child.
    expect(ourFfmpegs()).toEqual([]);
  });
});
