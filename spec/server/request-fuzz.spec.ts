import fc from 'fast-check';
import Hapi from '@hapi/hapi';
import { pistreamPlugin } from '../../src/server/plugin';
import { startCli, type CliProcess } from '../helpers/cli-process';
import { rawExchange } from '../helpers/raw-http';

// Property test of the whole request surface: random methods, targets and headers (issue 23 found a crash with
// 2,000 of these). The answers must never be a 5xx, a stack trace or a secret, and the process must stay up.
const TOKEN = 'fuzz-S3CRET-token-0042';
const PASSWORD = 'fuzz-S3CRET-pw';
const SECRETS = [TOKEN, PASSWORD, Buffer.from(`viewer:${PASSWORD}`).toString('base64')];
/** PISTREAM_FUZZ_SCALE=10 sends ten times as many (a deeper hunt than `npm test` should take the time for). */
const SCALE = Math.max(1, Number(process.env.PISTREAM_FUZZ_SCALE ?? 1));

const printable = (max: number) =>
  fc.string({
    unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'),
    maxLength: max,
  });
const segment = fc.oneof(
  fc.constantFrom(
    '',
    '.',
    '..',
    '%',
    '%00',
    '%2e%2e',
    '%2f',
    '%5c',
    'stream',
    'legacy',
    'h264',
    'fmp4',
    'healthz',
    'metrics',
    'streams',
    'snapshot.jpg',
    'recordings',
    'viewer.js',
    'index.html',
    'vendor',
    'jsmpeg-player.umd.min.js',
    '..%2f..%2fetc%2fpasswd',
  ),
  fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(`?token=${TOKEN}`, '?token=wrong', '?width=320', '?width=%', `?x=%&token=${TOKEN}`, '?%00', '??'),
  fc.stringMatching(/^\?[A-Za-z0-9=&%._-]{0,20}$/),
);
const target = fc.oneof(
  fc.tuple(fc.array(segment, { maxLength: 6 }), query).map(([parts, q]) => `/${parts.join('/')}${q}`),
  fc.constantFrom(
    '//',
    '///stream',
    '/%',
    '/%00',
    `/${'a'.repeat(4000)}`,
    '/./stream',
    '/a/../stream',
    '/stream/..',
    '*',
    'http://localhost/stream',
  ),
);
const method = fc.oneof(
  fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'),
  fc.stringMatching(/^[A-Z]{1,8}$/),
);
const headers = fc.record(
  {
    range: fc.oneof(
      fc.constantFrom('bytes=-99999999', 'bytes=0-', 'bytes=-0', 'bytes=5-3', 'bytes=0-1,5-9', 'bytes=99999999999999999999-', 'bytes=='),
      printable(30),
    ),
    host: fc.oneof(
      fc.constantFrom('localhost', '127.0.0.1', 'evil.test', '[::1]', 'a b', 'localhost:99999', 'x.localhost'),
      fc.stringMatching(/^[a-z0-9.:-]{1,20}$/),
    ),
    origin: fc.oneof(fc.constantFrom('http://localhost', 'http://evil.test', 'null', 'file://', '%'), printable(30)),
    authorization: fc.oneof(
      fc.constantFrom(
        `Bearer ${TOKEN}`,
        'Bearer nope',
        `Basic ${Buffer.from(`viewer:${PASSWORD}`).toString('base64')}`,
        'Basic !!!',
        'Basic',
        'Digest x',
      ),
      printable(40),
    ),
    cookie: fc.constantFrom(`token=${TOKEN}`, 'a=b'),
    upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c', ''),
    'sec-websocket-version': fc.constantFrom('13', '8', '', 'x'),
    'sec-websocket-key': fc.oneof(fc.constant('dGhlIHNhbXBsZSBub25jZQ=='), printable(30)),
    'sec-websocket-protocol': printable(30),
    'sec-websocket-extensions': fc.oneof(fc.constant('permessage-deflate; client_max_window_bits'), printable(30)),
  },
  { requiredKeys: [] },
);
const request = fc.record({ method, target, headers });
type FuzzRequest = { method: string; target: string; headers: Record<string, string> };

/** What no answer may hold: a status of 500 or more, a stack trace, a secret. */
function expectHarmless(status: number, text: string, what: string): void {
  expect([what, status >= 500]).toEqual([what, false]);
  expect([what, /\n\s+at .+:\d+:\d+/.test(text)]).toEqual([what, false]);
  for (const secret of SECRETS) expect([what, text.includes(secret)]).toEqual([what, false]);
}

describe('random requests to server.inject', () => {
  let server: Hapi.Server;
  beforeAll(async () => {
    server = Hapi.server();
    await server.register({
      plugin: pistreamPlugin,
      options: {
        source: { kind: 'test' },
        encoder: { width: 320, height: 240, fps: 24 },
        auth: { token: TOKEN, users: { viewer: PASSWORD } },
        heartbeatMs: 0,
        graceMs: 0,
      },
    });
    await server.initialize();
  });
  afterAll(() => server.stop());

  it(
    'no 5xx, no stack, no secret in any answer (2,000 requests)',
    async () => {
      await fc.assert(
        // Origin-form targets only: shot asserts on the others (a client's '*' or absolute URL is the socket test's).
        fc.asyncProperty(
          request.filter((r) => r.target.startsWith('/')),
          async ({ method: m, target: url, headers: h }) => {
            const res = await server.inject({ method: m, url, headers: h as Record<string, string> });
            expectHarmless(res.statusCode, `${JSON.stringify(res.headers)}\n${res.payload}`, `${m} ${url} ${JSON.stringify(h)}`);
          },
        ),
        { numRuns: 2000 * SCALE },
      );
    },
    120_000 * SCALE,
  );
});

describe('random requests to a real socket of the running CLI', () => {
  let cli: CliProcess;
  /** The legacy listener's port: a handler of requests and upgrades of its own. */
  let legacyPort: number;
  beforeAll(async () => {
    cli = await startCli(
      [
        '--source',
        'test',
        '--width',
        '320',
        '--height',
        '240',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--legacy-port',
        '0',
        '--auth',
        `viewer:${PASSWORD}`,
      ],
      { PISTREAM_TOKEN: TOKEN },
    );
    // Logged in onPostStart, before the line startCli waits for.
    legacyPort = Number(/Original-protocol WebSocket server on ws:\/\/[^:]+:(\d+)/.exec(cli.output())?.[1]);
    expect(legacyPort).toBeGreaterThan(0);
  }, 60_000);
  afterAll(() => cli?.kill());

  /**
   * The request as bytes: `Connection: close` unless it asks for a WebSocket (so each exchange ends when answered,
   * and only an accepted upgrade waits out the idle time), then the headers given.
   */
  function wire({ method: m, target: url, headers: h }: FuzzRequest): string {
    const lines = Object.entries(h)
      .filter(([name]) => name !== 'host')
      .map(([name, value]) => `${name}: ${value}`);
    const upgrading = h.upgrade?.toLowerCase() === 'websocket';
    return [
      `${m} ${url} HTTP/1.1`,
      `Host: ${h.host ?? '127.0.0.1'}`,
      upgrading ? 'Connection: Upgrade' : 'Connection: close',
      ...lines,
      '',
      '',
    ].join('\r\n');
  }

  it(
    'the process stays up; no 5xx, no stack, no secret in any answer (1,000 requests, 8 at a time, 1 in 4 to the legacy port)',
    async () => {
      const samples = fc.sample(request, { numRuns: 1000 * SCALE }) as FuzzRequest[];
      for (let i = 0; i < samples.length; i += 8) {
        await Promise.all(
          samples.slice(i, i + 8).map(async (sample, j) => {
            const answer = await rawExchange(j % 4 === 3 ? legacyPort : cli.port, wire(sample), 100);
            expectHarmless(answer.status, `${answer.head}\n${answer.body}`, JSON.stringify(sample));
          }),
        );
      }
      if (cli.child.exitCode !== null) process.stderr.write(`CLI EXITED ${cli.child.exitCode}:\n${cli.output().slice(-3000)}\n`);
      expect(cli.child.exitCode).toBeNull();
      // Still answering: 200, or 429 while the wrong passwords among the samples keep 127.0.0.1 locked out.
      const health = await rawExchange(
        cli.port,
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`,
      );
      expect([200, 429]).toContain(health.status);
      for (const secret of SECRETS) expect(cli.output()).not.toContain(secret);
    },
    180_000 * SCALE,
  );
});
