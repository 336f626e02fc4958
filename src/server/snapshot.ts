import type { Request, ServerRoute } from '@hapi/hapi';
import Boom from '@hapi/boom';
import {
  asyncScheduler,
  defer,
  finalize,
  firstValueFrom,
  from,
  map,
  Observable,
  of,
  reduce,
  share,
  switchMap,
  tap,
  throwError,
  timeout,
  type SchedulerLike,
} from 'rxjs';
import { CODECS } from '../codecs';
import { pipeInputArgs } from '../codecs/pipe-input';
import { DEFAULTS, LIMITS } from '../defaults';
import type { Hub } from '../hub';
import type { Picture } from '../picture';
import { fromChildProcess, type ChildProcessOptions, type SpawnFn } from '../process/child-process';
import { probeFfmpeg } from '../process/ffmpeg-path';
import type { RateLimiter } from './rate-limit';

/** Why no snapshot could be had: the message is the 503's reason. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

export interface SnapshotterOptions {
  /** The ffmpeg to decode with, asked at each decode (so a host's hub without one fails per request, with a reason). */
  readonly ffmpeg: () => string;
  /** No JPEG within this long (camera start and decode included): a {@link SnapshotError}. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** A JPEG made or being made of a picture less than this much older than the newest is the answer. Default 200 ms. */
  readonly freshMs?: number;
  /** JPEG quantiser (`-q:v`, 2–31). Default `DEFAULTS.snapshotQuality`. */
  readonly quality?: number;
  /** For the timeout (a virtual-time scheduler in tests). */
  readonly scheduler?: SchedulerLike;
  /** Injected `spawn`, and a look at each ffmpeg (tests count them). */
  readonly spawn?: SpawnFn;
  readonly onSpawn?: ChildProcessOptions['onSpawn'];
}

/** Counters of a {@link Snapshotter} (a plain object, updated in place). */
export interface SnapshotStats {
  /** ffmpeg runs. */
  decodes: number;
  /** Requests that joined a decode of the same picture (or one fresh enough) already under way. */
  shared: number;
  /** Requests answered from a JPEG decoded before, of the same picture or one fresh enough. */
  cached: number;
}

/** JPEGs kept for pictures asked again: one per width asked of the newest picture or two, is all that repeats. */
const CACHED_JPEGS = 4;

/**
 * The hub's current GOP up to its newest picture, once: what `pictures$` replays on subscribe when the camera runs,
 * else (subscribing starts it) the first keyframe to come. A GOP replayed from before a failure is not the newest
 * picture, so while the hub reports one, the restarted pipeline's first keyframe is waited for instead.
 */
export function newestGop(hub: Pick<Hub, 'pictures$' | 'stats'>): Observable<readonly Picture[]> {
  return new Observable<readonly Picture[]>((subscriber) => {
    let gop: Picture[] = [];
    let replaying = true;
    const subscription = hub.pictures$.subscribe({
      next: (picture) => {
        if (picture.keyframe) gop = [picture];
        else if (gop.length > 0) gop.push(picture);
        else return;
        if (!replaying) {
          subscriber.next(gop);
          subscriber.complete();
        }
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.error(new SnapshotError('the stream stopped (server shutting down)')),
    });
    replaying = false;
    if (hub.stats.lastError !== undefined) gop = [];
    else if (gop.length > 0) {
      subscriber.next(gop);
      subscriber.complete();
    }
    return subscription;
  });
}

/** A JPEG, made or on its way, of the picture captured at `capturedAt`, at one width. */
interface Made<T> {
  readonly capturedAt: number;
  readonly width: string;
  readonly value: T;
}

/**
 * `/snapshot.jpg`'s engine: the newest picture of a hub as a JPEG, decoded from its GOP (keyframe … newest) by one
 * ffmpeg on demand, no second encoder running. At most one ffmpeg at a time; requests for the same picture (and
 * width), or for one less than `freshMs` newer, share one decode while it runs and get its JPEG afterwards, so a
 * flood of requests cannot keep ffmpeg decoding back to back; asking starts the camera like a viewer
 * (and lets go after, so the grace period applies). Bounded by `timeoutMs`: then a {@link SnapshotError}.
 *
 * @example
 * const snapshots = new Snapshotter(hub, { ffmpeg: () => resolveFfmpeg().path });
 * const jpeg = await firstValueFrom(snapshots.jpeg(320));
 */
export class Snapshotter {
  readonly stats: SnapshotStats = { decodes: 0, shared: 0, cached: 0 };
  private readonly inflight = new Map<string, Made<Observable<Buffer>>>();
  private readonly cache = new Map<string, Made<Buffer>>();
  /** Resolves when the ffmpeg before the last in line is done: decodes take turns. */
  private turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly hub: Pick<Hub, 'pictures$' | 'stats' | 'codec'>,
    private readonly options: SnapshotterOptions,
  ) {}

  /** The newest picture as a JPEG, `width` pixels wide at most (aspect kept), once. Errors with {@link SnapshotError}. */
  jpeg(width?: number): Observable<Buffer> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULTS.snapshotTimeoutMs;
    return defer(() => {
      const { codec } = this.hub;
      if (!codec.pipeInput) {
        const decodable = CODECS.filter((known) => known.pipeInput).map((known) => known.label);
        return throwError(() => new SnapshotError(`snapshots decode ${decodable.join(' and ')}, not ${codec.label}`));
      }
      const input = pipeInputArgs(codec);
      return newestGop(this.hub).pipe(switchMap((gop) => this.decodeOnce(gop, input, width)));
    }).pipe(
      timeout({
        first: timeoutMs,
        scheduler: this.options.scheduler ?? asyncScheduler,
        with: () => {
          const failing = this.hub.stats.lastError;
          return throwError(
            () => new SnapshotError(failing ? `camera or encoder failing: ${failing}` : `no picture within ${timeoutMs} ms`),
          );
        },
      }),
    );
  }

  private decodeOnce(gop: readonly Picture[], input: readonly string[], width: number | undefined): Observable<Buffer> {
    const newest = gop[gop.length - 1]!;
    // Scaling only ever goes down; a width at or above the picture's is the picture as it is.
    const scaleTo = width !== undefined && width < newest.width ? width : undefined;
    const size = String(scaleTo ?? 'full');
    const key = `${newest.seq}/${newest.capturedAt}/${size}`;
    const cached = this.fresh(this.cache, newest.capturedAt, size);
    if (cached) {
      this.stats.cached++;
      return of(cached);
    }
    const running = this.fresh(this.inflight, newest.capturedAt, size);
    if (running) {
      this.stats.shared++;
      return running;
    }
    const decode$ = this.serially(defer(() => this.decode(gop, input, scaleTo))).pipe(
      tap((jpeg) => this.remember(key, { capturedAt: newest.capturedAt, width: size, value: jpeg })),
      finalize(() => this.inflight.delete(key)),
      // Ref-counted: when every request waiting for it gives up (timeout, closed connection), so does the decode.
      share(),
    );
    this.inflight.set(key, { capturedAt: newest.capturedAt, width: size, value: decode$ });
    return decode$;
  }

  /** The value made of a picture at most `freshMs` older than the one captured at `capturedAt`, at `width`. */
  private fresh<T>(made: ReadonlyMap<string, Made<T>>, capturedAt: number, width: string): T | undefined {
    const freshMs = this.options.freshMs ?? DEFAULTS.snapshotFreshMs;
    for (const entry of made.values()) {
      const age = capturedAt - entry.capturedAt;
      if (entry.width === width && age >= 0 && age < Math.max(freshMs, 1)) return entry.value;
    }
    return undefined;
  }

  /** Runs `work$` when the decodes queued before it are done; gives its turn up at once if unsubscribed first. */
  private serially<T>(work$: Observable<T>): Observable<T> {
    return defer(() => {
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      const before = this.turn;
      this.turn = before.then(() => done);
      return from(before).pipe(
        switchMap(() => work$),
        finalize(() => release()),
      );
    });
  }

  private decode(gop: readonly Picture[], input: readonly string[], width: number | undefined): Observable<Buffer> {
    return defer(async () => {
      const ffmpeg = this.options.ffmpeg();
      const passthrough = (await probeFfmpeg(ffmpeg)).fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
      return { ffmpeg, passthrough };
    }).pipe(
      switchMap(({ ffmpeg, passthrough }) => {
        this.stats.decodes++;
        // Only the last picture is kept (select) and encoded: the others are decoded because it refers to them.
        const filters = [`select=eq(n\\,${gop.length - 1})`, ...(width !== undefined ? [`scale=${width}:-2`] : [])];
        const args = [
          ...['-hide_banner', '-loglevel', 'error'],
          ...input,
          '-an',
          ...passthrough,
          ...['-vf', filters.join(','), '-frames:v', '1'],
          ...['-c:v', 'mjpeg', '-q:v', String(this.options.quality ?? DEFAULTS.snapshotQuality), '-f', 'image2pipe', 'pipe:1'],
        ];
        const stream = Buffer.concat(gop.map((picture) => picture.data));
        return fromChildProcess(ffmpeg, args, {
          ...(this.options.spawn ? { spawn: this.options.spawn } : {}),
          ...(this.options.onSpawn ? { onSpawn: this.options.onSpawn } : {}),
          stdin: (stdin) => {
            stdin.end(stream);
          },
        });
      }),
      reduce((chunks: Buffer[], chunk: Buffer) => [...chunks, chunk], []),
      map((chunks) => {
        const jpeg = Buffer.concat(chunks);
        if (jpeg.length === 0) throw new SnapshotError('ffmpeg decoded no picture from the current GOP');
        return jpeg;
      }),
    );
  }

  private remember(key: string, jpeg: Made<Buffer>): void {
    this.cache.set(key, jpeg);
    for (const old of this.cache.keys()) {
      if (this.cache.size <= CACHED_JPEGS) break;
      this.cache.delete(old);
    }
  }
}

/**
 * `?width=` of a snapshot request: undefined when absent, a whole number of pixels in the allowed range, or a
 * message saying what is allowed.
 */
export function snapshotWidth(raw: unknown): number | undefined | { readonly problem: string } {
  if (raw === undefined) return undefined;
  const problem = `width must be a whole number of pixels from ${LIMITS.snapshotMinWidth} to ${LIMITS.snapshotMaxWidth}`;
  if (typeof raw !== 'string' || !/^\d{1,5}$/.test(raw)) return { problem };
  const width = Number(raw);
  return width >= LIMITS.snapshotMinWidth && width <= LIMITS.snapshotMaxWidth ? width : { problem };
}

/** Requests per client address that `/snapshot.jpg` takes (429 with `Retry-After` beyond). */
export interface SnapshotRateLimit {
  readonly limiter: RateLimiter;
  readonly addressOf: (request: Request) => string;
}

/**
 * `GET /snapshot.jpg[?width=N]`: the newest picture as a JPEG (`Cache-Control: no-store`), scaled down to `width`
 * keeping its aspect; 400 for a bad width; 503 with the reason as JSON (`{"statusCode":503,"error":"Service
 * Unavailable","message":"…"}`) and `Retry-After` when no picture can be had in time; 429 beyond `perAddress`.
 */
export function snapshotRoute(snapshots: Snapshotter, perAddress?: SnapshotRateLimit): ServerRoute {
  return {
    method: 'GET',
    path: '/snapshot.jpg',
    options: { cache: { otherwise: 'no-store' } },
    handler: async (request, h) => {
      if (perAddress && !perAddress.limiter.take(perAddress.addressOf(request))) {
        return h
          .response('Too Many Requests: at most a few snapshots a second from one address\n')
          .code(429)
          .type('text/plain')
          .header('Retry-After', '1');
      }
      const width = snapshotWidth(request.query.width);
      if (typeof width === 'object') throw Boom.badRequest(width.problem);
      try {
        const jpeg = await firstValueFrom(snapshots.jpeg(width));
        return h.response(jpeg).type('image/jpeg').header('Cache-Control', 'no-store');
      } catch (err) {
        const reason = err instanceof SnapshotError ? err.message : `snapshot failed: ${err instanceof Error ? err.message : String(err)}`;
        const unavailable = Boom.serverUnavailable(reason.replace(/\s*\n\s*/g, ' | '));
        unavailable.output.headers['Retry-After'] = '1';
        unavailable.output.headers['Cache-Control'] = 'no-store';
        throw unavailable;
      }
    },
  };
}
