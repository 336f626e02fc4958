import { Observable, type OperatorFunction } from 'rxjs';
import type { Picture } from '../picture';
import type { Gop } from './gop-cache';

export interface DeliverOptions<P extends Picture, R extends string> {
  /** Asked once per picture the viewer could be sent: why it is behind (`'lag'`), or undefined when it keeps up. */
  readonly slowReason: (picture: P) => R | undefined;
  /** Told about each picture not delivered: for being slow (with `slowReason`'s reason), or `'resync'`. */
  readonly onDrop?: (picture: P, reason: R | 'resync') => void;
  /** Told when a viewer that was dropping resumes at a keyframe. */
  readonly onResync?: (picture: P) => void;
}

/**
 * The whole per-viewer path in one subscriber, fed by the hub's shared GOP updates: the first update replays the
 * current GOP from its keyframe (a joining viewer starts at once), each later one gives its newest picture. A
 * viewer starts at a keyframe; while `slowReason` says it is behind, whole pictures are dropped; once it has
 * caught up, delivery resumes at the next keyframe (a decoder cannot use P pictures whose references it missed).
 *
 * It does what `replayGop()`, `fromKeyframe()`, `dropWhileSlow()` and a `tap` do in a row, in one `next` and with
 * nothing allocated per picture: this runs once per picture for every viewer, so its cost is the server's cost
 * per viewer. Nothing is queued: a slow viewer costs no memory. Errors from `slowReason` end this viewer's stream.
 *
 * @example
 * hub.gops(mpegts).pipe(deliver({ slowReason: () => (socket.bufferedAmount > 1 << 20 ? 'backlog' : undefined) }))
 *   .subscribe((p) => socket.send(p.wire));
 */
export function deliver<P extends Picture, R extends string = never>(options: DeliverOptions<P, R>): OperatorFunction<Gop<P>, P> {
  const { slowReason, onDrop, onResync } = options;
  return (source) =>
    new Observable<P>((subscriber) => {
      let joined = false;
      let started = false;
      let resyncing = false;
      const offer = (picture: P): void => {
        if (!started) {
          if (!picture.keyframe) return;
          started = true;
        }
        const slow = slowReason(picture);
        if (slow !== undefined) {
          resyncing = true;
          onDrop?.(picture, slow);
          return;
        }
        if (resyncing) {
          if (!picture.keyframe) {
            onDrop?.(picture, 'resync');
            return;
          }
          resyncing = false;
          onResync?.(picture);
        }
        subscriber.next(picture);
      };
      return source.subscribe({
        next: (gop) => {
          try {
            if (joined) return offer(gop[gop.length - 1]!);
            joined = true;
            for (const picture of gop) {
              offer(picture);
              if (subscriber.closed) return;
            }
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
