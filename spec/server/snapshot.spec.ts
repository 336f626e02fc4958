import type { ChildProcess } from 'node:child_process';
import Hapi from '@hapi/hapi';
import { concat, defer, firstValueFrom, NEVER, of, take, tap, throwError, toArray, VirtualTimeScheduler, type Observable } from 'rxjs';
import { readBarcode } from '../../src/barcode';
import { mpeg1 } from '../../src/codecs/mpeg1/mpeg1-codec';
import { mpegts } from '../../src/formats/mpegts';
import { createHub, type Hub } from '../../src/hub';
import type { Picture } from '../../src/picture';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { pistreamPlugin } from '../../src/server/plugin';
import { SnapshotError, Snapshotter, snapshotWidth } from '../../src/server/snapshot';
import { testPattern } from '../../src/sources/test-pattern';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';
import { runFfmpeg } from '../helpers/h264-streams';
import { exited } from '../helpers/recording-spawn';
import { testScheduler } from '../helpers/test-scheduler';

/** JPEG → gray pixels with ffmpeg, and its size from the SOF0 marker. */
async function gray(jpeg: Buffer): Promise<{ width: number; height: number; luma: (x: number, y: number) => number }> {
  let at = 2;
  while (jpeg[at] === 0xff && ![0xc0, 0xc1, 0xc2].includes(jpeg[at + 1]!)) at += 2 + jpeg.readUInt16BE(at + 2);
  const height = jpeg.readUInt16BE(at + 5);
  const width = jpeg.readUInt16BE(at + 7);
  const raw = await runFfmpeg(
    ['-hide_banner', '-v', 'error', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    jpeg,
  );
  expect(raw.length).toBe(width * height);
  return { width, height, luma: (x, y) => raw[y * width + x]! };
}

/** A hub-like stand-in whose pictures are whatever `pictures$` does (never come, error). */
function failingHub(pictures$: Observable<Picture>, lastError?: string): Pick<Hub, 'pictures$' | 'stats' | 'codec'> {
  return { pictures$, codec: mpeg1, stats: { lastError } as Hub['stats'] };
}

describe('Snapshotter with the test pattern and a real ffmpeg', () => {
  const spawned: ChildProcess[] = [];
  const hub = createHub({
    source: testPattern({ fps: 24 }),
    encoder: { width: 640, height: 480, fps: 24, gop: 24, onSpawn: (child) => spawned.push(child) },
    graceMs: 300,
  });
  const decoders: ChildProcess[] = [];
  // Decoders alive at once, counted from their own spawn and exit (not by sampling the process table, which also
  // catches the hub's encoder while it starts or stops around its grace period).
  let decoding = 0;
  let mostDecoding = 0;
  // The pictures the snapshotter took from the hub, the last of them the newest when it took its GOP.
  let taken: Picture | undefined;
  const watchedHub = { ...hub, pictures$: hub.pictures$.pipe(tap((picture) => (taken = picture))) };
  const snapshots = new Snapshotter(watchedHub, {
    ffmpeg: () => resolveFfmpeg().path,
    // Each request may start the camera again (grace 300 ms): on a machine busy with other work its first picture
    // can take longer than the product's 5 s; the timeout itself is specified with virtual time below.
    timeoutMs: 20_000,
    onSpawn: (child) => {
      decoders.push(child);
      mostDecoding = Math.max(mostDecoding, ++decoding);
      child.once('exit', () => decoding--);
    },
  });

  afterAll(async () => {
    hub.close();
    await Promise.all(spawned.map(exited));
  });

  it('starts the camera, decodes the newest picture: full size, the barcode readable and recent; then lets go', async () => {
    expect(hub.stats.running).toBe(false);
    const jpeg = await firstValueFrom(snapshots.jpeg());
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const { width, height, luma } = await gray(jpeg);
    expect([width, height]).toEqual([640, 480]);
    // Newest: the picture ffmpeg decoded is the last one the hub had given when the request took its GOP.
    expect(readBarcode(luma)).toEqual({ frame: taken!.seq, time: taken!.capturedAt % 2 ** 32 });
    // Nobody holds the hub now: it stops after its grace period.
    expect(hub.stats.subscribers).toBe(0);
  });

  it('scales to ?width keeping the aspect, and the barcode still reads at half size', async () => {
    const { width, height, luma } = await gray(await firstValueFrom(snapshots.jpeg(320)));
    expect([width, height]).toEqual([320, 240]);
    const half = readBarcode((x, y) => luma(x >> 1, y >> 1));
    expect(half).toBeDefined();
    // Never up: a width above the picture's is the picture as it is.
    expect((await gray(await firstValueFrom(snapshots.jpeg(4000)))).width).toBe(640);
  });

  it('runs one ffmpeg for concurrent requests of the same picture, and none for the same picture again', async () => {
    const before = decoders.length;
    const statsBefore = { ...snapshots.stats };
    // Subscribing replays the current GOP at once: three requests in one turn of the loop see the same newest picture.
    const [a, b, c] = await Promise.all([
      firstValueFrom(snapshots.jpeg(200)),
      firstValueFrom(snapshots.jpeg(200)),
      firstValueFrom(snapshots.jpeg(200)),
    ]);
    expect(decoders.length - before).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(snapshots.stats.shared - statsBefore.shared).toBe(2);
    // Two widths at once: two decodes, never two ffmpegs at the same time (the second starts once the first has exited).
    const spawnedBefore = decoders.length;
    mostDecoding = decoding;
    const [small, large] = await Promise.all([firstValueFrom(snapshots.jpeg(160)), firstValueFrom(snapshots.jpeg(240))]);
    expect(small).not.toBe(large);
    expect(decoders.length - spawnedBefore).toBe(2);
    expect(mostDecoding).toBe(1);
  });

  it('answers the same picture asked again from its cache', async () => {
    // A hub stand-in that holds one GOP still (replayed on subscribe, then nothing): every request sees the same newest picture.
    const gop = await firstValueFrom(hub.pictures$.pipe(take(3), toArray()));
    const stillHub = failingHub(concat(of(...gop), NEVER));
    const spawns: ChildProcess[] = [];
    const still = new Snapshotter(stillHub, { ffmpeg: () => resolveFfmpeg().path, onSpawn: (c) => spawns.push(c) });
    const first = await firstValueFrom(still.jpeg());
    const again = await firstValueFrom(still.jpeg());
    expect(again).toBe(first);
    expect(spawns).toHaveLength(1);
    expect(still.stats).toEqual({ decodes: 1, shared: 0, cached: 1 });
  });
});

describe('Snapshotter when no picture can be had (virtual time)', () => {
  it('errors with a SnapshotError after timeoutMs when pictures never come', () => {
    testScheduler().run(({ expectObservable }) => {
      const snapshots = new Snapshotter(failingHub(NEVER), { ffmpeg: () => 'ffmpeg', timeoutMs: 5000 });
      expectObservable(snapshots.jpeg()).toBe('5000ms #', undefined, new SnapshotError('no picture within 5000 ms'));
    });
  });

  it("names the hub's failure when the camera is failing, and ignores a GOP cached from before it", () => {
    testScheduler().run(({ expectObservable }) => {
      // A stale GOP replays at once, then nothing (the pipeline is restarting).
      const stale = concat(of({ keyframe: true } as Picture, { keyframe: false } as Picture), NEVER);
      const snapshots = new Snapshotter(failingHub(stale, 'ffmpeg exited with code 1'), { ffmpeg: () => 'ffmpeg', timeoutMs: 300 });
      expectObservable(snapshots.jpeg()).toBe(
        '300ms #',
        undefined,
        new SnapshotError('camera or encoder failing: ffmpeg exited with code 1'),
      );
    });
  });

  it('passes a hub error on at once', () => {
    testScheduler().run(({ expectObservable }) => {
      const snapshots = new Snapshotter(failingHub(throwError(() => new Error('boom'))), { ffmpeg: () => 'ffmpeg' });
      expectObservable(snapshots.jpeg()).toBe('#', undefined, new Error('boom'));
    });
  });
});

describe('snapshotWidth', () => {
  it.each([
    [undefined, undefined],
    ['320', 320],
    ['16', 16],
    ['4096', 4096],
  ])('takes %p', (raw, width) => expect(snapshotWidth(raw)).toBe(width));
  it.each([['0'], ['15'], ['4097'], ['-5'], ['3.5'], ['abc'], [''], ['1e3'], [['320', '640']], ['99999999999']])('refuses %p', (raw) => {
    expect(snapshotWidth(raw)).toEqual({ problem: 'width must be a whole number of pixels from 16 to 4096' });
  });
});

describe('GET /snapshot.jpg', () => {
  async function serverWith(options: object): Promise<Hapi.Server> {
    const server = Hapi.server();
    await server.register({ plugin: pistreamPlugin, options: { pages: false, ...options } });
    await server.initialize();
    return server;
  }

  it('serves image/jpeg with Cache-Control: no-store, under the page auth; 400 for a bad width; 405 for POST', async () => {
    const server = await serverWith({
      source: testPattern({ fps: 24 }),
      encoder: { width: 640, height: 480, fps: 24 },
      graceMs: 0,
      auth: { token: 'secret-token' },
      publicHealth: true,
    });
    try {
      expect((await server.inject('/snapshot.jpg')).statusCode).toBe(401);
      const ok = await server.inject('/snapshot.jpg?token=secret-token&width=320');
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['content-type']).toBe('image/jpeg');
      expect(ok.headers['cache-control']).toBe('no-store');
      expect((await gray(ok.rawPayload)).width).toBe(320);
      const bad = await server.inject('/snapshot.jpg?token=secret-token&width=wide');
      expect(bad.statusCode).toBe(400);
      expect(bad.result).toMatchObject({ message: 'width must be a whole number of pixels from 16 to 4096' });
      expect((await server.inject({ method: 'POST', url: '/snapshot.jpg?token=secret-token' })).statusCode).toBe(405);
    } finally {
      await server.stop();
    }
    await waitFor(() => ffmpegChildren().length === 0, 'ffmpeg to exit');
  });

  it("answers Home Assistant's Generic Camera as docs/recording.md sets it up: ?width=640 with HTTP Basic credentials", async () => {
    const size = { width: 1280, height: 720, fps: 24 };
    const server = await serverWith({ source: testPattern(size), encoder: size, graceMs: 0, auth: { users: { ha: 'pw' } } });
    try {
      const url = '/snapshot.jpg?width=640';
      const refused = await server.inject(url);
      expect([refused.statusCode, refused.headers['www-authenticate']]).toEqual([401, 'Basic realm="pistream", charset="UTF-8"']);
      const ok = await server.inject({ url, headers: { authorization: `Basic ${Buffer.from('ha:pw').toString('base64')}` } });
      expect([ok.statusCode, ok.headers['content-type']]).toEqual([200, 'image/jpeg']);
      const { width, height } = await gray(ok.rawPayload);
      expect([width, height]).toEqual([640, 360]);
    } finally {
      await server.stop();
    }
    await waitFor(() => ffmpegChildren().length === 0, 'ffmpeg to exit');
  });

  it('answers 503 with the reason as JSON after the timeout when the camera gives no picture (virtual time)', async () => {
    const scheduler = new VirtualTimeScheduler();
    const server = await serverWith({
      hub: {
        ...failingHub(NEVER),
        stream: () => NEVER,
        gops: () => NEVER,
        sound: () => undefined,
        formats: [mpegts],
        restarts$: NEVER,
        keepAlive: () => NEVER.subscribe(),
        close: () => undefined,
        width: 640,
        height: 480,
        fps: 24,
      },
      scheduler,
    });
    try {
      const timers = scheduler.actions.length;
      const response = server.inject('/snapshot.jpg');
      await waitFor(() => scheduler.actions.length > timers, 'the snapshot timeout to be scheduled');
      // Up to the timeout only (the heartbeat reschedules itself forever).
      scheduler.maxFrames = 5000;
      scheduler.flush();
      const res = await response;
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.result).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'no picture within 5000 ms' });
    } finally {
      await server.stop();
    }
  });
});

describe('Snapshotter: fresh enough is the same picture', () => {
  it('answers from its cache while the newest picture is under freshMs newer, and decodes again after', async () => {
    const encoders: ChildProcess[] = [];
    const source = createHub({
      source: testPattern({ fps: 24 }),
      encoder: { width: 640, height: 480, fps: 24, onSpawn: (c) => encoders.push(c) },
      graceMs: 0,
    });
    const gop = await firstValueFrom(source.pictures$.pipe(take(2), toArray()));
    source.close();
    await Promise.all(encoders.map(exited));
    let shift = 0;
    // Each request sees the same GOP (replayed, then nothing), its pictures captured `shift` ms later than the real ones.
    const moving = {
      ...failingHub(NEVER),
      pictures$: defer(() => concat(of(...gop.map((p) => ({ ...p, capturedAt: p.capturedAt + shift }))), NEVER)),
    };
    const spawns: ChildProcess[] = [];
    const snapshots = new Snapshotter(moving, { ffmpeg: () => resolveFfmpeg().path, freshMs: 200, onSpawn: (c) => spawns.push(c) });
    const first = await firstValueFrom(snapshots.jpeg());
    shift = 199;
    expect(await firstValueFrom(snapshots.jpeg())).toBe(first);
    expect(spawns).toHaveLength(1);
    shift = 200;
    expect(await firstValueFrom(snapshots.jpeg())).not.toBe(first);
    expect(spawns).toHaveLength(2);
    expect(snapshots.stats).toEqual({ decodes: 2, shared: 0, cached: 1 });
  });
});

describe('GET /snapshot.jpg per address', () => {
  it('takes a burst of 5 from one address, then 429 with Retry-After (virtual time: no refill)', async () => {
    const server = Hapi.server();
    const hub = {
      ...failingHub(NEVER),
      stream: () => NEVER,
      gops: () => NEVER,
      sound: () => undefined,
      formats: [mpegts],
      restarts$: NEVER,
      keepAlive: () => NEVER.subscribe(),
      close: () => undefined,
      width: 640,
      height: 480,
      fps: 24,
    };
    await server.register({
      plugin: pistreamPlugin,
      options: { pages: false, hub, scheduler: new VirtualTimeScheduler(), heartbeatMs: 0 },
    });
    // A bad width is answered at once (400), after the limit has counted the request.
    const ask = (remoteAddress: string) => server.inject({ url: '/snapshot.jpg?width=wide', remoteAddress });
    for (let i = 0; i < 5; i++) expect((await ask('10.0.0.1')).statusCode).toBe(400);
    const refused = await ask('10.0.0.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect((await ask('10.0.0.2')).statusCode).toBe(400);
    await server.stop();
  });
});
