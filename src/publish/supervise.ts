import {
  asyncScheduler,
  concatWith,
  connect,
  defer,
  map,
  merge,
  of,
  retry,
  Subject,
  switchMap,
  take,
  tap,
  throwError,
  timer,
  type Observable,
  type SchedulerLike,
} from 'rxjs';

/** How a supervised run is restarted: capped exponential backoff with jitter, forgiven after a healthy spell. */
export interface BackoffOptions {
  /** The first wait after a failure. */
  readonly initialDelayMs: number;
  /** The longest wait: doubling stops here. */
  readonly maxDelayMs: number;
  /** A run that has been up this long resets the failure count, so the next failure waits `initialDelayMs` again. */
  readonly healthyMs: number;
  /** Each wait is shortened by up to this fraction at random (0.25: 75–100 % of it), so targets do not retry in step. */
  readonly jitter: number;
}

/**
 * The wait before restart number `failures` (1 for the first failure in a row): `initialDelayMs · 2^(failures−1)`,
 * capped at `maxDelayMs`, then shortened by up to `jitter` of itself. Never above the cap. `random` is in [0, 1).
 * @example
 * backoffDelay(1, { initialDelayMs: 1000, maxDelayMs: 30_000, healthyMs: 60_000, jitter: 0.25 }, () => 0); // 1000
 */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number): number {
  const capped = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(capped * (1 - options.jitter * random()));
}

/** What {@link supervise} tells: a state change of the supervised run, or one of its values. */
export type Supervised<T> =
  /** A run starts (spawned, nothing from it yet); `failures` in a row before it. */
  | { readonly kind: 'starting'; readonly failures: number }
  /** The run's first value: it is up. */
  | { readonly kind: 'up'; readonly failures: number }
  /** Up for `healthyMs`: the failure count is back to 0. */
  | { readonly kind: 'healthy' }
  /** The run failed (an error, or it ended: a live run has no natural end); the next starts in `delayMs`. */
  | { readonly kind: 'retrying'; readonly error: unknown; readonly failures: number; readonly delayMs: number }
  | { readonly kind: 'value'; readonly value: T };

export interface SuperviseOptions extends BackoffOptions {
  /** In [0, 1): the jitter's source (a fixed one in tests). Default `Math.random`. */
  readonly random?: () => number;
  readonly scheduler?: SchedulerLike;
}

/**
 * Runs `run$` for ever: subscribes, and when it errors or completes, waits {@link backoffDelay} and subscribes
 * again, telling each state change once. The failure count grows with each failure and goes back to zero once a
 * run has been up (its first value) for `healthyMs`, so a run that fails right after each start keeps backing off.
 * Unsubscribing stops the current run and any wait.
 *
 * @example
 * supervise(() => fromChildProcess('ffmpeg', args), { ...DEFAULTS.publishRestart }).subscribe(logStateChange);
 */
export function supervise<T>(run: () => Observable<T>, options: SuperviseOptions): Observable<Supervised<T>> {
  const { healthyMs, random = Math.random, scheduler = asyncScheduler } = options;
  return defer(() => {
    let failures = 0;
    // retry's delay callback is where a failure is known; it tells it here, in order with the values.
    const notices = new Subject<Supervised<T>>();
    const runs$ = defer(() =>
      of<Supervised<T>>({ kind: 'starting', failures }).pipe(
        concatWith(
          run().pipe(
            connect((values) =>
              merge(
                values.pipe(take(1), map((): Supervised<T> => ({ kind: 'up', failures }))),
                values.pipe(
                  take(1),
                  switchMap(() => timer(healthyMs, scheduler)),
                  tap(() => (failures = 0)),
                  map((): Supervised<T> => ({ kind: 'healthy' })),
                ),
                values.pipe(map((value): Supervised<T> => ({ kind: 'value', value }))),
              ),
            ),
            concatWith(throwError(() => new Error('ended'))),
          ),
        ),
      ),
    ).pipe(
      retry({
        delay: (error: unknown) => {
          failures++;
          const delayMs = backoffDelay(failures, options, random);
          notices.next({ kind: 'retrying', error, failures, delayMs });
          return timer(delayMs, scheduler);
        },
      }),
    );
    return merge(notices, runs$);
  });
}
