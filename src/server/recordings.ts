import type { ServerRoute } from '@hapi/hapi';
import Boom from '@hapi/boom';
// Type augmentation only (h.file); the plugin registers inert itself.
import '@hapi/inert';
import type { Recorder, RecordingEntry } from '../recording/recorder';
import { parseSegmentName } from '../recording/segment-name';
import { pathParam } from './request-target';

/** One recording as `GET /recordings` lists it. */
export interface RecordingListItem {
  /** File name, also its path under `/recordings/`: `pistream-20250114T093012.345Z.ts`. */
  readonly name: string;
  /** UTC start (capture time of its first picture), ISO 8601. */
  readonly start: string;
  /** Seconds of footage (to 0.1 s). */
  readonly duration: number;
  /** Bytes. */
  readonly size: number;
  /** Being written now (playable up to its last picture; it grows). */
  readonly open: boolean;
}

const CONTENT_TYPES = { ts: 'video/mp2t', mp4: 'video/mp4' } as const;

function listItem(entry: RecordingEntry): RecordingListItem {
  return {
    name: entry.name,
    start: new Date(entry.startMs).toISOString(),
    duration: Math.max(0, Math.round((entry.endMs - entry.startMs) / 100) / 10),
    size: entry.size,
    open: entry.open,
  };
}

/**
 * `GET /recordings`: the recorded segments, oldest first, as JSON (`[{ name, start, duration, size, open }]`).
 * `GET /recordings/{name}`: one segment, with `Range` support (so a player can seek), as long as it was when the
 * request came (a segment being written grows); only names the recorder makes are looked up at all (no traversal,
 * no other file of the directory, no symlinks), anything else is 404.
 */
export function recordingsRoutes(recorder: Recorder, dir: string): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/recordings',
      options: { cache: { otherwise: 'no-store' } },
      handler: async () => (await recorder.list()).map(listItem),
    },
    {
      method: 'GET',
      path: '/recordings/{name}',
      options: { cache: { otherwise: 'no-cache' } },
      handler: async (request, h) => {
        const name = pathParam(request, 'name');
        const parsed = parseSegmentName(name);
        // Listed means: a regular file (lstat) of that exact name in the directory, now.
        const entry = parsed ? (await recorder.list()).find((e) => e.name === name) : undefined;
        if (!parsed || !entry) throw Boom.notFound();
        const type = CONTENT_TYPES[parsed.ext];
        if (entry.size === 0) return h.response(Buffer.alloc(0)).type(type);
        // The size it has now, not at the end of the read: a segment being written grows, and a byte past
        // Content-Length would break the client's next request on the connection.
        return h.file(recorder.pathOf(name)!, { confine: dir, etagMethod: 'simple', start: 0, end: entry.size - 1 }).type(type);
      },
    },
  ];
}
