import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Hapi from '@hapi/hapi';
import Inert from '@hapi/inert';
import type { Recorder } from '../../src/recording/recorder';
import { recordingsRoutes } from '../../src/server/recordings';
import { pistreamPlugin } from '../../src/server/plugin';
import { waitFor } from '../helpers/child-processes';
import { standInHub } from '../helpers/stand-in-hub';

async function serverWith(options: object): Promise<Hapi.Server> {
  const server = Hapi.server();
  await server.register({ plugin: pistreamPlugin, options: { hub: standInHub(), ...options } });
  await server.start();
  return server;
}

const segments = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.startsWith('pistream-'))
    .sort();

describe('/recordings', () => {
  let dir: string;
  let server: Hapi.Server;
  const auth = { authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}` };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-recordings-'));
    server = await serverWith({ record: { dir, segmentSeconds: 1 }, auth: { users: { ann: 'pw' } } });
    // Two closed segments and an open one (the stand-in makes a keyframe of every frame, at 24 fps).
    await waitFor(() => segments(dir).length >= 3, 'three segments', 10_000);
  });

  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the segments as JSON (name, start, duration, size, open), behind the page auth', async () => {
    expect((await server.inject('/recordings')).statusCode).toBe(401);
    const res = await server.inject({ url: '/recordings', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const list = res.result as Array<{ name: string; start: string; duration: number; size: number; open: boolean }>;
    expect(list.length).toBeGreaterThanOrEqual(3);
    const first = list[0]!;
    expect(first.name).toMatch(/^pistream-\d{8}T\d{6}\.\d{3}Z\.ts$/);
    expect(Date.parse(first.start)).toBeGreaterThan(Date.now() - 60_000);
    // A closed segment is cut at the first keyframe a second (segmentSeconds) or more after its start, where the next
    // one starts, and lasts to its last picture plus a frame: at most 1.04 s, shown as 1.0 (every picture is a
    // keyframe here). Judged by the starts, not by '>= 1 s of pictures': a loaded machine's source skips late frames,
    // which can leave the last picture before the cut earlier than 958 ms.
    expect(Date.parse(list[1]!.start) - Date.parse(first.start)).toBeGreaterThanOrEqual(1000);
    expect(first.duration).toBeLessThanOrEqual(1);
    expect(first.size).toBeGreaterThan(0);
    expect(list.filter((e) => e.open)).toHaveLength(1);
    expect(list[list.length - 1]!.open).toBe(true);
  });

  it('serves a segment whole and by Range (a player can seek)', async () => {
    const [name] = segments(dir);
    const bytes = readFileSync(join(dir, name!));
    const whole = await server.inject({ url: `/recordings/${name}`, headers: auth });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp2t');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.rawPayload.equals(bytes)).toBe(true);
    const part = await server.inject({ url: `/recordings/${name}`, headers: { ...auth, range: 'bytes=188-375' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 188-375/${bytes.length}`);
    expect(part.rawPayload.equals(bytes.subarray(188, 376))).toBe(true);
    expect((await server.inject({ url: `/recordings/${name}` })).statusCode).toBe(401);
    expect((await server.inject({ method: 'DELETE', url: `/recordings/${name}`, headers: auth })).statusCode).toBe(405);
  });

  it('refuses traversal and every name the recorder did not make: 404 or 400, never a byte of another file', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'SECRET-NOTES');
    // A symlink with a recorder-shaped name must not lead out of the directory either.
    symlinkSync('/etc/passwd', join(dir, 'pistream-20200101T000000.000Z.ts'));
    const vectors = [
      '/recordings/..%2f..%2f..%2fetc%2fpasswd',
      '/recordings/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/recordings/..%5c..%5cetc%5cpasswd',
      '/recordings/%2fetc%2fpasswd',
      '/recordings//etc/passwd',
      '/recordings/../package.json',
      '/recordings/%2e%2e/package.json',
      '/recordings/notes.txt',
      '/recordings/notes.txt%00.ts',
      '/recordings/pistream-20250114T093012.345Z.ts%00',
      '/recordings/pistream-20251314T093012.345Z.ts',
      '/recordings/pistream-20250114T093012.345Z.ts',
      '/recordings/pistream-20200101T000000.000Z.ts',
      `/recordings/${encodeURIComponent(join(dir, 'notes.txt'))}`,
      '/recordings/.',
      '/recordings/%2e',
    ];
    for (const url of vectors) {
      const res = await server.inject({ url, headers: auth });
      expect([url, [400, 404].includes(res.statusCode)]).toEqual([url, true]);
      expect(res.payload).not.toMatch(/SECRET-NOTES|root:|"name": *"pistream/);
    }
  });

  it('hides /recordings (404) when the server does not record', async () => {
    const plain = await serverWith({});
    try {
      expect((await plain.inject('/recordings')).statusCode).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});

describe('/healthz while recording cannot write', () => {
  it('says degraded (200) with the reason, streaming going on', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'pistream-recordings-'));
    const blocked = join(parent, 'blocked');
    const server = Hapi.server();
    await server.register({ plugin: pistreamPlugin, options: { hub: standInHub(), record: { dir: blocked } } });
    // The folder passed the check at registration; by the first segment it is a file (a mount gone, a disk swapped).
    rmSync(blocked, { recursive: true });
    writeFileSync(blocked, 'a file where the directory should be');
    await server.start();
    try {
      await waitFor(() => server.plugins.pistream.recorder?.problem !== undefined, 'the recorder to fail');
      const res = await server.inject('/healthz');
      expect(res.statusCode).toBe(200);
      expect(res.result).toMatchObject({ status: 'degraded', running: true });
      expect((res.result as { reason: string }).reason).toMatch(
        /^recording stopped: EEXIST: file already exists, mkdir .*blocked'; retrying every 5 s$/,
      );
    } finally {
      await server.stop();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('/recordings with a relative --record directory', () => {
  it('serves the segments it lists (the directory is resolved once, at start)', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'pistream-relative-'));
    const relativeDir = join(relative(process.cwd(), parent), 'rec');
    const server = await serverWith({ record: { dir: relativeDir, segmentSeconds: 1 } });
    try {
      expect(server.plugins.pistream.recorder?.pathOf('pistream-20250114T093012.345Z.ts')).toBe(
        join(parent, 'rec', 'pistream-20250114T093012.345Z.ts'),
      );
      // Made at registration (the start-up check), filled by the recorder.
      await waitFor(() => existsSync(join(parent, 'rec')) && segments(join(parent, 'rec')).length >= 2, 'two segments', 10_000);
      const [name] = segments(join(parent, 'rec'));
      const res = await server.inject(`/recordings/${name}`);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.length).toBeGreaterThan(0);
    } finally {
      await server.stop();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('a segment being written', () => {
  it('is served as long as it was when the request came, never a byte past Content-Length', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pistream-growing-'));
    const name = 'pistream-20250114T093012.345Z.ts';
    writeFileSync(join(dir, name), Buffer.alloc(1000, 7));
    // The listing said 100 bytes when the request came; the file has grown since.
    const entry = { name, startMs: 0, endMs: 0, size: 100, open: true };
    const recorder = { list: async () => [entry], pathOf: (n: string) => join(dir, n) } as unknown as Recorder;
    const server = Hapi.server();
    await server.register(Inert);
    server.route(recordingsRoutes(recorder, dir));
    try {
      const res = await server.inject(`/recordings/${name}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBe(100);
      expect(res.rawPayload.length).toBe(100);
      const tail = await server.inject({ url: `/recordings/${name}`, headers: { range: 'bytes=-10' } });
      expect(tail.headers['content-range']).toBe('bytes 90-99/100');
      expect(tail.rawPayload.length).toBe(10);
      entry.size = 0;
      expect((await server.inject(`/recordings/${name}`)).rawPayload.length).toBe(0);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
