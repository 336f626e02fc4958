import type { ServerRoute } from '@hapi/hapi';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Hub } from '../hub';
import { addRunningTotal, type TotalSample } from './running-total';
import type { ViewerServer } from './viewer-server';

/** How far back the encoder fps looks: "pictures per second over the last few seconds". */
export const FPS_WINDOW_MS = 5000;

/** What the viewer metrics read: the count and totals, and (optionally, a stand-in may lack it) each ack's lag. */
export type MeasuredViewers = Pick<ViewerServer, 'viewerCount' | 'totals'> & Partial<Pick<ViewerServer, 'ackLag$'>>;

/**
 * Pictures per second from a running total sampled at scrape time (nothing on the hot path): the rate since the
 * oldest sample of the last {@link FPS_WINDOW_MS} (or the newest before it, when scrapes are further apart).
 */
function rateOf(read: () => number, now: () => number): () => number {
  const samples: { at: number; total: number }[] = [{ at: now(), total: read() }];
  return () => {
    const at = now();
    const total = read();
    // Keep one sample at or beyond the window's start, so there is always a span to measure over.
    while (samples.length > 1 && samples[1]!.at <= at - FPS_WINDOW_MS) samples.shift();
    const from = samples[0]!;
    samples.push({ at, total });
    const seconds = (at - from.at) / 1000;
    return seconds > 0 ? Math.max(0, total - from.total) / seconds : 0;
  };
}

/** A gauge set from `read` at scrape time. */
function addGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** An unlabelled running total. */
const one = (total: number): TotalSample[] => [[{}, total]];

/** A running total per value of one label, from `{ value: total }`. */
const byLabel = (label: string, totals: Readonly<Record<string, number>>): TotalSample[] =>
  Object.entries(totals).map(([value, total]) => [{ [label]: value }, total]);

/**
 * The pipeline's metrics on `registry`, read from the hub's stats at scrape time: whether it runs and its state,
 * the last picture's age and the rate pictures come at, failures in a row, and the running totals of frames,
 * pictures, restarts and muxed bytes. `now` is the clock for ages and rates: the scheduler's (tests give their own).
 *
 * @example
 * addHubMetrics(registry, hub, scheduler);
 */
export function addHubMetrics(registry: Registry, hub: Pick<Hub, 'stats'>, scheduler: Pick<SchedulerLike, 'now'> = asyncScheduler): void {
  const now = (): number => scheduler.now();
  const stats = hub.stats;
  addGauge(registry, 'pistream_encoder_running', '1 while the source and encoder run', () => (stats.running ? 1 : 0));
  addGauge(registry, 'pistream_last_picture_age_seconds', 'Seconds since the encoder last produced a picture (-1: none yet)', () =>
    stats.lastPictureAt > 0 ? (now() - stats.lastPictureAt) / 1000 : -1,
  );
  const fps = rateOf(() => stats.pictures, now);
  addGauge(
    registry,
    'pistream_encoder_fps',
    `Pictures per second out of the encoder over the last ${FPS_WINDOW_MS / 1000} s (measured between scrapes)`,
    fps,
  );
  const states = ['idle', 'running', 'restarting'] as const;
  new Gauge({
    name: 'pistream_encoder_state',
    help: 'The pipeline state: 1 for the current one (idle: nobody watching; restarting: waiting out the backoff after a failure)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const state of states) this.set({ state }, stats.state === state ? 1 : 0);
    },
  });
  addGauge(
    registry,
    'pistream_encoder_consecutive_failures',
    'Failures in a row: reset once the pipeline has run healthy for restart.healthyMs, default a minute (the backoff grows with them)',
    () => stats.failures,
  );
  addRunningTotal(registry, { name: 'pistream_frames_total', help: 'Frames offered to the encoder' }, () => one(stats.framesIn));
  addRunningTotal(registry, { name: 'pistream_frames_dropped_total', help: 'Frames dropped before the encoder (it was still busy)' }, () =>
    one(stats.framesDropped),
  );
  addRunningTotal(registry, { name: 'pistream_pictures_total', help: 'Pictures produced by the encoder' }, () => one(stats.pictures));
  addRunningTotal(registry, { name: 'pistream_encoder_restarts_total', help: 'Pipeline restarts after a failure' }, () =>
    one(stats.restarts),
  );
  addRunningTotal(
    registry,
    {
      name: 'pistream_muxed_bytes_total',
      help: 'Bytes muxed per wire format, once for all its viewers (a format nobody watches muxes nothing)',
      labelNames: ['format'],
    },
    () => byLabel('format', stats.wireBytes),
  );
}

/**
 * The viewers' metrics on `registry`: how many watch, the running totals of what was sent, dropped (by reason) and
 * resynced, of the sound frames sent and dropped, and each ack's lag as a histogram.
 *
 * @example
 * addViewerMetrics(registry, viewers);
 */
export function addViewerMetrics(registry: Registry, viewers: MeasuredViewers): void {
  addGauge(registry, 'pistream_viewers', 'Viewers connected now, over every listener', () => viewers.viewerCount);
  addRunningTotal(registry, { name: 'pistream_sent_pictures_total', help: 'Pictures sent to viewers' }, () => one(viewers.totals().sent));
  addRunningTotal(registry, { name: 'pistream_sent_bytes_total', help: 'Bytes sent to viewers' }, () => one(viewers.totals().bytes));
  addRunningTotal(
    registry,
    {
      name: 'pistream_dropped_pictures_total',
      help: 'Pictures not sent to a viewer, by reason (lag: its acks were over the lag bound; backlog: its socket held over the high-water mark; resync: caught up, waiting for a keyframe)',
      labelNames: ['reason'],
    },
    () => byLabel('reason', viewers.totals().dropped),
  );
  addRunningTotal(registry, { name: 'pistream_resyncs_total', help: 'Times a slow viewer resumed at a keyframe' }, () =>
    one(viewers.totals().resyncs),
  );
  addRunningTotal(
    registry,
    {
      name: 'pistream_sound_frames_total',
      help: 'Sound frames sent apart from the pictures to WebSocket viewers, by outcome (dropped: the socket was backed up or lagging, or the frame too old)',
      labelNames: ['outcome'],
    },
    () => {
      const { soundSent, soundDropped } = viewers.totals();
      return byLabel('outcome', { sent: soundSent, dropped: soundDropped });
    },
  );
  const lag = new Histogram({
    name: 'pistream_viewer_lag_seconds',
    help: 'Time from sending a picture to the viewer acknowledging it as decoded, observed per ack',
    buckets: [0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5],
    registers: [registry],
  });
  // Per ack (a page acks at most every 100 ms), not per picture. Completes when the viewer server closes.
  viewers.ackLag$?.subscribe((ms) => lag.observe(ms / 1000));
}

/**
 * Prometheus metrics read from the live counters at scrape time (nothing is updated on the hot path for them): the
 * viewers' and the pipeline's, on a registry of their own. Totals are counters: each scrape adds what the source
 * counter gained since the previous scrape.
 *
 * @example
 * server.route(metricsRoute(createMetrics(hub, viewers)));
 */
export function createMetrics(
  hub: Pick<Hub, 'stats'>,
  viewers: MeasuredViewers,
  scheduler: Pick<SchedulerLike, 'now'> = asyncScheduler,
): Registry {
  const registry = new Registry();
  addViewerMetrics(registry, viewers);
  addHubMetrics(registry, hub, scheduler);
  return registry;
}

/** `GET /metrics` in Prometheus text format. */
export function metricsRoute(registry: Registry): ServerRoute {
  return {
    method: 'GET',
    path: '/metrics',
    handler: async (_request, h) => h.response(await registry.metrics()).type(registry.contentType),
  };
}
