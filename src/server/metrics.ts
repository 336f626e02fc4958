import type { ServerRoute } from '@hapi/hapi';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Hub } from '../hub';
import type { ViewerServer } from './viewer-server';

/** How far back the encoder fps looks: "pictures per second over the last few seconds". */
export const FPS_WINDOW_MS = 5000;

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

/**
 * Prometheus metrics read from the live counters at scrape time (nothing is updated on the hot path for them).
 * Totals are counters: each scrape adds what the source counter gained since the previous scrape. `now` is the
 * clock for ages and rates: the scheduler's (tests give their own).
 *
 * @example
 * server.route(metricsRoute(createMetrics(hub, viewers)));
 */
export function createMetrics(
  hub: Hub,
  viewers: Pick<ViewerServer, 'viewerCount' | 'totals'> & Partial<Pick<ViewerServer, 'ackLag$'>>,
  scheduler: Pick<SchedulerLike, 'now'> = asyncScheduler,
): Registry {
  const now = (): number => scheduler.now();
  const registry = new Registry();
  /** A counter fed from running totals; `read` gives the total per label value ('' when unlabelled). */
  const totals = (name: string, help: string, read: () => Record<string, number>, label?: string): void => {
    const seen = new Map<string, number>();
    const counter: Counter = new Counter({
      name,
      help,
      labelNames: label ? [label] : [],
      registers: [registry],
      collect() {
        for (const [key, value] of Object.entries(read())) {
          const before = seen.get(key) ?? 0;
          // inc(0) too, so every label value is exported from the first scrape.
          counter.inc(label ? { [label]: key } : {}, Math.max(0, value - before));
          seen.set(key, value);
        }
      },
    });
  };
  const stats = hub.stats;
  new Gauge({
    name: 'pistream_viewers',
    help: 'Viewers connected now, over every listener',
    registers: [registry],
    collect() {
      this.set(viewers.viewerCount);
    },
  });
  new Gauge({
    name: 'pistream_encoder_running',
    help: '1 while the source and encoder run',
    registers: [registry],
    collect() {
      this.set(stats.running ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pistream_last_picture_age_seconds',
    help: 'Seconds since the encoder last produced a picture (-1: none yet)',
    registers: [registry],
    collect() {
      this.set(stats.lastPictureAt > 0 ? (now() - stats.lastPictureAt) / 1000 : -1);
    },
  });
  const fps = rateOf(() => stats.pictures, now);
  new Gauge({
    name: 'pistream_encoder_fps',
    help: `Pictures per second out of the encoder over the last ${FPS_WINDOW_MS / 1000} s (measured between scrapes)`,
    registers: [registry],
    collect() {
      this.set(fps());
    },
  });
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
  new Gauge({
    name: 'pistream_encoder_consecutive_failures',
    help: 'Failures in a row: reset once the pipeline has run healthy for restart.healthyMs, default a minute (the backoff grows with them)',
    registers: [registry],
    collect() {
      this.set(stats.failures);
    },
  });
  totals('pistream_frames_total', 'Frames offered to the encoder', () => ({ '': stats.framesIn }));
  totals('pistream_frames_dropped_total', 'Frames dropped before the encoder (it was still busy)', () => ({ '': stats.framesDropped }));
  totals('pistream_pictures_total', 'Pictures produced by the encoder', () => ({ '': stats.pictures }));
  totals('pistream_encoder_restarts_total', 'Pipeline restarts after a failure', () => ({ '': stats.restarts }));
  totals('pistream_muxed_bytes_total', 'Bytes muxed per wire format, once for all its viewers (a format nobody watches muxes nothing)', () => stats.wireBytes, 'format');
  totals('pistream_sent_pictures_total', 'Pictures sent to viewers', () => ({ '': viewers.totals().sent }));
  totals('pistream_sent_bytes_total', 'Bytes sent to viewers', () => ({ '': viewers.totals().bytes }));
  totals('pistream_dropped_pictures_total', 'Pictures not sent to a viewer, by reason (lag: its acks were over the lag bound; backlog: its socket held over the high-water mark; resync: caught up, waiting for a keyframe)', () => viewers.totals().dropped, 'reason');
  totals('pistream_resyncs_total', 'Times a slow viewer resumed at a keyframe', () => ({ '': viewers.totals().resyncs }));
  const lag = new Histogram({
    name: 'pistream_viewer_lag_seconds',
    help: 'Time from sending a picture to the viewer acknowledging it as decoded, observed per ack',
    buckets: [0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5],
    registers: [registry],
  });
  // Per ack (a page acks at most every 100 ms), not per picture. Completes when the viewer server closes.
  // (Optional so a stand-in for the viewer server with only the counters still works.)
  viewers.ackLag$?.subscribe((ms) => lag.observe(ms / 1000));
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
