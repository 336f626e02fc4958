import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import { NEVER } from 'rxjs';
import { pistreamPlugin } from '../../src/server/plugin';

const ROOT = join(__dirname, '..', '..');

/** GET with the path sent exactly as written (fetch and URL would resolve dot segments first). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Paths that must never reach a file outside public/ (after inert's and ustreamer's own traversal tables). */
const VECTORS: readonly string[] = [
  '/..%2f..%2fetc/passwd',
  '/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/%2E%2E/package.json',
  '/%252e%252e/%252e%252e/etc/passwd',
  '/..%252f..%252fpackage.json',
  '/..\\..\\etc\\passwd',
  '/..%5c..%5cpackage.json',
  '/viewer.js%00',
  '/%00',
  '/index.html%00.js',
  '/.git/config',
  '/.env',
  '/.%2e/package.json',
  '/../public-evil/x',
  '/..%2fpublic-evil/x',
  '/vendor/../../package.json',
  '/vendor/..%2f..%2fpackage.json',
  '/vendor/%2e%2e/%2e%2e/package.json',
  '//etc/passwd',
  '/etc/passwd',
  '/package.json',
  '/../package.json',
  '/node_modules/@cycjimmy/jsmpeg-player/package.json',
  '/vendor/',
  '/vendor',
  '/public/viewer.js',
];

const PACKAGE_NAME_LINE = readFileSync(join(ROOT, 'package.json'), 'utf8')
  .split('\n')
  .find((l) => l.includes('"name"'))!
  .trim();

describe.each([
  ['at the root', ''],
  ['under the /cam prefix', '/cam'],
])('static files %s: traversal and hidden paths are 404, never a file outside public/', (_label, prefix) => {
  let server: Hapi.Server;
  beforeAll(async () => {
    server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({
      plugin: pistreamPlugin,
      options: { source: NEVER, encoder: { width: 640, height: 480, fps: 24 } },
      ...(prefix ? { routes: { prefix } } : {}),
    });
    await server.start();
  });
  afterAll(() => server.stop());

  it.each(VECTORS)('%s', async (vector) => {
    const { status, body } = await rawGet(server.info.port as number, prefix + vector);
    expect(status).toBe(404);
    expect(body).not.toContain('root:');
    expect(body).not.toContain(PACKAGE_NAME_LINE);
    expect(body).not.toContain('[core]');
  });

  it('still serves the real files (the table is not passing because nothing is served)', async () => {
    expect((await rawGet(server.info.port as number, `${prefix}/viewer.js`)).status).toBe(200);
    expect((await rawGet(server.info.port as number, `${prefix}/`)).status).toBe(200);
  });
});

describe('versions with the traversal and WebSocket fixes', () => {
  const versionOf = (pkg: string): number[] =>
    (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version
      .split('.')
      .map(Number);
  const atLeast = (have: number[], want: number[]): boolean => {
    for (let i = 0; i < want.length; i++) if ((have[i] ?? 0) !== want[i]) return (have[i] ?? 0) > want[i]!;
    return true;
  };

  it('@hapi/inert >= 7.1.1 (sibling-prefix traversal, CVE-2026-48049)', () => {
    expect(atLeast(versionOf('@hapi/inert'), [7, 1, 1])).toBe(true);
  });
});
