import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import { ConfigError, parseConfig } from '../../src/config/command-line';
import * as authUsers from '../../src/options/auth-users';
import { hashPassword, parseAuthFile } from '../../src/options/auth-users';
import { createAuthenticator, safeEqual } from '../../src/server/auth';
import { pistreamPlugin, type PistreamPluginOptions } from '../../src/server/plugin';
import { describeBrowser, openPage } from '../helpers/browser';
import { tsPackets } from '../helpers/mpegts-demux';
import { connect, refusedStatus, type WsClient } from '../helpers/ws-client';
import { standInHub } from '../helpers/stand-in-hub';

const TOKEN = 'sesame-0123456789';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function startPlugin(options: Partial<PistreamPluginOptions>, prefix?: string): Promise<Hapi.Server> {
  const server = Hapi.server({ port: 0, host: '127.0.0.1' });
  await server.register({ plugin: pistreamPlugin, options: { hub: standInHub(), ...options }, ...(prefix ? { routes: { prefix } } : {}) });
  await server.start();
  return server;
}

describe('createAuthenticator', () => {
  it('accepts a Basic user with a plain password (--auth) and refuses others with a Basic challenge', async () => {
    const auth = createAuthenticator({ users: { alice: 'wonder land' } });
    expect(await auth.check(basic('alice', 'wonder land'), '/')).toEqual({ ok: true, user: 'alice' });
    for (const header of [basic('alice', 'wonder'), basic('bob', 'wonder land'), undefined, 'Basic !!!', 'Bearer x']) {
      const result = await auth.check(header, '/');
      expect(result).toMatchObject({ ok: false, challenge: 'Basic realm="pistream", charset="UTF-8"' });
    }
  });

  it('accepts a Basic user with an scrypt hash (--auth-file), made by hashPassword', async () => {
    const line = await hashPassword('carol', 'p:a:s:s');
    expect(line).toMatch(/^carol:scrypt\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{44}$/);
    const auth = createAuthenticator({ users: parseAuthFile(`# users\n\n${line}\n`) });
    expect(await auth.check(basic('carol', 'p:a:s:s'), '/')).toEqual({ ok: true, user: 'carol' });
    expect(await auth.check(basic('carol', 'p:a:s:s'), '/')).toEqual({ ok: true, user: 'carol' }); // remembered
    expect(await auth.check(basic('carol', 'p:a:s'), '/')).toMatchObject({ ok: false });
    // Two hashes of one password differ (random salt).
    expect(await hashPassword('carol', 'p:a:s:s')).not.toBe(line);
  });

  it('accepts the token as ?token= or Authorization: Bearer, with a Bearer challenge when there are no users', async () => {
    const auth = createAuthenticator({ token: TOKEN });
    expect(await auth.check(undefined, `/stream?token=${TOKEN}`)).toEqual({ ok: true, user: 'token' });
    expect(await auth.check(`Bearer ${TOKEN}`, '/stream')).toEqual({ ok: true, user: 'token' });
    for (const [header, url] of [
      [undefined, '/stream'],
      [undefined, '/stream?token='],
      [undefined, `/stream?token=${TOKEN}x`],
      ['Bearer nope', '/stream'],
      [undefined, `/stream?tok=${TOKEN}`],
    ] as const) {
      expect(await auth.check(header, url)).toEqual(expect.objectContaining({ ok: false, challenge: 'Bearer realm="pistream"' }));
    }
  });

  it('with users and a token, either passes', async () => {
    const auth = createAuthenticator({ users: { alice: 'pw' }, token: TOKEN });
    expect(await auth.check(basic('alice', 'pw'), '/')).toMatchObject({ ok: true });
    expect(await auth.check(undefined, `/?token=${TOKEN}`)).toMatchObject({ ok: true });
    expect(await auth.check(undefined, '/')).toMatchObject({ ok: false, challenge: expect.stringMatching(/^Basic /) });
  });

  it('needs something to check', () => {
    expect(() => createAuthenticator({})).toThrow(/users or a token/);
  });

  it('safeEqual compares contents of any length', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('parseAuthFile refuses plain passwords and junk, naming the line', () => {
    expect(() => parseAuthFile('alice:secret')).toThrow(/line 1 is not "user:scrypt\$SALT\$KEY"/);
    expect(() => parseAuthFile('# nobody\n\n')).toThrow(/no users/);
    expect(() => parseAuthFile('\n:scrypt$c2FsdA==$' + Buffer.alloc(32).toString('base64'))).toThrow(/line 2/);
  });
});

describe('auth flags', () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'pistream-auth-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--auth, --auth-file and --token (or PISTREAM_TOKEN) make the plugin's auth; none: open", async () => {
    const file = join(dir, 'users');
    const line = await hashPassword('bob', 'pw');
    writeFileSync(file, `${line}\n`);
    expect(parseConfig([], {}).plugin.auth).toBeUndefined();
    expect(parseConfig(['--auth', 'alice:a:b'], {}).plugin.auth).toEqual({ users: { alice: 'a:b' } });
    expect(parseConfig(['--auth-file', file, '--auth', 'alice:x'], {}).plugin.auth).toEqual({
      users: { bob: line.slice(4), alice: 'x' },
    });
    expect(parseConfig([], { PISTREAM_TOKEN: TOKEN }).plugin.auth).toEqual({ token: TOKEN });
    expect(parseConfig(['--token', TOKEN, '--public-health'], {}).plugin).toMatchObject({ auth: { token: TOKEN }, publicHealth: true });
  });

  it.each([
    [['--auth', 'alice'], /^--auth must be user:password/],
    [['--auth', ':pw'], /^--auth must be user:password/],
    [['--token', 'short'], /^--token must be a token of 8 to 512 characters/],
    [['--auth-file', '/nonexistent/users'], /^--auth-file: cannot read \/nonexistent\/users \(ENOENT\)/],
  ])('%j is refused with a message naming the flag', (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  it('an auth file with a plain password is refused, naming the file and line', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'alice:secret\n');
    expect(() => parseConfig(['--auth-file', file], {})).toThrow(`--auth-file: ${file} line 1 is not`);
  });

  it('--allow-origin: repeatable, comma lists, normalized like browsers send Origin', () => {
    expect(
      parseConfig(['--allow-origin', 'https://a.example:443/x', '--allow-origin', 'http://b.example:8080,*'], {}).plugin.allowOrigins,
    ).toEqual(['https://a.example', 'http://b.example:8080', '*']);
    expect(parseConfig([], { PISTREAM_ALLOW_ORIGIN: 'https://c.example, https://d.example' }).plugin.allowOrigins).toEqual([
      'https://c.example',
      'https://d.example',
    ]);
    expect(() => parseConfig(['--allow-origin', 'example.com'], {})).toThrow(/^--allow-origin must be origins like https:\/\/example.com/);
  });
});

describe('the plugin with auth (page, streams, health and metrics alike)', () => {
  const servers: Hapi.Server[] = [];
  const clients: WsClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });
  const start = async (options: Partial<PistreamPluginOptions>, prefix?: string) => {
    const server = await startPlugin(options, prefix);
    servers.push(server);
    return { http: server.info.uri, ws: server.info.uri.replace(/^http/, 'ws') };
  };
  const open = async (url: string, options: Parameters<typeof connect>[1] = {}) => {
    const client = await connect(url, options);
    clients.push(client);
    return client;
  };

  describe('Basic', () => {
    let base: { http: string; ws: string };
    beforeAll(async () => void (base = await start({ auth: { users: { alice: 'pw' } } })));

    it.each(['/', '/index.html', '/healthz', '/metrics'])('%s is 401 with a Basic challenge, and 200 with the password', async (path) => {
      const refused = await fetch(base.http + path);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Basic realm="pistream", charset="UTF-8"');
      expect(await refused.text()).not.toMatch(/<canvas|pistream_/);
      const wrong = await fetch(base.http + path, { headers: { Authorization: basic('alice', 'nope') } });
      expect(wrong.status).toBe(401);
      await wrong.text();
      const ok = await fetch(base.http + path, { headers: { Authorization: basic('alice', 'pw') } });
      expect(ok.status).toBe(200);
      await ok.text();
    });

    it("serves the page's static scripts and stylesheet without credentials (the package's own files)", async () => {
      for (const path of ['/viewer.js', '/viewer.css', '/vendor/jsmpeg-player.umd.min.js']) {
        const response = await fetch(base.http + path);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }
      expect((await fetch(`${base.http}/secret.txt`)).status).toBe(404);
    });

    it('refuses a WebSocket upgrade without the password with 401 before any byte of video', async () => {
      expect(await refusedStatus(`${base.ws}/stream`)).toBe(401);
      expect(await refusedStatus(`${base.ws}/legacy`, { headers: { Authorization: basic('alice', 'x') } })).toBe(401);
      expect(await refusedStatus(`${base.ws}/stream?token=${TOKEN}`)).toBe(401);
    });

    it('streams to a socket with the credentials a browser sends after the page authenticated', async () => {
      const viewer = await open(`${base.ws}/stream`, { headers: { Authorization: basic('alice', 'pw') } });
      const pictures = await viewer.received(2);
      // Video, not a refusal: whole TS packets, the first picture starting at the PAT before its keyframe.
      for (const message of pictures) expect(tsPackets(message).length).toBeGreaterThan(0);
      expect([...pictures[0]!.subarray(0, 3)]).toEqual([0x47, 0x40, 0x00]);
      expect(viewer.ws.readyState).toBe(viewer.ws.OPEN);
    });
  });

  describe('token, under a route prefix, with --public-health', () => {
    let base: { http: string; ws: string };
    beforeAll(async () => void (base = await start({ auth: { token: TOKEN }, publicHealth: true }, '/cam')));

    it('guards the page (Bearer challenge) and takes ?token= or a Bearer header', async () => {
      const refused = await fetch(`${base.http}/cam/`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="pistream"');
      await refused.text();
      expect((await fetch(`${base.http}/cam/?token=${TOKEN}`)).status).toBe(200);
      expect((await fetch(`${base.http}/cam/`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${base.http}/cam/?token=wrong-token`)).status).toBe(401);
    });

    it('leaves /healthz and /metrics open', async () => {
      expect((await fetch(`${base.http}/cam/healthz`)).status).toBe(200);
      expect((await fetch(`${base.http}/cam/metrics`)).status).toBe(200);
    });

    it('guards the sockets the same way', async () => {
      expect(await refusedStatus(`${base.ws}/cam/stream`)).toBe(401);
      expect(await refusedStatus(`${base.ws}/cam/stream?token=wrong-token`)).toBe(401);
      await (await open(`${base.ws}/cam/stream?token=${TOKEN}`)).received(1);
      await (await open(`${base.ws}/cam/legacy`, { headers: { Authorization: `Bearer ${TOKEN}` } })).received(1);
    });
  });

  it('without auth everything is open (the default)', async () => {
    const base = await start({});
    expect((await fetch(`${base.http}/`)).status).toBe(200);
    expect((await fetch(`${base.http}/healthz`)).status).toBe(200);
    await (await open(`${base.ws}/stream`)).received(1);
  });

  it('rejects auth options that say nothing', async () => {
    const server = Hapi.server();
    await expect(server.register({ plugin: pistreamPlugin, options: { hub: standInHub(), auth: {} } })).rejects.toThrow(
      'pistream plugin options: auth needs users or a token',
    );
  });
});

describeBrowser('the page opened with ?token=', () => {
  it('passes the token on to its socket and plays', async () => {
    const server = await startPlugin({ auth: { token: TOKEN } });
    const { browser, page, pageErrors } = await openPage({ width: 800, height: 600 });
    try {
      await page.goto(`${server.info.uri}/?token=${TOKEN}`);
      await page.waitForFunction(
        () => {
          const state = (globalThis as unknown as { pistream?: { connections: number; bytes: number } }).pistream;
          return !!state && state.connections > 0 && state.bytes > 0;
        },
        undefined,
        { timeout: 60_000 },
      );
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
      await server.stop();
    }
    // A browser launched beside other suites' browsers and ffmpegs: 4 s alone, past jest's 30 s in a CI pass.
  }, 90_000);
});

describe('startServer with --token: the legacy listener is guarded too', () => {
  it('refuses upgrades without the token on both ports, and the page and /healthz', async () => {
    const { startServer } = await import('../../src/server/start-server');
    const running = await startServer(
      parseConfig(
        ['--source', 'test', '--port', '0', '--host', '127.0.0.1', '--legacy-port', '0', '--token', TOKEN, '--log-level', 'silent'],
        {},
      ),
    );
    try {
      expect(await refusedStatus(`ws://127.0.0.1:${running.legacyPort}/`)).toBe(401);
      expect(await refusedStatus(`ws://127.0.0.1:${running.port}/stream`)).toBe(401);
      expect((await fetch(running.url)).status).toBe(401);
      expect((await fetch(`${running.url}healthz`)).status).toBe(401);
      expect((await fetch(`${running.url}healthz?token=${TOKEN}`)).status).toBe(200);
    } finally {
      await running.stop();
    }
  });
});

describe('failed logins cost the guesser', () => {
  it('per address: the 6th wrong password in a minute gets 429 with Retry-After, one WARN line when the lockout starts', async () => {
    const warnings: string[] = [];
    const auth = createAuthenticator({ users: { alice: 'pw' } }, { log: (_level, message) => warnings.push(message) });
    for (let i = 0; i < 5; i++)
      expect(await auth.check(basic('alice', `guess${i}`), '/', '10.0.0.9')).toMatchObject({ ok: false, reason: 'wrong user or password' });
    const locked = await auth.check(basic('alice', 'pw'), '/', '10.0.0.9');
    expect(locked).toMatchObject({ ok: false, reason: 'too many failed logins' });
    expect((locked as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) await auth.check(basic('alice', 'again'), '/', '10.0.0.9');
    expect(warnings).toEqual(['failed logins from 10.0.0.9: locked out for 1 s (429)']);
    // Another address is not locked out by it.
    expect(await auth.check(basic('alice', 'pw'), '/', '10.0.0.10')).toMatchObject({ ok: true });
  });

  it('requests without credentials (a browser before its prompt) do not count', async () => {
    const auth = createAuthenticator({ users: { alice: 'pw' } });
    for (let i = 0; i < 20; i++) await auth.check(undefined, '/', '10.0.0.9');
    expect(await auth.check(basic('alice', 'pw'), '/', '10.0.0.9')).toMatchObject({ ok: true });
  });

  it('through the plugin: 429 with Retry-After on the page and on upgrades', async () => {
    const server = await startPlugin({ auth: { users: { alice: 'pw' } } });
    try {
      const url = `http://127.0.0.1:${server.info.port}/`;
      for (let i = 0; i < 5; i++) expect((await fetch(url, { headers: { authorization: basic('alice', 'nope') } })).status).toBe(401);
      const refused = await fetch(url, { headers: { authorization: basic('alice', 'pw') } });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refusedStatus(`ws://127.0.0.1:${server.info.port}/stream`, { headers: { authorization: basic('alice', 'pw') } })).toBe(
        429,
      );
    } finally {
      await server.stop();
    }
  });

  it('a verified --auth-file password is remembered per user: scrypt runs once for it, not per request', async () => {
    const users = parseAuthFile(await hashPassword('carol', 's3cret'));
    const auth = createAuthenticator({ users });
    const scrypt = jest.spyOn(authUsers, 'scrypt');
    try {
      for (let i = 0; i < 5; i++) expect(await auth.check(basic('carol', 's3cret'), '/', '10.0.0.1')).toMatchObject({ ok: true });
      expect(scrypt).toHaveBeenCalledTimes(1);
      // A wrong password is checked in full again.
      expect(await auth.check(basic('carol', 'other'), '/', '10.0.0.1')).toMatchObject({ ok: false });
      expect(scrypt).toHaveBeenCalledTimes(2);
    } finally {
      scrypt.mockRestore();
    }
  });
});
