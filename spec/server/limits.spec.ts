import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import { parseConfig } from '../../src/config/command-line';
import { validatePluginOptions } from '../../src/options/plugin-options';
import { pistreamPlugin } from '../../src/server/plugin';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';
import { connect, refusedStatus, type WsClient } from '../helpers/ws-client';
import { standInHub } from '../helpers/stand-in-hub';

const ROOT = join(__dirname, '..', '..');

describe('limit flags', () => {
  it('default to 100 viewers, 10 s for headers, 5 upgrades a second per address', () => {
    // The plugin owns these defaults: the CLI leaves them unset and the plugin's schema fills them in.
    expect(validatePluginOptions(parseConfig([], {}).plugin)).toMatchObject({ maxViewers: 100, upgradeRate: { perSecond: 5, burst: 20 } });
    expect(parseConfig([], {}).headerTimeoutMs).toBe(10_000);
    expect(parseConfig(['--max-viewers', '3', '--header-timeout', '0.5', '--upgrade-rate', '0'], {})).toMatchObject({
      headerTimeoutMs: 500,
      plugin: { maxViewers: 3, upgradeRate: false },
    });
    expect(parseConfig(['--upgrade-rate', '2'], {}).plugin.upgradeRate).toEqual({ perSecond: 2, burst: 8 });
    expect(parseConfig([], { PISTREAM_MAX_VIEWERS: '7' }).plugin.maxViewers).toBe(7);
  });

  it.each([
    [['--max-viewers', '0'], /^--max-viewers must be a whole number from 1 to 100000/],
    [['--header-timeout', '0'], /^--header-timeout must be a number of seconds from 0.05 to 600/],
    [['--upgrade-rate', '-1'], /^--upgrade-rate must be a number from 0 to 10000/],
  ])('%j is refused, naming the flag', (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(message);
  });
});

describe('ws version', () => {
  it('is at least 8.23.0 (ping-flood memory fix, earlier CVEs) and pinned exactly in package.json', () => {
    const installed = (JSON.parse(readFileSync(join(ROOT, 'node_modules/ws/package.json'), 'utf8')) as { version: string }).version;
    const [major, minor] = installed.split('.').map(Number) as [number, number];
    expect(major > 8 || (major === 8 && minor >= 23)).toBe(true);
    const pinned = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies
      .ws;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('upgrade rate limit per address', () => {
  let server: Hapi.Server;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    server = Hapi.server({ port: 0, host: '127.0.0.1' });
    // Burst 3 and (in effect) no refill during the test: which upgrades pass does not depend on timing.
    await server.register({ plugin: pistreamPlugin, options: { hub: standInHub(), upgradeRate: { perSecond: 0.001, burst: 3 } } });
    await server.start();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  });

  it('answers a flood from one address with 429 before the handshake, while a viewer already watching keeps receiving', async () => {
    const url = `ws://127.0.0.1:${server.info.port}/stream`;
    const watching = await connect(url);
    clients.push(watching);
    await watching.received(2);

    const statuses = await Promise.all(Array.from({ length: 30 }, () => refusedStatus(url).catch(() => 0)));
    // Two tokens were left after the watcher's; a passing upgrade is refused as "accepted" (0 here), not 429.
    expect(statuses.filter((s) => s === 429)).toHaveLength(28);
    expect(statuses.filter((s) => s !== 429)).toHaveLength(2);

    const before = watching.messages.length;
    await watching.more(5);
    expect(watching.messages.length).toBeGreaterThanOrEqual(before + 5);
    expect(watching.ws.readyState).toBe(watching.ws.OPEN);
    expect(server.plugins.pistream.viewers.viewers.size).toBe(1);
  });

  it('a refused upgrade says when to try again', async () => {
    const response = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(server.info.port as number, '127.0.0.1', () => {
        socket.write(
          'GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(response).toMatch(/^HTTP\/1\.1 429 Too Many Requests\r\n/);
    expect(response).toContain('Retry-After: 1\r\n');
  });
});

describe('startServer limits (real server, test pattern through ffmpeg)', () => {
  let running: RunningServer;
  let baseline: Set<number>;
  const clients: WsClient[] = [];
  const ourFfmpeg = (): number[] => ffmpegChildren().filter((pid) => !baseline.has(pid));

  beforeAll(async () => {
    baseline = new Set(ffmpegChildren());
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
        '--grace',
        '0',
        '--max-viewers',
        '1',
        '--header-timeout',
        '0.2',
        '--log-level',
        'silent',
      ],
      {},
    );
    running = await startServer(config);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await running?.stop();
    await waitFor(() => ourFfmpeg().length === 0, 'ffmpeg to exit');
  });

  it('cuts off a client that sends its headers one byte at a time', async () => {
    const socket = netConnect(running.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    const header = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(10_000)}\r\n\r\n`);
    let sent = 0;
    // A byte every 20 ms: the whole header would take minutes; the 200 ms limit must end it long before.
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < header.length) socket.write(header.subarray(sent, ++sent));
    }, 20);
    await closed;
    clearInterval(drip);
    expect(sent).toBeLessThan(header.length);
    // Node raises a header timeout as a client error; hapi answers every client error with 400 and closes.
    // (Nothing, if a loaded machine's timer sent no byte before the timeout: then it is an unused connection.)
    expect(received).toMatch(/^(HTTP\/1\.1 (400|408) |$)/);
  });

  it("closes a connection that sent nothing by then without an answer (a browser would read one as its next page's)", async () => {
    const socket = netConnect(running.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    // The 200 ms header timeout ends it: no sleep, the close is the event waited for.
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(received).toBe('');
  });

  it('a client that sends its headers at once is served as usual', async () => {
    expect((await fetch(running.url)).status).toBe(200);
  });

  it('shares one viewer cap across the main and the legacy listener', async () => {
    const first = await connect(`ws://127.0.0.1:${running.port}/stream`);
    clients.push(first);
    const legacy = await connect(`ws://127.0.0.1:${running.legacyPort}/`);
    clients.push(legacy);
    expect((await legacy.closed).code).toBe(1013);
    const second = await connect(`ws://127.0.0.1:${running.port}/legacy`);
    clients.push(second);
    expect((await second.closed).code).toBe(1013);
    await first.received(1);
    await first.close();
    // Once the first has gone, the legacy port takes a viewer again.
    await waitFor(() => running.server.plugins.pistream.viewers.viewers.size === 0, 'the first viewer to be gone');
    const again = await connect(`ws://127.0.0.1:${running.legacyPort}/`);
    clients.push(again);
    await again.received(1);
    await again.close();
  });
});

describe('behind a reverse proxy (trustProxy)', () => {
  const servers: Hapi.Server[] = [];
  async function start(trustProxy?: string[]): Promise<string> {
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    // One upgrade per address and (in effect) no refill: the key the limiter uses decides who gets in.
    await server.register({
      plugin: pistreamPlugin,
      options: { hub: standInHub(), upgradeRate: { perSecond: 0.001, burst: 1 }, ...(trustProxy ? { trustProxy } : {}) },
    });
    await server.start();
    return `ws://127.0.0.1:${server.info.port}/stream`;
  }
  /** Opens and closes a viewer as a proxy would for client `forwarded`; the HTTP status if refused, else 101. */
  const upgrade = async (url: string, forwarded: string): Promise<number> =>
    refusedStatus(url, { headers: { 'X-Forwarded-For': forwarded } }).catch(() => 101);
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  it('limits per forwarded client when the peer is a trusted proxy', async () => {
    const url = await start(['loopback']);
    expect(await upgrade(url, '203.0.113.1')).toBe(101);
    expect(await upgrade(url, '203.0.113.2')).toBe(101);
    // A client cannot escape by prepending a fake address: the proxy appended the real one.
    expect(await upgrade(url, '198.51.100.7, 203.0.113.1')).toBe(429);
  });

  it('ignores X-Forwarded-For from a peer it does not trust: every client is the peer', async () => {
    const url = await start();
    expect(await upgrade(url, '203.0.113.1')).toBe(101);
    expect(await upgrade(url, '203.0.113.2')).toBe(429);
  });
});
