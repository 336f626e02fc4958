import type { ServerRoute } from '@hapi/hapi';
import type { Hub } from '../hub';

/** Pictures must have flowed this recently for the stream to count as healthy. */
export const HEALTHY_WITHIN_MS = 2000;

/** What `/healthz` answers. */
export interface Health {
  readonly status: 'ok' | 'idle' | 'failing';
  readonly reason?: string;
  readonly running: boolean;
  readonly viewers: number;
  readonly pictures: number;
  readonly restarts: number;
  /** Ms since the last picture, or null when none came yet. */
  readonly lastPictureAgeMs: number | null;
}

/** Judges a hub's health (pure: `now` is given). */
export function health(hub: Hub, viewers: number, now: number): Health {
  const s = hub.stats;
  const age = s.lastPictureAt > 0 ? now - s.lastPictureAt : null;
  const base = { running: s.running, viewers, pictures: s.pictures, restarts: s.restarts, lastPictureAgeMs: age };
  if (s.running && age !== null && age <= HEALTHY_WITHIN_MS && !s.lastError) return { status: 'ok', ...base };
  if (!s.running && !s.lastError) {
    // On demand with nobody watching, the camera is off on purpose: that is healthy.
    return { status: 'idle', reason: 'no viewers: camera and encoder stopped until someone watches', ...base };
  }
  const reason = s.lastError
    ? `pipeline failing: ${s.lastError}`
    : age === null
      ? 'starting: no picture yet'
      : `no picture for ${age} ms`;
  return { status: 'failing', reason, ...base };
}

/** `GET /healthz`: 200 with a small JSON while pictures flow (or the camera is idle on purpose), else 503. */
export function healthRoute(hub: Hub, viewers: () => number): ServerRoute {
  return {
    method: 'GET',
    path: '/healthz',
    options: { cache: { privacy: 'private', expiresIn: 0 } },
    handler: (_request, h) => {
      const result = health(hub, viewers(), Date.now());
      return h.response(result).code(result.status === 'failing' ? 503 : 200);
    },
  };
}
