import {
  catchError,
  connect,
  EMPTY,
  endWith,
  ignoreElements,
  map,
  merge,
  takeUntil,
  tap,
  type Observable,
  type OperatorFunction,
} from 'rxjs';

/** A value of the main stream with the side values that came since the one before it. */
export interface Gathered<T, S> {
  readonly value: T;
  /** Oldest first; empty when none came. */
  readonly side: readonly S[];
}

/**
 * Passes each value of the source on at once, with the values of `side$` that arrived since the previous one (at
 * most `max`: beyond, the oldest are dropped, so a main stream that stalls holds no growing queue). The main stream
 * never waits for the side: this is how sound rides with pictures (the audio frames captured since the last picture
 * go in that picture's message) without a picture ever waiting for sound. `side$` is subscribed with the source and
 * unsubscribed when it ends; an error of `side$` ends only the side.
 *
 * @example
 * pictures$.pipe(gatherBetween(audioFrames$, 50)); // { value: picture, side: [frames since the last picture] }
 */
export function gatherBetween<T, S>(side$: Observable<S>, max: number): OperatorFunction<T, Gathered<T, S>> {
  return connect((values) => {
    let held: S[] = [];
    return merge(
      side$.pipe(
        tap((item) => {
          held.push(item);
          if (held.length > max) held.shift();
        }),
        catchError(() => EMPTY),
        takeUntil(values.pipe(ignoreElements(), endWith(true))),
        ignoreElements(),
      ),
      values.pipe(
        map((value) => {
          const side = held;
          held = [];
          return { value, side };
        }),
      ),
    );
  });
}
