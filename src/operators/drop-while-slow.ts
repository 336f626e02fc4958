import { defer, filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { Picture } from '../picture';
import { slowGate } from './slow-gate';

/**
 * Why a picture was not sent: the viewer was slow (`'slow'`, or the reason `isSlow` gave), or it had caught up
 * and was waiting for a keyframe (`'resync'`).
 */
export type DropReason<R extends string = never> = 'slow' | 'resync' | R;

export interface DropWhileSlowOptions<P extends Picture, R extends string = never> {
  /**
   * Asked once per picture, before it would be sent: is this viewer behind? `true` or a reason (`'lag'`) for yes,
   * `false` or undefined for no. The reason is handed to `onDrop`, so the two need no state in between.
   */
  readonly isSlow: (picture: P) => boolean | R | undefined;
  /** Told about each dropped picture, with why. */
  readonly onDrop?: (picture: P, reason: DropReason<R>) => void;
  /** Told when a viewer that was dropping resumes at a keyframe. */
  readonly onResync?: (picture: P) => void;
}

/**
 * Latency-bounded delivery for one viewer: while `isSlow` says the viewer is behind, whole pictures
 * are dropped; once it has caught up, delivery resumes only at the next keyframe, because a decoder cannot use
 * P pictures whose references it never got. Nothing is queued: a slow viewer costs no memory.
 *
 * @example
 * hub.pictures$.pipe(dropWhileSlow({ isSlow: () => socket.bufferedAmount > 1 << 20 })).subscribe(send);
 */
export function dropWhileSlow<P extends Picture, R extends string = never>(
  options: DropWhileSlowOptions<P, R>,
): MonoTypeOperatorFunction<P> {
  const { isSlow, onDrop, onResync } = options;
  return (source) =>
    defer(() =>
      source.pipe(
        filter(
          slowGate<P, R | 'slow'>({
            slowReason: (picture) => {
              const slow = isSlow(picture);
              return slow === true ? 'slow' : slow || undefined;
            },
            ...(onDrop ? { onDrop } : {}),
            ...(onResync ? { onResync } : {}),
          }),
        ),
      ),
    );
}
