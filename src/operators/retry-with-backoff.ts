import {
  asyncScheduler,
  connect,
  defer,
  endWith,
  ignoreElements,
  merge,
  retry,
  switchMap,
  take,
  takeUntil,
  tap,
  timer,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
} from 'rxjs';

/** How a failing run is restarted: capped exponential backoff, optionally jittered, forgiven after a healthy spell. */
export interface BackoffOptions {
  /** The first wait after a failure. */
  readonly initialDelayMs: number;
  /** The longest wait: doubling stops here. */
  readonly maxDelayMs: number;
  /** A run that has been up (its first value) this long resets the failure count: the next failure waits `initialDelayMs` again. */
  readonly healthyMs: number;
  /** Each wait is shortened by up to this fraction at random (0.25: 75–100 % of it), so peers do not retry in step. Default 0. */
  readonly jitter?: number;
}

/**
 * The wait before restart number `failures` (1 for the first failure in a row): `initialDelayMs · 2^(failures−1)`,
 * capped at `maxDelayMs`, then shortened by up to `jitter` of itself (rounded to whole ms). Never above the cap.
 * `random` is in [0, 1), and is not called without jitter.
 * @example
 * backoffDelay(3, { initialDelayMs: 1000, maxDelayMs: 30_000, healthyMs: 60_000 }); // 4000
 * backoffDelay(1, { initialDelayMs: 1000, maxDelayMs: 30_000, healthyMs: 60_000, jitter: 0.25 }, () => 0.5); // 875
 */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const capped = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, failures - 1));
  const jitter = options.jitter ?? 0;
  return jitter === 0 ? capped : Math.round(capped * (1 - jitter * random()));
}

/** One failure, as {@link retryWithBackoff} tells it before the wait. */
export interface RetryNotice {
  readonly error: unknown;
  /** Failures in a row, this one included (1 for the first). */
  readonly failures: number;
  /** The wait before the next subscription. */
  readonly delayMs: number;
}

export interface RetryWithBackoffOptions extends BackoffOptions {
  /** Every wait and the healthy spell run on it (a TestScheduler in marble tests). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** In [0, 1): the jitter's source (a fixed one in tests). Default `Math.random`. */
  readonly random?: () => number;
  /** Told each failure, once, as its wait is scheduled. */
  readonly onRetry?: (notice: RetryNotice) => void;
  /** Told when a run has been up for `healthyMs` and the failure count is back to 0. */
  readonly onHealthy?: () => void;
}

/**
 * Resubscribes to the source after each error, waiting {@link backoffDelay} first: the failure count grows with each
 * error and goes back to zero only once a run has been up (its first value) for `healthyMs`, so a source that fails
 * a moment after each start keeps backing off (retry's own `resetOnSuccess` would forgive it at its first value).
 * Completion passes through (a live source that must not end makes its end an error first). Each subscription
 * starts with a count of zero; unsubscribing stops the current run and any wait.
 *
 * @example
 * run$.pipe(
 *   concatWith(throwError(() => new Error('ended'))), // a live run has no natural end
 *   retryWithBackoff({ initialDelayMs: 500, maxDelayMs: 10_000, healthyMs: 60_000, onRetry: ({ error }) => log(error) }),
 * );
 */
export function retryWithBackoff<T>(options: RetryWithBackoffOptions): MonoTypeOperatorFunction<T> {
  const { healthyMs, scheduler = asyncScheduler, random = Math.random, onRetry, onHealthy } = options;
  return (source) =>
    defer(() => {
      let failures = 0;
      const healthy = (): void => {
        failures = 0;
        onHealthy?.();
      };
      return source.pipe(
        afterUpFor(healthyMs, scheduler, healthy),
        retry({
          delay: (error: unknown) => {
            failures++;
            const delayMs = backoffDelay(failures, options, random);
            onRetry?.({ error, failures, delayMs });
            return timer(delayMs, scheduler);
          },
        }),
      );
    });
}

/**
 * The source unchanged, calling `then` once it has been up for `ms` since its first value (if it is still running
 * then). The timer is a branch beside the values, so nothing is added per value once it has fired.
 */
function afterUpFor<T>(ms: number, scheduler: SchedulerLike, then: () => void): MonoTypeOperatorFunction<T> {
  return connect((values) =>
    merge(
      values,
      values.pipe(
        take(1),
        switchMap(() => timer(ms, scheduler)),
        // A source that completes must not wait for the timer to complete.
        takeUntil(values.pipe(ignoreElements(), endWith(true))),
        tap(then),
        ignoreElements(),
      ),
    ),
  );
}
