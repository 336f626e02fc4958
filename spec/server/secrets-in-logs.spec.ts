import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeOutputProtocols, resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { startCli, type CliProcess } from '../helpers/cli-process';
import { rawExchange, type RawResponse } from '../helpers/raw-http';

// Known secrets, each distinctive so that finding any part of one anywhere is certain to be a leak.
const TOKEN = 'tok-S3CRET-a1b2c3d4';
const PASSWORD = 'pw/S3CRET-e5f6';
const RTMP_PASSWORD = 'rt/S3CRET-g7h8';
const RTMP_KEY = 'key-S3CRET-i9j0';
const RTSP_PATH = 'path-S3CRET-k1l2';
const SRT_PASSPHRASE = 'srt-S3CRET-m3n4o5p6';
const SECRETS = [TOKEN, PASSWORD, RTMP_PASSWORD, RTMP_KEY, RTSP_PATH, SRT_PASSPHRASE, Buffer.from(`viewer:${PASSWORD}`).toString('base64')];

/** Every secret found in `text` (what a failing expectation should show). */
const leaked = (text: string): string[] => SECRETS.filter((secret) => text.includes(secret) || text.includes(encodeURIComponent(secret)));

const BASIC = `Authorization: Basic ${Buffer.from(`viewer:${PASSWORD}`).toString('base64')}`;
const KEY = ['Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];

/** Requests that make every kind of answer this server gives, each carrying credentials some way, with that answer. */
function provocations(port: number): [request: string, status: number][] {
  const head = (line: string, headers: string[]) => {
    // A Host of its own replaces the default one (Node would keep the first of two).
    const host = headers.some((h) => h.startsWith('Host:')) ? [] : [`Host: 127.0.0.1:${port}`];
    return [line, ...host, ...headers, '', ''].join('\r\n');
  };
  const get = (target: string, ...headers: string[]) => head(`GET ${target} HTTP/1.1`, ['Connection: close', ...headers]);
  const upgrade = (target: string, ...headers: string[]) =>
    head(`GET ${target} HTTP/1.1`, ['Connection: Upgrade', 'Upgrade: websocket', ...KEY, ...headers]);
  return [
    [get(`/?token=${TOKEN}`), 200],
    [get(`/no-such-file?token=${TOKEN}`), 404],
    [get(`/viewer.js?token=${TOKEN}`, 'Range: bytes=-99999999'), 206],
    [get(`/viewer.js?token=${TOKEN}`, 'Range: bytes=99999999-'), 416],
    [get(`/snapshot.jpg?width=huge&token=${TOKEN}`), 400],
    [get(`/recordings/no-such-segment.ts?token=${TOKEN}`), 404],
    [get(`/%?token=${TOKEN}`), 400],
    [get(`/%00?token=${TOKEN}&x=%`), 404],
    [get(`/?token=${TOKEN}`, 'Host: evil.test'), 403],
    [get('/streams', `Authorization: Bearer ${TOKEN}`), 200],
    [get('/metrics', BASIC), 200],
    [get('/nope', BASIC, `Cookie: token=${TOKEN}`), 404],
    [get('/', `Authorization: Basic ${Buffer.from(`viewer:${PASSWORD}x`).toString('base64')}`), 401],
    [head(`POST /streams?token=${TOKEN} HTTP/1.1`, ['Content-Length: 0', 'Connection: close']), 405],
    [get(`http://127.0.0.1:${port}/nope?token=${TOKEN}`), 404],
    [upgrade(`//?token=${TOKEN}`), 404],
    [upgrade(`/stream?token=${TOKEN}`, 'Origin: http://evil.test'), 403],
    [upgrade(`/stream?token=${TOKEN}`, 'Host: evil.test'), 403],
    [upgrade('/stream', BASIC, 'Origin: http://evil.test'), 403],
    [upgrade('/stream?token=wrong-token-000'), 401],
  ];
}

/** Lines the provocations make the server log: what shows that the error paths ran. */
const PROVOKED_LINES = [
  /websocket upgrade refused: origin not allowed/,
  /websocket upgrade refused: unauthorized/,
  /Publishing to rtmp:\/\/\*\*\*@127\.0\.0\.1:9\/live\/\*\*\* failed/,
  /Publishing to rtsp:\/\/127\.0\.0\.1:9\/\*\*\* failed/,
];

/** Resolves once the process has printed something matching each of `lines`, or after `timeoutMs` (then the test says which is missing). */
function printed(cli: CliProcess, lines: readonly RegExp[], timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!lines.every((line) => line.test(cli.output()))) return;
      done();
    };
    const timer = setTimeout(() => done(), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      cli.child.stdout.off('data', check);
      resolve();
    };
    cli.child.stdout.on('data', check);
    check();
  });
}

describe('no secret in any log line or answer (a real pistream with known secrets)', () => {
  let cli: CliProcess;
  let dir: string;
  const answers: (RawResponse & { expected: number })[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-secrets-'));
    // The SRT target only where the ffmpeg the CLI will find can send SRT (Debian's can, the bundled 4.1 cannot and
    // is refused at start: that refusal's own line is checked below, on every machine).
    const ffmpeg = resolveFfmpeg(undefined, { PATH: process.env.PATH });
    const srt = (await probeOutputProtocols(ffmpeg.path)).includes('srt')
      ? `,srt://127.0.0.1:9?passphrase=${SRT_PASSPHRASE}&connect_timeout=200`
      : '';
    cli = await startCli(
      [
        '--source',
        'test',
        '--codec',
        'h264',
        '--width',
        '320',
        '--height',
        '240',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--log-level',
        'debug',
        '--token',
        TOKEN,
        '--auth',
        `viewer:${PASSWORD}`,
        '--record',
        join(dir, 'rec'),
      ],
      {
        // Closed ports: each publisher fails at once, and its failure (ffmpeg's stderr quoting the URL) is logged.
        PISTREAM_PUBLISH: `rtmp://pub:${encodeURIComponent(RTMP_PASSWORD)}@127.0.0.1:9/live/${RTMP_KEY},rtsp://127.0.0.1:9/${RTSP_PATH}/cam${srt}`,
      },
    );
    for (const [request, status] of provocations(cli.port))
      answers.push({ ...(await rawExchange(cli.port, request, 3000)), expected: status });
    // The lines reach us through the child's stdout some time after the answers: wait for them (and for the
    // publishers' first failures), by the output itself.
    await printed(cli, PROVOKED_LINES, 30_000);
  }, 60_000);

  afterAll(async () => {
    await cli?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every provocation got its answer (so each error path ran), none a 5xx', () => {
    expect(answers.map((a) => a.status)).toEqual(answers.map((a) => a.expected));
  });

  it('the log holds the provoked lines: refused upgrades, a failed login and publish failures', () => {
    for (const line of PROVOKED_LINES) expect(cli.output()).toMatch(line);
  });

  it('no secret appears anywhere in what the process printed', () => {
    expect(leaked(cli.output())).toEqual([]);
  });

  it('no secret appears in any answer', () => {
    expect(leaked(answers.map((a) => `${a.head}\n${a.body}`).join('\n'))).toEqual([]);
  });

  it('nor in /healthz, which names the publish targets', async () => {
    const health = await rawExchange(
      cli.port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`,
    );
    expect(health.body).toContain('"publish"');
    expect(leaked(health.body)).toEqual([]);
  });
});

describe('a publish URL refused at startup', () => {
  it('is named without its secrets, even with a password holding an unencoded /', async () => {
    const refused = startCli(['--source', 'test', '--port', '0', '--codec', 'h264'], {
      PISTREAM_PUBLISH: `rtmp://pub:${RTMP_PASSWORD}@127.0.0.1:9/live/${RTMP_KEY}`,
    });
    const message = await refused.then(
      () => '',
      (err: Error) => err.message,
    );
    expect(message).toContain('PISTREAM_PUBLISH rtmp://***@127.0.0.1:9/live/*** is not a URL');
    expect(leaked(message)).toEqual([]);
  });

  it('names an SRT target that this ffmpeg cannot send without its passphrase (the bundled ffmpeg has no SRT)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the package's CommonJS entry, as ffmpeg-path.ts loads it
    const bundled = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    expect(await probeOutputProtocols(bundled)).not.toContain('srt');
    const refused = startCli(['--source', 'test', '--port', '0', '--codec', 'h264'], {
      PISTREAM_FFMPEG: bundled,
      PISTREAM_PUBLISH: `srt://127.0.0.1:9?passphrase=${SRT_PASSPHRASE}&connect_timeout=200`,
    });
    const message = await refused.then(
      () => '',
      (err: Error) => err.message,
    );
    expect(message).toContain('cannot send SRT, which --publish srt://127.0.0.1:9?*** needs');
    expect(leaked(message)).toEqual([]);
    // A CLI started through ts-node, and two ffmpeg probes: past jest's 30 s on a loaded machine (it timed out at load 13).
  }, 90_000);
});
