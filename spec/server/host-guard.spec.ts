import Hapi from '@hapi/hapi';
import { NEVER } from 'rxjs';
import { parseConfig } from '../../src/config/command-line';
import type { PistreamPluginOptions } from '../../src/options/plugin-options';
import { pistreamPlugin } from '../../src/server/plugin';
import { rawExchange, upgradeRequest } from '../helpers/raw-http';

const source = { source: NEVER, encoder: { width: 640, height: 480, fps: 24 }, heartbeatMs: 0 };

async function plugin(options: Partial<PistreamPluginOptions> = {}, prefix = ''): Promise<Hapi.Server> {
  const server = Hapi.server({ port: 0, host: '127.0.0.1' });
  await server.register({ plugin: pistreamPlugin, options: { ...source, ...options }, ...(prefix ? { routes: { prefix } } : {}) });
  return server;
}

describe('the host allowlist on requests (server.inject)', () => {
  let server: Hapi.Server;
  beforeAll(async () => {
    server = await plugin({ allowedHosts: ['cam.example.com'], trustProxy: ['loopback'], auth: { token: 'k3y-k3y-k3y' } });
  });
  afterAll(() => server.stop());
  const get = (url: string, headers: Record<string, string>) => server.inject({ url, headers });

  it('a page request naming another host is 403, before routing and before auth', async () => {
    for (const url of ['/', '/viewer.js', '/no-such-path', '/healthz']) {
      const res = await get(url, { host: 'evil.test:8082' });
      expect(res.statusCode).toBe(403);
      expect(res.payload).toContain('--allowed-hosts');
      expect(res.payload).not.toContain('evil.test');
    }
  });

  it('names from the defaults and --allowed-hosts are served (then auth applies)', async () => {
    expect((await get('/viewer.js', { host: 'cam.example.com:8082' })).statusCode).toBe(200);
    expect((await get('/viewer.js', { host: 'localhost' })).statusCode).toBe(200);
    expect((await get('/viewer.js', { host: '192.168.1.7:8082' })).statusCode).toBe(200);
    expect((await get('/', { host: 'localhost' })).statusCode).toBe(401);
  });

  it('behind a trusted proxy, X-Forwarded-Host is the name checked', async () => {
    expect((await get('/viewer.js', { host: '127.0.0.1:8082', 'x-forwarded-host': 'evil.test' })).statusCode).toBe(403);
    expect((await get('/viewer.js', { host: 'evil.test', 'x-forwarded-host': 'cam.example.com' })).statusCode).toBe(200);
  });

  it('from a peer that is no trusted proxy, X-Forwarded-Host is ignored', async () => {
    const res = await server.inject({
      url: '/viewer.js',
      headers: { host: 'localhost', 'x-forwarded-host': 'evil.test' },
      remoteAddress: '192.0.2.9',
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('the host allowlist under a prefix, in a host app', () => {
  it("guards the plugin's paths and leaves the host app's own to it", async () => {
    const server = await plugin({}, '/cam');
    server.route({ method: 'GET', path: '/mine', handler: () => 'the host app' });
    expect((await server.inject({ url: '/mine', headers: { host: 'shop.test' } })).statusCode).toBe(200);
    expect((await server.inject({ url: '/cam/viewer.js', headers: { host: 'shop.test' } })).statusCode).toBe(403);
    expect((await server.inject({ url: '/cam/viewer.js', headers: { host: 'localhost' } })).statusCode).toBe(200);
    await server.stop();
  });

  it("'*' answers to any name", async () => {
    const server = await plugin({ allowedHosts: ['*'] });
    expect((await server.inject({ url: '/viewer.js', headers: { host: 'anything.test' } })).statusCode).toBe(200);
    // Still not a Host that names no host: hapi could not make a URL of it.
    expect((await server.inject({ url: '/viewer.js', headers: { host: 'anything.test:99999' } })).statusCode).toBe(400);
    await server.stop();
  });
});

describe('the host allowlist and Origin on upgrades (a real listener)', () => {
  let server: Hapi.Server;
  let port: number;
  const KEY = ['Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
  beforeAll(async () => {
    server = await plugin({ allowedHosts: ['cam.example.com'] });
    await server.start();
    port = server.info.port as number;
  });
  afterAll(() => server.stop());
  const upgrade = (headers: string[]) =>
    rawExchange(port, upgradeRequest('/stream', [...KEY, ...headers]).replace('Host: 127.0.0.1\r\n', ''), 300);

  it('a rebinding page (its own name as Host and Origin) gets 403 before the handshake', async () => {
    expect((await upgrade([`Host: evil.test:${port}`, `Origin: http://evil.test:${port}`])).status).toBe(403);
  });

  it('an Origin naming a host not allowed is 403 even on an allowed Host', async () => {
    expect((await upgrade([`Host: 127.0.0.1:${port}`, `Origin: http://evil.test:${port}`])).status).toBe(403);
  });

  it('the page of an allowed name opens its stream (101)', async () => {
    expect((await upgrade([`Host: cam.example.com:${port}`, `Origin: http://cam.example.com:${port}`])).status).toBe(101);
    expect((await upgrade([`Host: 127.0.0.1:${port}`, `Origin: http://127.0.0.1:${port}`])).status).toBe(101);
  });
});

describe('--allowed-hosts', () => {
  it('adds names to the plugin options, as a comma list or repeated', () => {
    expect(parseConfig(['--allowed-hosts', 'cam.example.com, *.lan', '--allowed-hosts', 'pi'], {}).plugin.allowedHosts).toEqual([
      'cam.example.com',
      '*.lan',
      'pi',
    ]);
    expect(parseConfig([], { PISTREAM_ALLOWED_HOSTS: '*' }).plugin.allowedHosts).toEqual(['*']);
  });

  it('refuses what is not a host name, naming the flag', () => {
    expect(() => parseConfig(['--allowed-hosts', 'a b'], {})).toThrow(/^--allowed-hosts must be host names/);
  });
});
