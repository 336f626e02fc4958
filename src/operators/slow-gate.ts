import type { Picture } from '../picture';

/**
 * What the slow-viewer gate does with one picture: `send` it; drop it because the viewer is `slow`; drop it because the
 * viewer has caught up but waits for a keyframe (`resync`); or `resume` at this keyframe.
 */
export type GateStep = 'send' | 'slow' | 'resync' | 'resume';

/**
 * The decision at the heart of latency-bounded delivery, as a pure function: while a viewer is behind, drop whole
 * pictures; once it has caught up, drop until a keyframe (a decoder cannot use P pictures whose references it
 * missed), then resume. The one place this rule lives: {@link SlowGate} and `DeliverySubscriber` both call it. After
 * a step the viewer is resyncing exactly when the step was `slow` or `resync` ({@link resyncingAfter}).
 * @example
 * gateStep(false, true, false); // 'slow'
 * gateStep(true, false, false); // 'resync'
 * gateStep(true, false, true);  // 'resume'
 */
export function gateStep(resyncing: boolean, slow: boolean, keyframe: boolean): GateStep {
  if (slow) return 'slow';
  if (!resyncing) return 'send';
  return keyframe ? 'resume' : 'resync';
}

/** Whether a viewer waits for a keyframe after `step`. */
export function resyncingAfter(step: GateStep): boolean {
  return step === 'slow' || step === 'resync';
}

/** What a slow-viewer gate is told and tells: why a viewer is behind, and each drop and resync. */
export interface SlowGateOptions<P extends Picture, R extends string> {
  /** Asked once per picture: why the viewer is behind, or undefined when it keeps up. */
  readonly slowReason: (picture: P) => R | undefined;
  readonly onDrop?: (picture: P, reason: R | 'resync') => void;
  readonly onResync?: (picture: P) => void;
}

/**
 * {@link gateStep} with its state and callbacks, for one viewer. `pass` is `true` for a picture to send.
 * `dropWhileSlow` is built on it.
 * @example
 * const gate = new SlowGate({ slowReason: () => (socket.bufferedAmount > 1 << 20 ? 'backlog' : undefined) });
 * if (gate.pass(picture)) socket.send(picture.wire);
 */
export class SlowGate<P extends Picture, R extends string> {
  private resyncing = false;

  constructor(private readonly gate: SlowGateOptions<P, R>) {}

  pass(picture: P): boolean {
    const slow = this.gate.slowReason(picture);
    const step = gateStep(this.resyncing, slow !== undefined, picture.keyframe);
    this.resyncing = resyncingAfter(step);
    switch (step) {
      case 'send':
        return true;
      case 'resume':
        this.gate.onResync?.(picture);
        return true;
      default:
        this.gate.onDrop?.(picture, step === 'slow' ? slow! : 'resync');
        return false;
    }
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
