import type { ServerRoute } from '@hapi/hapi';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { DEFAULTS } from '../defaults';
import type { Hub } from '../hub';
import { isCameraKind } from '../sources/source-kinds';
import type { AudioHealth } from './audio-status';

/** Pictures must have flowed this recently for the stream to count as healthy. */
export const HEALTHY_WITHIN_MS: number = DEFAULTS.healthyWithinMs;

/** What `/healthz` answers. */
export interface Health {
  /**
   * `ok` while pictures flow; `idle` while nobody watches an on-demand camera; `degraded` when viewing works but an
   * optional part does not (recording), `reason` saying which; `failing` (503) when the pipeline runs and fails.
   */
  readonly status: 'ok' | 'idle' | 'degraded' | 'failing';
  readonly reason?: string;
  /**
   * What feeds the stream, as the plugin opened it: a camera (`rpicam`, `libcamera`, `raspivid`, `v4l2`), `file`,
   * `test` (the test pattern), `observable` (frames from the host application) or `hub` (the host's own hub). The
   * page words its status by `camera`. Absent when unknown.
   */
  readonly source?: string;
  /** Whether `source` is a camera (the source kinds' own fact), so the page need not know the kinds: present with `source`. */
  readonly camera?: boolean;
  readonly running: boolean;
  /** The pipeline's state: `idle` (off), `running`, or `restarting` (waiting out the backoff after a failure). */
  readonly state: 'idle' | 'running' | 'restarting';
  readonly viewers: number;
  readonly pictures: number;
  readonly restarts: number;
  /** Consecutive failures (the backoff grows with them); 0 once the pipeline has run healthy for a while. */
  readonly failures: number;
  /** While restarting: ms until the next attempt starts. */
  readonly nextAttemptInMs?: number;
  /** Ms since the last picture, or null when none came yet. */
  readonly lastPictureAgeMs: number | null;
  /** With `--publish`: each target (its URL redacted), its state, bytes sent and restarts. */
  readonly publish?: readonly PublishTargetHealth[];
  /** The sound: what captures it, its state and failures (a failing microphone makes the status `degraded`). */
  readonly audio?: AudioHealth;
}

/** One publish target as `/healthz` shows it: never its URL's credentials or stream key. */
export interface PublishTargetHealth {
  /** The URL redacted: `rtmp://a.rtmp.youtube.com/live2/***`. */
  readonly target: string;
  readonly state: 'stopped' | 'starting' | 'publishing' | 'retrying';
  /** Bytes sent to the target (all runs). */
  readonly bytes: number;
  /** Pictures skipped because the target fell behind (to the next keyframe). */
  readonly skipped: number;
  readonly restarts: number;
  readonly failures: number;
  readonly lastError?: string;
}

/** `4 s`, `1.5 s`, `300 ms`: a wait as a person reads it. */
function wait(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}

/**
 * Judges a hub's health (pure: `now` is given, on the hub scheduler's clock). A failing pipeline says what failed
 * and what happens next, e.g. `pipeline failing: ffmpeg was killed by SIGKILL; restarting in 4 s (attempt 3)`.
 *
 * @example
 * health(hub, 2, Date.now()).status; // 'ok' while pictures flow
 */
export function health(hub: Hub, viewers: number, now: number, source?: string, degraded?: string): Health {
  const s = hub.stats;
  const age = s.lastPictureAt > 0 ? now - s.lastPictureAt : null;
  const nextIn = s.state === 'restarting' && s.nextAttemptAt !== undefined ? Math.max(0, s.nextAttemptAt - now) : undefined;
  const base = {
    ...(source === undefined ? {} : { source, camera: isCameraKind(source) }),
    running: s.running,
    state: s.state,
    viewers,
    pictures: s.pictures,
    restarts: s.restarts,
    failures: s.failures,
    ...(nextIn === undefined ? {} : { nextAttemptInMs: nextIn }),
    lastPictureAgeMs: age,
  };
  if (s.running && age !== null && age <= HEALTHY_WITHIN_MS && !s.lastError) {
    return degraded === undefined ? { status: 'ok', ...base } : { status: 'degraded', reason: degraded, ...base };
  }
  if (!s.running && !s.lastError) {
    // On demand with nobody watching, the camera is off on purpose: that is healthy.
    if (degraded !== undefined) return { status: 'degraded', reason: degraded, ...base };
    return { status: 'idle', reason: 'no viewers: camera and encoder stopped until someone watches', ...base };
  }
  let reason: string;
  if (s.lastError) {
    // Attempt N is the Nth restart in a row, as `onRestart` numbers it.
    const next =
      s.state === 'restarting' && nextIn !== undefined
        ? `; restarting in ${wait(nextIn)} (attempt ${s.failures})`
        : s.state === 'running' && s.failures > 0
          ? `; restarted (attempt ${s.failures}), waiting for a picture`
          : '';
    reason = `pipeline failing: ${s.lastError}${next}`;
  } else {
    reason = age === null ? 'starting: no picture yet' : `no picture for ${age} ms`;
  }
  return { status: 'failing', reason, ...base };
}

/** Fields the parts add to `/healthz` beside the hub's own. */
export interface HealthDetails {
  readonly publish?: readonly PublishTargetHealth[];
  readonly audio?: AudioHealth;
}

/** What the parts report to `/healthz` (see `StatusReports`). */
export interface HealthReports {
  /** Viewers now, over every part that has them. */
  viewers(): number;
  /** Why an optional part fails while viewing works (`degraded`), or undefined. */
  problem(): string | undefined;
  healthDetails(): HealthDetails;
}

export interface HealthRouteOptions {
  /** The clock for picture ages (the hub's scheduler). Default `asyncScheduler`. */
  readonly scheduler?: Pick<SchedulerLike, 'now'>;
  /** The source kind, as {@link Health}'s `source` says it. */
  readonly source?: string;
}

/**
 * `GET /healthz`: 200 with a small JSON while pictures flow (or the camera is idle on purpose, or an optional part
 * such as recording fails: `degraded`, with the reported problem), else 503.
 *
 * @example
 * server.route(healthRoute(hub, reports, { source: 'test' }));
 */
export function healthRoute(hub: Hub, reports: HealthReports, options: HealthRouteOptions = {}): ServerRoute {
  const scheduler = options.scheduler ?? asyncScheduler;
  return {
    method: 'GET',
    path: '/healthz',
    options: { cache: { privacy: 'private', expiresIn: 0 } },
    handler: (_request, h) => {
      const judged = health(hub, reports.viewers(), scheduler.now(), options.source, reports.problem());
      const { publish, audio } = reports.healthDetails();
      const result = { ...judged, ...(publish?.length ? { publish } : {}), ...(audio ? { audio } : {}) };
      return h.response(result).code(result.status === 'failing' ? 503 : 200);
    },
  };
}
