import { parseConfig } from '../../src/config/command-line';
import { trustProxy } from '../../src/options/client-address';
import { requestSerializer, startServer, type RunningServer } from '../../src/server/start-server';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';
import { connect, type WsClient } from '../helpers/ws-client';

// One server for the whole file, taken through its life in order: idle, watched, left, watched again, stopped.
describe('startServer() with the test pattern', () => {
  let running: RunningServer;
  let baseline: Set<number>;
  const clients: WsClient[] = [];
  const ourFfmpeg = (): number[] => ffmpegChildren().filter((pid) => !baseline.has(pid));
  const open = async (url: string): Promise<WsClient> => {
    const client = await connect(url);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    baseline = new Set(ffmpegChildren());
    const config = parseConfig(
      ['--source', 'test', '--port', '0', '--host', '127.0.0.1', '--legacy-port', '0', '--grace', '0', '--log-level', 'silent'],
      {},
    );
    running = await startServer(config);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await running?.stop();
    await waitFor(() => ourFfmpeg().length === 0, 'ffmpeg to exit');
  });

  it('tells where it listens', () => {
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}/`);
    expect(running.legacyPort).toBeGreaterThan(0);
    expect(running.legacyPort).not.toBe(running.port);
    expect(running.server.info.port).toBe(running.port);
  });

  it('serves the page and /healthz over HTTP, idle before anyone watches, with nothing running', async () => {
    const page = await fetch(running.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain(`ws://127.0.0.1:${running.port}`);
    await page.text();

    const health = await fetch(`${running.url}healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'idle', running: false, viewers: 0 });
    expect(running.hub.stats.running).toBe(false);
    expect(ourFfmpeg()).toEqual([]);
  });

  it('starts the encoder for the first viewer and stops it when the last leaves (grace 0)', async () => {
    const viewer = await open(`ws://127.0.0.1:${running.port}/stream`);
    await viewer.received(2);
    expect(running.hub.stats.running).toBe(true);
    expect(ourFfmpeg()).toHaveLength(1);

    const health = await fetch(`${running.url}healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', running: true, viewers: 1 });

    await viewer.close();
    await waitFor(() => !running.hub.stats.running, 'the pipeline to stop');
    await waitFor(() => ourFfmpeg().length === 0, 'ffmpeg to exit');
  });

  it('stop() closes every viewer with 1001, resolves, and leaves no ffmpeg behind', async () => {
    const stream = await open(`ws://127.0.0.1:${running.port}/stream`);
    const legacy = await open(`ws://127.0.0.1:${running.legacyPort}/`);
    await Promise.all([stream.received(2), legacy.received(2)]);
    const encoders = ourFfmpeg();
    expect(encoders).toHaveLength(1);

    await running.stop();
    expect((await stream.closed).code).toBe(1001);
    expect((await legacy.closed).code).toBe(1001);
    expect(running.hub.stats.running).toBe(false);
    await waitFor(() => ourFfmpeg().length === 0, `ffmpeg ${encoders.join(', ')} to exit`);

    // Idempotent, and nothing listens any more.
    await expect(running.stop()).resolves.toBeUndefined();
    await expect(connect(`ws://127.0.0.1:${running.port}/stream`)).rejects.toThrow(/ECONNREFUSED/);
    await expect(connect(`ws://127.0.0.1:${running.legacyPort}/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('startServer() without a legacy port', () => {
  it('has no legacyPort, and stops cleanly with nobody connected', async () => {
    const config = parseConfig(['--source', 'test', '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent'], {});
    const running = await startServer(config);
    try {
      expect(running.legacyPort).toBeUndefined();
      expect(running.hub.stats.running).toBe(false);
    } finally {
      await running.stop();
    }
    expect(running.hub.stats.running).toBe(false);
  });
});

describe('request log serializer', () => {
  const serialize = requestSerializer(trustProxy(['loopback']));
  it('names the forwarded client behind a trusted proxy, and only there', () => {
    const headers = { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' };
    expect(serialize({ remoteAddress: '127.0.0.1', headers, url: '/' })).toMatchObject({ remoteAddress: '203.0.113.9' });
    expect(serialize({ remoteAddress: '192.0.2.5', headers, url: '/' })).toMatchObject({ remoteAddress: '192.0.2.5' });
  });

  it('never logs a token or credentials', () => {
    const logged = serialize({
      remoteAddress: '127.0.0.1',
      url: '/stream?a=1&token=sekret-token',
      headers: { authorization: 'Bearer sekret-token', cookie: 'sid=sekret-token' },
    });
    expect(logged).toMatchObject({ url: '/stream?a=1&token=[redacted]', headers: { authorization: '[redacted]', cookie: '[redacted]' } });
    expect(JSON.stringify(logged)).not.toContain('sekret-token');
  });
});
