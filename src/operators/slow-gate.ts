import type { Picture } from '../picture';

/** What a slow-viewer gate is told and tells: why a viewer is behind, and each drop and resync. */
export interface SlowGateOptions<P extends Picture, R extends string> {
  /** Asked once per picture: why the viewer is behind, or undefined when it keeps up. */
  readonly slowReason: (picture: P) => R | undefined;
  readonly onDrop?: (picture: P, reason: R | 'resync') => void;
  readonly onResync?: (picture: P) => void;
}

/**
 * The decision at the heart of latency-bounded delivery, for one viewer: while it is behind, drop whole pictures;
 * once it has caught up, drop until a keyframe (a decoder cannot use P pictures whose references it missed), then
 * resume. Returns `true` for a picture to send. `dropWhileSlow` and `deliver` are both built on it.
 * @example
 * const pass = slowGate({ slowReason: () => (socket.bufferedAmount > 1 << 20 ? 'backlog' : undefined) });
 * if (pass(picture)) socket.send(picture.wire);
 */
export function slowGate<P extends Picture, R extends string>(options: SlowGateOptions<P, R>): (picture: P) => boolean {
  const { slowReason, onDrop, onResync } = options;
  let resyncing = false;
  return (picture) => {
    const slow = slowReason(picture);
    if (slow !== undefined) {
      resyncing = true;
      onDrop?.(picture, slow);
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
  };
}
