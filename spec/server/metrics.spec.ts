import Hapi from '@hapi/hapi';
import { createMetrics, FPS_WINDOW_MS } from '../../src/server/metrics';
import { pistreamPlugin } from '../../src/server/plugin';
import type { ViewerServer } from '../../src/server/viewer-server';
import { statsHub } from '../helpers/stats-hub';

/** One sample line of Prometheus text: `name{a="x",b="y"} value`. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses Prometheus text format (as prom-client writes it): samples, and the TYPE of each metric. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { samples, types };
}

/** The value of one sample; throws when it is missing. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (!found) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return found.value;
}

/** Viewers as metrics read them: a count and running totals. */
const noViewers = {
  viewerCount: 0,
  totals: () => ({ sent: 0, bytes: 0, dropped: { slow: 0, resync: 0 }, resyncs: 0 }),
} as unknown as ViewerServer;

describe('createMetrics (a fake clock, a hub that is only its stats)', () => {
  const T0 = 1_700_000_000_000;

  function setUp() {
    let now = T0;
    const hub = statsHub({ running: true, lastPictureAt: T0 });
    const registry = createMetrics(hub, noViewers, { now: () => now });
    const scrape = async () => parse(await registry.metrics()).samples;
    return { hub, scrape, advance: (ms: number) => (now += ms), at: () => now };
  }

  it('encoder fps: pictures per second between scrapes, over the last few seconds', async () => {
    const { hub, scrape, advance } = setUp();
    // Nothing measured yet: no time has passed since the metrics were made.
    expect(value(await scrape(), 'pistream_encoder_fps')).toBe(0);
    advance(2000);
    hub.stats.pictures += 48;
    expect(value(await scrape(), 'pistream_encoder_fps')).toBe(24);
    advance(1000);
    hub.stats.pictures += 12;
    // Over the 3 s since the first sample (still inside the window): 60 pictures.
    expect(value(await scrape(), 'pistream_encoder_fps')).toBe(20);
    // The encoder stalls: once the window has passed over the last pictures, the rate is 0.
    advance(FPS_WINDOW_MS + 1000);
    expect(value(await scrape(), 'pistream_encoder_fps')).toBeCloseTo(0);
    advance(1000);
    expect(value(await scrape(), 'pistream_encoder_fps')).toBe(0);
  });

  it('encoder fps: scrapes further apart than the window measure since the previous one', async () => {
    const { hub, scrape, advance } = setUp();
    await scrape();
    advance(15_000);
    hub.stats.pictures += 15 * 25;
    expect(value(await scrape(), 'pistream_encoder_fps')).toBe(25);
  });

  it('encoder state: 1 for the current state, 0 for the others; consecutive failures; restarts as a counter', async () => {
    const { hub, scrape } = setUp();
    let samples = await scrape();
    expect(value(samples, 'pistream_encoder_state', { state: 'running' })).toBe(1);
    expect(value(samples, 'pistream_encoder_state', { state: 'restarting' })).toBe(0);
    expect(value(samples, 'pistream_encoder_state', { state: 'idle' })).toBe(0);
    expect(value(samples, 'pistream_encoder_restarts_total')).toBe(0);

    Object.assign(hub.stats, { state: 'restarting', failures: 3, restarts: 5, lastError: 'ffmpeg exited with code 1' });
    samples = await scrape();
    expect(value(samples, 'pistream_encoder_state', { state: 'restarting' })).toBe(1);
    expect(value(samples, 'pistream_encoder_state', { state: 'running' })).toBe(0);
    expect(value(samples, 'pistream_encoder_consecutive_failures')).toBe(3);
    expect(value(samples, 'pistream_encoder_restarts_total')).toBe(5);

    Object.assign(hub.stats, { state: 'idle', running: false, failures: 0, restarts: 6 });
    samples = await scrape();
    expect(value(samples, 'pistream_encoder_state', { state: 'idle' })).toBe(1);
    expect(value(samples, 'pistream_encoder_running')).toBe(0);
    expect(value(samples, 'pistream_encoder_consecutive_failures')).toBe(0);
    expect(value(samples, 'pistream_encoder_restarts_total')).toBe(6);
  });

  it('frames dropped before the encoder, and the age of the last picture, from the fake clock', async () => {
    const { hub, scrape, advance } = setUp();
    hub.stats.framesIn = 100;
    hub.stats.framesDropped = 7;
    advance(1500);
    const samples = await scrape();
    expect(value(samples, 'pistream_frames_total')).toBe(100);
    expect(value(samples, 'pistream_frames_dropped_total')).toBe(7);
    expect(value(samples, 'pistream_last_picture_age_seconds')).toBe(1.5);
  });
});

describe('GET /metrics (server.inject through the plugin)', () => {
  let server: Hapi.Server;

  beforeAll(async () => {
    server = Hapi.server();
    await server.register({ plugin: pistreamPlugin, options: { hub: statsHub(), heartbeatMs: 0 } });
    await server.initialize();
  });
  afterAll(() => server.stop());

  it('is Prometheus text with the encoder metrics, typed', async () => {
    const res = await server.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parse(res.payload);
    expect(types.get('pistream_encoder_fps')).toBe('gauge');
    expect(types.get('pistream_encoder_state')).toBe('gauge');
    expect(types.get('pistream_encoder_consecutive_failures')).toBe('gauge');
    expect(types.get('pistream_encoder_restarts_total')).toBe('counter');
    expect(types.get('pistream_frames_dropped_total')).toBe('counter');
    expect(value(samples, 'pistream_encoder_state', { state: 'idle' })).toBe(1);
    expect(value(samples, 'pistream_encoder_fps')).toBe(0);
    expect(value(samples, 'pistream_viewers')).toBe(0);
  });
});
