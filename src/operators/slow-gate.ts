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
 * resume. `pass` is `true` for a picture to send. `dropWhileSlow` and `deliver` are both built on it (a class, so
 * that `deliver`'s per-viewer state is one object: this runs for every viewer on every picture).
 * @example
 * const gate = new SlowGate({ slowReason: () => (socket.bufferedAmount > 1 << 20 ? 'backlog' : undefined) });
 * if (gate.pass(picture)) socket.send(picture.wire);
 */
export class SlowGate<P extends Picture, R extends string> {
  private resyncing = false;

  constructor(private readonly gate: SlowGateOptions<P, R>) {}

  pass(picture: P): boolean {
    const slow = this.gate.slowReason(picture);
    if (slow !== undefined) {
      this.resyncing = true;
      this.gate.onDrop?.(picture, slow);
      return false;
    }
    if (!this.resyncing) return true;
    if (!picture.keyframe) {
      this.gate.onDrop?.(picture, 'resync');
      return false;
    }
    this.resyncing = false;
    this.gate.onResync?.(picture);
    return true;
  }
}

/**
 * {@link SlowGate} as a predicate, for `filter`.
 * @example
 * pictures$.pipe(filter(slowGate({ slowReason: () => (socket.bufferedAmount > 1 << 20 ? 'backlog' : undefined) })));
 */
export function slowGate<P extends Picture, R extends string>(options: SlowGateOptions<P, R>): (picture: P) => boolean {
  const gate = new SlowGate(options);
  return (picture) => gate.pass(picture);
}
