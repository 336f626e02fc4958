import { Observable, type OperatorFunction } from 'rxjs';
import type { Picture } from '../picture';
import type { Gop } from './gop-cache';
import { slowGate, type SlowGateOptions } from './slow-gate';

/** What `deliver` is told and tells: the same as the slow-viewer gate it is built on. */
export type DeliverOptions<P extends Picture, R extends string> = SlowGateOptions<P, R>;

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
  return (source) =>
    new Observable<P>((subscriber) => {
      let joined = false;
      let started = false;
      const pass = slowGate(options);
      const offer = (picture: P): void => {
        if (!started) {
          if (!picture.keyframe) return;
          started = true;
        }
        if (pass(picture)) subscriber.next(picture);
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
