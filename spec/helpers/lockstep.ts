import { Observable, type OperatorFunction } from 'rxjs';

/**
 * Feeds `inputs` through `operator` in lockstep: `ahead` inputs as the operator subscribes its source, then one
 * more each time an output comes out (input `k + ahead` goes in when output `k` has come out). With `ahead` 1 (an
 * encoder that is one-in-one-out), a latest-wins encoder never finds a write still in progress, so it drops
 * nothing however slow the machine is, and a test can ask for every picture. `ahead` above 1 is for a stage that
 * holds pictures back (a decoder with a delay of `ahead - 1` pictures).
 *
 * The source completes after the last input has gone in; the result completes when the operator does.
 *
 * @example
 * const pictures = await lastValueFrom(lockstep(frames, encodeMpeg1(options)).pipe(toArray()));
 * expect(pictures).toHaveLength(frames.length);
 */
export function lockstep<T, R>(inputs: readonly T[], operator: OperatorFunction<T, R>, ahead = 1): Observable<R> {
  return new Observable<R>((subscriber) => {
    let given = 0;
    let feed: ((n: number) => void) | undefined;
    const source = new Observable<T>((input) => {
      feed = (n) => {
        for (; n > 0 && given < inputs.length; n--) input.next(inputs[given++]!);
        if (given === inputs.length) input.complete();
      };
      feed(ahead);
      return () => (feed = undefined);
    });
    return operator(source).subscribe({
      next: (output) => {
        subscriber.next(output);
        feed?.(1);
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
  });
}
