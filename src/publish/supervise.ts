import { concatWith, connect, defer, map, merge, Subject, take, throwError, type Observable, type SchedulerLike } from 'rxjs';
import { retryWithBackoff, type BackoffOptions } from '../operators/retry-with-backoff';

// Re-exported where they were first defined: the library's exports (src/index.ts) still name them from here.
export { backoffDelay, type BackoffOptions } from '../operators/retry-with-backoff';

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
 * Runs `run$` for ever: subscribes, and when it errors or completes, waits `backoffDelay` and subscribes again
 * ({@link retryWithBackoff}), telling each state change once, in order with the values. The failure count grows
 * with each failure and goes back to zero once a run has been up (its first value) for `healthyMs`, so a run that
 * fails right after each start keeps backing off. Unsubscribing stops the current run and any wait.
 *
 * @example
 * supervise(() => fromChildProcess('ffmpeg', args), { ...DEFAULTS.publishRestart }).subscribe(logStateChange);
 */
export function supervise<T>(run: () => Observable<T>, options: SuperviseOptions): Observable<Supervised<T>> {
  return defer(() => {
    let failures = 0;
    // The operator's callbacks are where a failure or a healthy spell is known; they tell it here.
    const notices = new Subject<Supervised<T>>();
    const runs$ = defer(() => {
      notices.next({ kind: 'starting', failures });
      return run().pipe(
        connect((values) =>
          merge(
            values.pipe(
              take(1),
              map((): Supervised<T> => ({ kind: 'up', failures })),
            ),
            values.pipe(map((value): Supervised<T> => ({ kind: 'value', value }))),
          ),
        ),
        concatWith(throwError(() => new Error('ended'))),
      );
    }).pipe(
      retryWithBackoff({
        ...options,
        onRetry: ({ error, failures: count, delayMs }) => {
          failures = count;
          notices.next({ kind: 'retrying', error, failures, delayMs });
        },
        onHealthy: () => {
          failures = 0;
          notices.next({ kind: 'healthy' });
        },
      }),
    );
    return merge(notices, runs$);
  });
}
