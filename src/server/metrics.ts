import type { ServerRoute } from '@hapi/hapi';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Hub } from '../hub';
import type { ViewerServer } from './viewer-server';

/**
 * Prometheus metrics read from the live counters at scrape time (nothing is updated on the hot path for them).
 * Totals are counters: each scrape adds what the source counter gained since the previous scrape.
 */
export function createMetrics(hub: Hub, viewers: ViewerServer): Registry {
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
    help: 'Viewers connected now',
    registers: [registry],
    collect() {
      this.set(viewers.viewers.size);
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
      this.set(stats.lastPictureAt > 0 ? (Date.now() - stats.lastPictureAt) / 1000 : -1);
    },
  });
  totals('pistream_frames_total', 'Frames offered to the encoder', () => ({ '': stats.framesIn }));
  totals('pistream_frames_dropped_total', 'Frames dropped before the encoder (it was still busy)', () => ({ '': stats.framesDropped }));
  totals('pistream_pictures_total', 'Pictures produced by the encoder', () => ({ '': stats.pictures }));
  totals('pistream_encoder_restarts_total', 'Pipeline restarts after a failure', () => ({ '': stats.restarts }));
  totals('pistream_sent_pictures_total', 'Pictures sent to viewers', () => ({ '': viewers.totals().sent }));
  totals('pistream_sent_bytes_total', 'Bytes sent to viewers', () => ({ '': viewers.totals().bytes }));
  totals('pistream_dropped_pictures_total', 'Pictures not sent to a viewer, by reason (slow: it was behind; resync: waiting for a keyframe)', () => viewers.totals().dropped, 'reason');
  totals('pistream_resyncs_total', 'Times a slow viewer resumed at a keyframe', () => ({ '': viewers.totals().resyncs }));
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
