import { Observable, filter, scan, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import type { Picture } from '../picture';

/** The current group of pictures: a keyframe and every picture since, oldest first. */
export type Gop<P extends Picture> = readonly P[];

/**
 * Turns pictures into the running GOP after each one (a new array on every picture: copying ≤ one GOP of
 * references is cheap, and a snapshot handed to a subscriber can never change under it). Pictures before the
 * first keyframe are useless to a decoder and are not kept.
 *
 * Share the result with a `ReplaySubject(1)` connector and read it with {@link replayGop}: a late subscriber
 * then starts at the GOP's keyframe at once instead of waiting up to a GOP for the next one.
 */
export function gopCache<P extends Picture>(): OperatorFunction<P, Gop<P>> {
  return (source) =>
    source.pipe(
      scan((gop: Gop<P>, picture: P): Gop<P> => (picture.keyframe ? [picture] : gop.length ? [...gop, picture] : gop), []),
      filter((gop) => gop.length > 0),
    );
}

/**
 * The other half of {@link gopCache}: the first GOP a subscriber sees is replayed whole (from its keyframe),
 * after that each GOP update contributes only its newest picture.
 */
export function replayGop<P extends Picture>(): OperatorFunction<Gop<P>, P> {
  // Written from scratch rather than as mergeMap over arrays: this runs per viewer per picture, and a
  // viewer's path must allocate nothing (that is what keeps fan-out cheap); mergeMap would make an array and an inner subscriber.
  return (source) =>
    new Observable<P>((subscriber) => {
      let first = true;
      return source.subscribe({
        next: (gop) => {
          if (!first) return subscriber.next(gop[gop.length - 1]!);
          first = false;
          for (const picture of gop) {
            subscriber.next(picture);
            if (subscriber.closed) return;
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/** `gopCache` and `replayGop` back to back: a plain picture stream again (for tests and simple uses). */
export function throughGop<P extends Picture>(): MonoTypeOperatorFunction<P> {
  return (source) => source.pipe(gopCache<P>(), replayGop<P>());
}
