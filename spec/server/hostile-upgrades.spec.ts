import Hapi from '@hapi/hapi';
import { NEVER } from 'rxjs';
import { pistreamPlugin } from '../../src/server/plugin';
import { rawExchange, upgradeRequest } from '../helpers/raw-http';

describe('upgrades with targets no browser sends (a real listener)', () => {
  let server: Hapi.Server;
  let port: number;
  beforeAll(async () => {
    server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({
      plugin: pistreamPlugin,
      options: { source: NEVER, encoder: { width: 640, height: 480, fps: 24 }, heartbeatMs: 0 },
    });
    await server.start();
    port = server.info.port as number;
  });
  afterAll(() => server.stop());

  it.each([
    ['//', '//'],
    ['//stream', '//stream'],
    ['/%', '/%'],
    ['/%00', '/%00'],
    ['/stream%00', '/stream%00'],
    ['an 8000-character path', `/${'a'.repeat(8000)}`],
    ['/..//../stream/..', '/..//../stream/..'],
  ])('an upgrade to %s is refused with a 4xx and the server keeps answering', async (_label, target) => {
    const refused = await rawExchange(port, upgradeRequest(target));
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    const page = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(page.status).toBe(200);
  });

  it('an asterisk-form or absolute-form target is answered, not thrown on', async () => {
    for (const target of ['*', 'http://127.0.0.1/stream', 'http://[::1']) {
      const res = await rawExchange(port, upgradeRequest(target));
      expect(res.status === 0 || (res.status >= 400 && res.status < 500) || res.status === 101).toBe(true);
    }
    expect((await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).status).toBe(200);
  });
});
