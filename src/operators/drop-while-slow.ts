import { defer, filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { Picture } from '../picture';

/** Why a picture was not sent: the viewer was slow, or it had caught up and was waiting for a keyframe. */
export type DropReason = 'slow' | 'resync';

export interface DropWhileSlowOptions<P extends Picture> {
  /** Asked once per picture, before it would be sent: is this viewer behind? */
  readonly isSlow: (picture: P) => boolean;
  /** Told about each dropped picture. */
  readonly onDrop?: (picture: P, reason: DropReason) => void;
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
export function dropWhileSlow<P extends Picture>(options: DropWhileSlowOptions<P>): MonoTypeOperatorFunction<P> {
  const { isSlow, onDrop, onResync } = options;
  return (source) =>
    defer(() => {
      let resyncing = false;
      return source.pipe(
        filter((picture) => {
          if (isSlow(picture)) {
            resyncing = true;
            onDrop?.(picture, 'slow');
            return false;
          }
          if (!resyncing) return true;
          if (!picture.keyframe) {
            onDrop?.(picture, 'resync');
            return false;
          }
          resyncing = false;
          onResync?.(picture);
          return true;
        }),
      );
    });
}
