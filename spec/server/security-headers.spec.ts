import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import { NEVER } from 'rxjs';
import { parseConfig } from '../../src/config/command-line';
import { pistreamPlugin, type PistreamPluginOptions } from '../../src/server/plugin';

const source = { source: NEVER, encoder: { width: 640, height: 480, fps: 24 }, heartbeatMs: 0 };

async function plugin(options: Partial<PistreamPluginOptions> = {}, serverOptions: Hapi.ServerOptions = {}): Promise<Hapi.Server> {
  const server = Hapi.server(serverOptions);
  await server.register({ plugin: pistreamPlugin, options: { ...source, ...options } });
  await server.initialize();
  return server;
}

function expectHardened(headers: Record<string, unknown>): void {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['cross-origin-resource-policy']).toBe('same-origin');
  expect(String(headers['content-security-policy'])).toContain("frame-ancestors 'self'");
}

describe('security headers on every response', () => {
  let server: Hapi.Server;
  beforeAll(async () => {
    server = await plugin({ auth: { token: 'k3y-k3y-k3y' }, publicHealth: true });
  });
  afterAll(() => server.stop());

  it.each([
    ['the page (401 without the token)', '/'],
    ['the page', '/?token=k3y-k3y-k3y'],
    ['a script', '/viewer.js'],
    ['a missing file (404)', '/no-such-file'],
    ['/healthz', '/healthz'],
    ['/streams', '/streams?token=k3y-k3y-k3y'],
    ['a snapshot with a bad width (400)', '/snapshot.jpg?width=x&token=k3y-k3y-k3y'],
    ['a stream path opened as a page (426)', '/stream?token=k3y-k3y-k3y'],
  ])('%s', async (_label, url) => {
    const res = await server.inject({ url, headers: { host: 'localhost' } });
    expectHardened(res.headers);
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('the 403 for a host not allowed (taken over before routing) too', async () => {
    const res = await server.inject({ url: '/', headers: { host: 'evil.test' } });
    expect(res.statusCode).toBe(403);
    expectHardened(res.headers);
  });
});

describe('frameAncestors (--frame-ancestors)', () => {
  it('lets the named origins frame the page, and drops X-Frame-Options (which cannot name them)', async () => {
    const server = await plugin({ frameAncestors: "'self' http://homeassistant.local:8123" });
    const res = await server.inject({ url: '/', headers: { host: 'localhost' } });
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'self' http://homeassistant.local:8123;");
    expect(res.headers['x-frame-options']).toBeUndefined();
    await server.stop();
  });

  it('is a flag, refused with one line when it could break out of the CSP', () => {
    expect(parseConfig(['--frame-ancestors', "'self' https://ha.example"], {}).plugin.frameAncestors).toBe("'self' https://ha.example");
    expect(() => parseConfig(['--frame-ancestors', "'self'; script-src *"], {})).toThrow(/^--frame-ancestors must be CSP sources/);
  });
});

describe('HSTS when serving TLS', () => {
  it('sends Strict-Transport-Security over https only', async () => {
    const tls = {
      cert: readFileSync(join(__dirname, '..', 'fixtures', 'tls', 'test-only-localhost.crt')),
      key: readFileSync(join(__dirname, '..', 'fixtures', 'tls', 'test-only-localhost.key')),
    };
    const server = await plugin({}, { tls });
    const res = await server.inject({ url: '/viewer.js', headers: { host: 'localhost' } });
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+$/);
    await server.stop();
  });
});
