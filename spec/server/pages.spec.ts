import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import Hapi from '@hapi/hapi';
import { createHub, type Hub } from '../../src/hub';
import { pistreamPlugin } from '../../src/server/plugin';
import {
  contentSecurityPolicy,
  JSMPEG_ROUTE,
  jsmpegInjectedStyle,
  jsmpegPlayerFile,
  PUBLIC_DIR,
  styleHashSource,
} from '../../src/server/pages';
import { testPattern } from '../../src/sources/test-pattern';

// Pages are tested through server.inject(): no listener, no socket, no encoder (nobody subscribes to the hub).

const ASSETS: readonly { path: string; type: RegExp; file: string }[] = [
  { path: '/', type: /^text\/html; charset=utf-8$/, file: join(PUBLIC_DIR, 'index.html') },
  { path: '/index.html', type: /^text\/html; charset=utf-8$/, file: join(PUBLIC_DIR, 'index.html') },
  { path: '/viewer.js', type: /^(application|text)\/javascript; charset=utf-8$/, file: join(PUBLIC_DIR, 'viewer.js') },
  { path: '/barcode.js', type: /^(application|text)\/javascript; charset=utf-8$/, file: join(PUBLIC_DIR, 'barcode.js') },
  { path: '/protocol.js', type: /^(application|text)\/javascript; charset=utf-8$/, file: join(PUBLIC_DIR, 'protocol.js') },
  { path: '/viewer.css', type: /^text\/css; charset=utf-8$/, file: join(PUBLIC_DIR, 'viewer.css') },
  { path: JSMPEG_ROUTE, type: /^(application|text)\/javascript; charset=utf-8$/, file: jsmpegPlayerFile() },
];

function testPatternHub(): Hub {
  return createHub({ source: testPattern({ width: 640, height: 480, fps: 24 }), encoder: { width: 640, height: 480, fps: 24 } });
}

async function serverWithPlugin(hub: Hub, prefix?: string): Promise<Hapi.Server> {
  const server = Hapi.server({ host: 'localhost' });
  await server.register(
    { plugin: pistreamPlugin, options: { hub, heartbeatMs: 0, allowedHosts: ['pi.local'] } },
    prefix ? { routes: { prefix } } : {},
  );
  await server.initialize();
  return server;
}

describe('page routes (server.inject)', () => {
  let hub: Hub;
  let server: Hapi.Server;

  beforeAll(async () => {
    hub = testPatternHub();
    server = await serverWithPlugin(hub);
  });

  afterAll(async () => {
    await server.stop();
    hub.close();
  });

  describe.each(ASSETS)('$path', ({ path, type, file }) => {
    const bytes = readFileSync(file);

    it('GET answers 200 with the file, its content type and length', async () => {
      const res = await server.inject({ method: 'GET', url: path });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
      expect(res.rawPayload.equals(bytes)).toBe(true);
      expect(Number(res.headers['content-length'])).toBe(bytes.length);
    });

    it('HEAD answers 200 with the same headers and no body', async () => {
      const res = await server.inject({ method: 'HEAD', url: path });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
      expect(Number(res.headers['content-length'])).toBe(bytes.length);
      expect(res.rawPayload.length).toBe(0);
    });

    it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s answers 405 with Allow: GET, HEAD', async (method) => {
      const res = await server.inject({ method, url: path, payload: method === 'DELETE' ? undefined : 'x' });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    });

    it('carries the security headers', async () => {
      const res = await server.inject({ method: 'GET', url: path, headers: { host: 'pi.local:8082' } });
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
      expect(csp).toContain("connect-src 'self' ws://pi.local:8082 wss://pi.local:8082");
    });
  });

  it.each([
    ['application/json', '{"a":'],
    ['application/octet-stream', Buffer.alloc(64)],
    ['application/x-www-form-urlencoded', 'a=1'],
    ['text/plain', 'hello'],
  ])('answers 405 to a POST whatever its body (%s), never parsing it', async (type, payload) => {
    const res = await server.inject({ method: 'POST', url: '/viewer.js', headers: { 'content-type': type }, payload });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it.each(['/nope', '/nope.html', '/vendor/', '/vendor/other.js', '/public/index.html', '/viewer.js/x'])(
    'answers 404 for the unknown path %s',
    async (url) => {
      const res = await server.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
    },
  );

  it.each(['POST', 'PUT', 'DELETE'])('answers 404, not 405, for %s to an unknown path', async (method) => {
    const res = await server.inject({ method, url: '/nope' });
    expect(res.statusCode).toBe(404);
  });

  it('HEAD of an unknown path is 404 too', async () => {
    const res = await server.inject({ method: 'HEAD', url: '/nope' });
    expect(res.statusCode).toBe(404);
  });

  it('lists no directories', async () => {
    const res = await server.inject({ method: 'GET', url: '/vendor' });
    expect(res.statusCode).toBe(404);
  });

  it('the 404 of the plugin carries the CSP as well', async () => {
    const res = await server.inject({ method: 'GET', url: '/nope' });
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  const packageJson = readFileSync(join(__dirname, '..', '..', 'package.json'));
  it.each([
    '/..%2fpackage.json',
    '/%2e%2e/package.json',
    '/%2e%2e%2fpackage.json',
    '/..%5cpackage.json',
    '/vendor/..%2f..%2fpackage.json',
    '/%2e%2e/%2e%2e/package.json',
    '/package.json',
    '/.%2e/src/index.ts',
  ])('never serves a file outside public/: %s is 404', async (url) => {
    const res = await server.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.rawPayload.includes(packageJson.subarray(0, 40))).toBe(false);
  });

  it('the JSMpeg player may be cached, the page may not be cached for long', async () => {
    const res = await server.inject({ method: 'GET', url: JSMPEG_ROUTE });
    expect(res.headers['cache-control']).toMatch(/max-age=86400/);
  });
});

describe('page routes under a route prefix', () => {
  let hub: Hub;
  let server: Hapi.Server;

  beforeAll(async () => {
    hub = testPatternHub();
    server = await serverWithPlugin(hub, '/cam');
  });

  afterAll(async () => {
    await server.stop();
    hub.close();
  });

  it('redirects /cam to /cam/, so the page’s relative URLs stay under the prefix', async () => {
    const res = await server.inject({ method: 'GET', url: '/cam' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/cam/');
  });

  it('keeps the query string out of the way of the redirect target', async () => {
    const res = await server.inject({ method: 'GET', url: '/cam?x=1' });
    expect([301, 302, 307, 308]).toContain(res.statusCode);
    expect(String(res.headers.location).startsWith('/cam/')).toBe(true);
  });

  it('serves the page at /cam/ and its assets under /cam/', async () => {
    const page = await server.inject({ method: 'GET', url: '/cam/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.rawPayload.equals(readFileSync(join(PUBLIC_DIR, 'index.html')))).toBe(true);
    for (const url of ['/cam/index.html', '/cam/viewer.js', '/cam/viewer.css', `/cam${JSMPEG_ROUTE}`]) {
      expect((await server.inject({ method: 'GET', url })).statusCode).toBe(200);
    }
  });

  it('HEAD /cam/ works, POST /cam/ is 405', async () => {
    expect((await server.inject({ method: 'HEAD', url: '/cam/' })).statusCode).toBe(200);
    const post = await server.inject({ method: 'POST', url: '/cam/' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('serves nothing outside the prefix', async () => {
    for (const url of ['/', '/index.html', '/viewer.js', '/healthz']) {
      expect((await server.inject({ method: 'GET', url })).statusCode).toBe(404);
    }
    expect((await server.inject({ method: 'GET', url: '/cam/healthz' })).statusCode).toBe(200);
  });

  it('never serves a file outside public/ under the prefix', async () => {
    for (const url of ['/cam/..%2fpackage.json', '/cam/%2e%2e/package.json', '/cam/%2e%2e/%2e%2e/package.json']) {
      expect((await server.inject({ method: 'GET', url })).statusCode).toBe(404);
    }
  });
});

describe('contentSecurityPolicy()', () => {
  it('lets the WASM decoder compile and connects only back to the host', () => {
    const csp = contentSecurityPolicy('pi.local:8082');
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("connect-src 'self' ws://pi.local:8082 wss://pi.local:8082");
    expect(csp).not.toContain("'unsafe-inline'");
  });

  it('falls back to any ws: origin without a Host header', () => {
    expect(contentSecurityPolicy(undefined)).toContain("connect-src 'self' ws: wss:");
  });
});

/**
 * Runs the JSMpeg player file as the page would, against a stub document, and returns the text its injected
 * `<style>` element holds each time the browser would check it against the CSP: when the element joins the
 * document, and whenever text is added to it while it is in the document.
 */
function stylesTheBrowserChecks(): string[] {
  const checked: string[] = [];
  interface StubElement {
    inDocument: boolean;
    text: string;
    appendChild(child: { data: string }): unknown;
  }
  const head = {
    firstChild: null,
    appendChild(element: StubElement) {
      element.inDocument = true;
      checked.push(element.text);
      return element;
    },
    insertBefore(element: StubElement) {
      return head.appendChild(element);
    },
  };
  const document = {
    head,
    getElementsByTagName: () => [head],
    createElement(tag: string): StubElement {
      if (tag !== 'style') throw new Error(`the player made a <${tag}> at load; this stub only knows <style>`);
      return {
        inDocument: false,
        text: '',
        appendChild(child) {
          this.text += child.data;
          if (this.inDocument) checked.push(this.text);
          return child;
        },
      };
    },
    createTextNode: (data: string) => ({ data }),
  };
  const context: Record<string, unknown> = { document, navigator: { userAgent: '' } };
  context.window = context.self = context;
  vm.runInNewContext(readFileSync(jsmpegPlayerFile(), 'utf8'), context, { filename: jsmpegPlayerFile() });
  return checked;
}

/** The sources of the CSP's style-src directive. */
function styleSources(csp: string): string[] {
  const directive = csp
    .split(';')
    .map((d) => d.trim().split(/\s+/))
    .find(([name]) => name === 'style-src');
  return directive?.slice(1) ?? [];
}

const sha256Source = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe("the CSP and JSMpeg's injected style", () => {
  const checked = stylesTheBrowserChecks();

  it('the player injects one style: empty as it joins the document, then its CSS', () => {
    expect(checked).toHaveLength(2);
    expect(checked[0]).toBe('');
    expect(checked[1]!.length).toBeGreaterThan(100);
    expect(jsmpegInjectedStyle(readFileSync(jsmpegPlayerFile(), 'utf8'))).toBe(checked[1]);
  });

  it('style-src of the page allows exactly those texts by their sha256, and nothing inline otherwise', async () => {
    const hub = testPatternHub();
    const server = await serverWithPlugin(hub);
    try {
      const res = await server.inject({ method: 'GET', url: '/' });
      const sources = styleSources(String(res.headers['content-security-policy']));
      expect(sources).toEqual(["'self'", ...checked.map(sha256Source)]);
    } finally {
      await server.stop();
      hub.close();
    }
  });

  it('styleHashSource() is the CSP hash source of a text', () => {
    // sha256 of the empty string, as CSP spells it.
    expect(styleHashSource('')).toBe("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
    expect(styleHashSource('a{color:red}')).toBe(sha256Source('a{color:red}'));
  });

  it.each([
    ['no style-inject call', 'var a=1;'],
    ['a literal with an escape JSON does not know', 'document.createTextNode(A))}}(".a{content:\\x41}")'],
    ['an unterminated literal', 'document.createTextNode(A))}}(".a{color:red}'],
  ])('jsmpegInjectedStyle() finds nothing in %s', (_label, source) => {
    expect(jsmpegInjectedStyle(source)).toBeUndefined();
  });

  it('jsmpegInjectedStyle() decodes the escapes of the literal', () => {
    expect(jsmpegInjectedStyle('s.appendChild(document.createTextNode(e))}}(".a{content:\\"x\\"}",{});')).toBe('.a{content:"x"}');
  });

  it('without a readable player the policy keeps style-src to the origin and the page routes still load', () => {
    jest.isolateModules(() => {
      jest.doMock('node:fs', () => ({
        ...jest.requireActual<typeof import('node:fs')>('node:fs'),
        readFileSync: () => {
          throw new Error('EACCES');
        },
      }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded again inside jest.isolateModules
      const pages = require('../../src/server/pages') as typeof import('../../src/server/pages');
      expect(styleSources(pages.contentSecurityPolicy('pi.local'))).toEqual(["'self'"]);
      expect(pages.pageRoutes().length).toBeGreaterThan(0);
    });
    jest.dontMock('node:fs');
  });
});
