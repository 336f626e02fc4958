import { readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';
import { connect, refusedStatus, type WsClient } from '../helpers/ws-client';

// A self-signed certificate for localhost/127.0.0.1, committed for tests only (spec/fixtures/tls/README.md).
const FIXTURES = join(__dirname, '..', 'fixtures', 'tls');
const CERT = join(FIXTURES, 'test-only-localhost.crt');
const KEY = join(FIXTURES, 'test-only-localhost.key');
const ca = readFileSync(CERT);

function httpsStatus(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('TLS flags', () => {
  it('--tls-cert and --tls-key are read at startup, both or neither', () => {
    const config = parseConfig(['--tls-cert', CERT, '--tls-key', KEY], {});
    expect(config.tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(config.tls?.key.toString()).toContain('PRIVATE KEY');
    expect(parseConfig([], {}).tls).toBeUndefined();
    expect(() => parseConfig(['--tls-cert', CERT], {})).toThrow('--tls-cert needs --tls-key too');
    expect(() => parseConfig([], { PISTREAM_TLS_KEY: KEY })).toThrow('PISTREAM_TLS_KEY needs --tls-cert too');
    expect(() => parseConfig(['--tls-cert', '/nonexistent.pem', '--tls-key', KEY], {})).toThrow(
      '--tls-cert: cannot read /nonexistent.pem (ENOENT)',
    );
  });
});

describe('startServer with --tls-cert/--tls-key: https and wss on one port, and on the legacy port', () => {
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
        '--log-level',
        'silent',
        '--tls-cert',
        CERT,
        '--tls-key',
        KEY,
        '--allow-origin',
        'https://embed.example',
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

  it('serves the page over https', async () => {
    expect(running.url).toBe(`https://127.0.0.1:${running.port}/`);
    const page = await httpsStatus(running.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<canvas');
  });

  it('does not speak plain http on that port', async () => {
    const outcome = await new Promise<string>((resolve) => {
      httpGet(`http://127.0.0.1:${running.port}/`, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      }).on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    expect(outcome).not.toBe('status 200');
  });

  it('streams over wss, checking Origin against the Host (and --allow-origin) as over ws', async () => {
    const own = await connect(`wss://127.0.0.1:${running.port}/stream`, { ca, origin: `https://127.0.0.1:${running.port}` });
    clients.push(own);
    await own.received(2);
    const embedded = await connect(`wss://127.0.0.1:${running.port}/stream`, { ca, origin: 'https://embed.example' });
    clients.push(embedded);
    await embedded.received(1);
    expect(await refusedStatus(`wss://127.0.0.1:${running.port}/stream`, { ca, origin: 'https://evil.example' })).toBe(403);
  });

  it('serves the original protocol over wss on the legacy port', async () => {
    const legacy = await connect(`wss://127.0.0.1:${running.legacyPort}/`, { ca });
    clients.push(legacy);
    const [header] = await legacy.received(1);
    expect(header!.subarray(0, 4).toString()).toBe('jsmp');
  });
});
