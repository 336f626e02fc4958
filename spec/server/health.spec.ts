import Hapi from '@hapi/hapi';
import { firstValueFrom, map, throwError, type Subscription } from 'rxjs';
import { createHub, type Hub } from '../../src/hub';
import { health, HEALTHY_WITHIN_MS } from '../../src/server/health';
import { pistreamPlugin } from '../../src/server/plugin';
import { testPattern } from '../../src/sources/test-pattern';
import { pic } from '../helpers/pictures';
import { statsHub } from '../helpers/stats-hub';

const NOW = 1_700_000_000_000;

describe('health() (pure)', () => {
  it('is idle, and healthy, when nobody watches and the camera is off on purpose', () => {
    const result = health(statsHub({ running: false }), 0, NOW);
    expect(result).toEqual({
      status: 'idle',
      reason: expect.stringMatching(/no viewers/),
      running: false,
      state: 'idle',
      failures: 0,
      viewers: 0,
      pictures: 0,
      restarts: 0,
      lastPictureAgeMs: null,
    });
  });

  it('stays idle after the camera stopped, with the age of the last picture', () => {
    const result = health(statsHub({ running: false, lastPictureAt: NOW - 60_000, pictures: 500 }), 0, NOW);
    expect(result.status).toBe('idle');
    expect(result.lastPictureAgeMs).toBe(60_000);
    expect(result.pictures).toBe(500);
  });

  it('is degraded, with the reason, while pictures flow but an optional part (recording) fails; failing still wins', () => {
    const reason = 'recording stopped: ENOSPC: no space left on device, write; retrying every 5 s';
    expect(health(statsHub({ running: true, lastPictureAt: NOW - 40 }), 1, NOW, 'test', reason)).toMatchObject({
      status: 'degraded',
      reason,
      running: true,
    });
    expect(health(statsHub({ running: false }), 0, NOW, 'test', reason)).toMatchObject({ status: 'degraded', reason });
    expect(health(statsHub({ running: true, lastPictureAt: NOW - 40, lastError: 'ffmpeg exited' }), 1, NOW, 'test', reason).status).toBe(
      'failing',
    );
    expect(health(statsHub({ running: true, lastPictureAt: NOW - 40 }), 1, NOW, 'test', undefined).status).toBe('ok');
  });

  it('says whether the source is a camera, beside its kind, so the page needs no list of kinds', () => {
    const hub = statsHub({ running: true, lastPictureAt: NOW - 40 });
    expect(health(hub, 1, NOW, 'v4l2')).toMatchObject({ source: 'v4l2', camera: true });
    expect(health(hub, 1, NOW, 'rpicam')).toMatchObject({ source: 'rpicam', camera: true });
    expect(health(hub, 1, NOW, 'test')).toMatchObject({ source: 'test', camera: false });
    expect(health(hub, 1, NOW, 'file')).toMatchObject({ source: 'file', camera: false });
    expect(health(hub, 1, NOW)).not.toHaveProperty('camera');
  });

  it('is ok while pictures flow', () => {
    const result = health(statsHub({ running: true, lastPictureAt: NOW - 40, pictures: 10, restarts: 1 }), 2, NOW);
    expect(result).toEqual({
      status: 'ok',
      running: true,
      state: 'running',
      viewers: 2,
      pictures: 10,
      restarts: 1,
      failures: 0,
      lastPictureAgeMs: 40,
    });
    expect(result.reason).toBeUndefined();
  });

  it(`is ok up to ${HEALTHY_WITHIN_MS} ms after the last picture, failing after`, () => {
    const at = (age: number) => health(statsHub({ running: true, lastPictureAt: NOW - age }), 1, NOW);
    expect(at(HEALTHY_WITHIN_MS).status).toBe('ok');
    const late = at(HEALTHY_WITHIN_MS + 1);
    expect(late.status).toBe('failing');
    expect(late.reason).toBe(`no picture for ${HEALTHY_WITHIN_MS + 1} ms`);
  });

  it('is failing while running with no picture yet (starting)', () => {
    const result = health(statsHub({ running: true }), 1, NOW);
    expect(result.status).toBe('failing');
    expect(result.reason).toBe('starting: no picture yet');
    expect(result.lastPictureAgeMs).toBeNull();
  });

  it('is failing with the pipeline error, even if a picture came recently', () => {
    const result = health(
      statsHub({ running: true, lastPictureAt: NOW - 10, lastError: 'ffmpeg exited with code 1', restarts: 3, failures: 1 }),
      1,
      NOW,
    );
    expect(result.status).toBe('failing');
    expect(result.reason).toBe('pipeline failing: ffmpeg exited with code 1; restarted (attempt 1), waiting for a picture');
    expect(result.restarts).toBe(3);
  });

  it('says when a failing pipeline restarts, and which attempt that is', () => {
    const at = (nextAttemptAt: number) =>
      health(
        statsHub({
          running: true,
          state: 'restarting',
          lastError: 'ffmpeg was killed by SIGKILL',
          failures: 3,
          restarts: 7,
          nextAttemptAt,
          lastPictureAt: NOW - 5000,
        }),
        1,
        NOW,
      );
    const result = at(NOW + 4000);
    expect(result).toMatchObject({
      status: 'failing',
      state: 'restarting',
      reason: 'pipeline failing: ffmpeg was killed by SIGKILL; restarting in 4 s (attempt 3)',
      failures: 3,
      restarts: 7,
      nextAttemptInMs: 4000,
    });
    expect(at(NOW + 1500).reason).toMatch(/restarting in 1\.5 s \(attempt 3\)$/);
    expect(at(NOW + 300).reason).toMatch(/restarting in 300 ms \(attempt 3\)$/);
    expect(at(NOW - 5).nextAttemptInMs).toBe(0);
  });

  it('after the restart, until the first picture, says it restarted and waits', () => {
    const result = health(
      statsHub({ running: true, state: 'running', lastError: 'no picture for 5000 ms: camera or encoder stalled', failures: 2 }),
      1,
      NOW,
    );
    expect(result.status).toBe('failing');
    expect(result.reason).toBe(
      'pipeline failing: no picture for 5000 ms: camera or encoder stalled; restarted (attempt 2), waiting for a picture',
    );
    expect(result.nextAttemptInMs).toBeUndefined();
  });

  it('names the source when given (the page words its status by it), and leaves it out otherwise', () => {
    const hub = statsHub({ running: true, lastPictureAt: NOW - 40 });
    expect(health(hub, 1, NOW, 'v4l2')).toMatchObject({ status: 'ok', source: 'v4l2' });
    expect(health(hub, 1, NOW)).not.toHaveProperty('source');
  });

  it('is failing when an error is left over after the pipeline stopped', () => {
    expect(health(statsHub({ running: false, lastError: 'camera gone' }), 0, NOW)).toMatchObject({
      status: 'failing',
      reason: 'pipeline failing: camera gone',
    });
  });
});

async function serverFor(hub: Hub): Promise<Hapi.Server> {
  const server = Hapi.server();
  await server.register({ plugin: pistreamPlugin, options: { hub, heartbeatMs: 0 } });
  await server.initialize();
  return server;
}

describe('GET /healthz (server.inject)', () => {
  const servers: Hapi.Server[] = [];
  const hubs: Hub[] = [];
  const subscriptions: Subscription[] = [];

  afterAll(async () => {
    for (const s of subscriptions) s.unsubscribe();
    for (const s of servers) await s.stop();
    for (const h of hubs) h.close();
  });

  async function setUp(hub: Hub): Promise<Hapi.Server> {
    hubs.push(hub);
    const server = await serverFor(hub);
    servers.push(server);
    return server;
  }

  it('is 200 idle before anyone watches (nothing started)', async () => {
    const hub = createHub({ source: testPattern(), encoder: { width: 640, height: 480, fps: 24 } });
    const server = await setUp(hub);
    const res = await server.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toMatch(/no-cache/);
    expect(res.result).toMatchObject({ status: 'idle', running: false, viewers: 0, pictures: 0 });
    expect(hub.stats.running).toBe(false);
  });

  it("names the source the plugin opened: 'hub' for a host's hub, 'observable' for a host's frames", async () => {
    const withHub = await setUp(statsHub({}));
    expect((await withHub.inject('/healthz')).result).toMatchObject({ source: 'hub' });

    const server = Hapi.server();
    servers.push(server);
    await server.register({
      plugin: pistreamPlugin,
      // Nothing spawns before someone watches.
      options: { source: testPattern(), encoder: { width: 640, height: 480, fps: 24 }, heartbeatMs: 0 },
    });
    await server.initialize();
    hubs.push(server.plugins.pistream.hub);
    expect((await server.inject('/healthz')).result).toMatchObject({ status: 'idle', source: 'observable' });
  });

  it("is 200 'ok' while pictures flow", async () => {
    // The test pattern through a stand-in encoder (one keyframe per frame): real pictures, no ffmpeg.
    const hub = createHub({
      source: testPattern({ width: 640, height: 480, fps: 24 }),
      encoder: { width: 640, height: 480, fps: 24 },
      encode: map((frame) => ({ ...pic('I', frame.seq), capturedAt: frame.capturedAt })),
      graceMs: 0,
    });
    const server = await setUp(hub);
    const first = firstValueFrom(hub.pictures$);
    subscriptions.push(hub.pictures$.subscribe());
    await first;
    const res = await server.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.result).toMatchObject({ status: 'ok', running: true });
    expect((res.result as { lastPictureAgeMs: number }).lastPictureAgeMs).toBeLessThanOrEqual(HEALTHY_WITHIN_MS);
  });

  it('is 503 with the reason when the pipeline fails', async () => {
    let failures = 0;
    const hub = createHub({
      source: testPattern(),
      encoder: { width: 640, height: 480, fps: 24 },
      encode: () =>
        throwError(() => {
          failures++;
          return new Error('ffmpeg exited with code 1: Unrecognized option');
        }),
      // One failure is enough to look at: the restart waits longer than the test.
      restart: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      graceMs: 0,
    });
    const server = await setUp(hub);
    subscriptions.push(hub.pictures$.subscribe());
    expect(failures).toBe(1);
    const res = await server.inject('/healthz');
    expect(res.statusCode).toBe(503);
    expect(res.result).toMatchObject({
      status: 'failing',
      state: 'restarting',
      reason: expect.stringMatching(/^pipeline failing: ffmpeg exited with code 1: Unrecognized option; restarting in 60 s \(attempt 1\)$/),
      restarts: 1,
      failures: 1,
    });
    expect((res.result as { nextAttemptInMs: number }).nextAttemptInMs).toBeGreaterThan(50_000);
  });

  it('is 503 when pictures stopped coming', async () => {
    const server = await setUp(statsHub({ running: true, lastPictureAt: Date.now() - 3 * HEALTHY_WITHIN_MS }));
    const res = await server.inject('/healthz');
    expect(res.statusCode).toBe(503);
    expect((res.result as { reason: string }).reason).toMatch(/^no picture for \d+ ms$/);
  });

  it('answers HEAD as well', async () => {
    const server = await setUp(statsHub({}));
    const res = await server.inject({ method: 'HEAD', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBe(0);
  });
});
