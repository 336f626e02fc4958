import { Observable } from 'rxjs';

/**
 * `observable$`, with `counter.subscribers` kept as the number of its live subscriptions, without an operator in
 * between: every viewer's every picture passes through it, so no extra subscriber hop per picture (`finalize`
 * would add one per picture per viewer).
 *
 * @example
 * const stats = { subscribers: 0 };
 * counted(hub.pictures$, stats).subscribe(); // stats.subscribers === 1
 */
export function counted<T>(observable$: Observable<T>, counter: { subscribers: number }): Observable<T> {
  return new Observable<T>((subscriber) => {
    counter.subscribers++;
    const subscription = observable$.subscribe(subscriber);
    return () => {
      subscription.unsubscribe();
      counter.subscribers--;
    };
  });
}
