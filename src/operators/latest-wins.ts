/**
 * What a latest-wins writer does with one input: `write` it now; `queue` it behind the write in progress (only
 * where the caller allows a short queue, such as while its reader starts); `drop` it because the previous write
 * has not drained; or `skip` it because an earlier drop left the reader waiting for a keyframe.
 */
export type FeedStep = 'write' | 'queue' | 'drop' | 'skip';

/**
 * The decision at the heart of feeding a child process "latest wins", as a pure function: never queue behind a
 * reader that has not taken the previous input (a stale input is worth less than the next one), and after a
 * dropped input that later ones depend on (a coded picture), drop everything up to the next keyframe, since a
 * picture without its reference is garbage. `busy`: the previous write has not drained (or inputs wait before
 * this one); `mayQueue`: the caller accepts a queued input now. The encoder's and the publisher's stdin both call
 * it; whether the writer waits for a key after the step is {@link awaitingKeyAfter}.
 * @example
 * feedStep(false, false, false, false); // 'write'
 * feedStep(false, true, false, false);  // 'drop'
 * feedStep(true, false, false, false);  // 'skip': a P picture after a drop
 * feedStep(true, false, true, false);   // 'write': the keyframe ends the wait
 */
export function feedStep(awaitingKey: boolean, busy: boolean, keyframe: boolean, mayQueue: boolean): FeedStep {
  if (awaitingKey && !keyframe) return 'skip';
  if (!busy) return 'write';
  return mayQueue ? 'queue' : 'drop';
}

/**
 * Whether the writer waits for a keyframe after `step`: from a drop on, when later inputs depend on earlier ones
 * (`dependent`: coded pictures, not raw frames); until a keyframe is written or queued.
 * @example
 * awaitingKeyAfter('drop', true);  // true
 * awaitingKeyAfter('drop', false); // false: raw frames stand alone
 * awaitingKeyAfter('write', true); // false
 */
export function awaitingKeyAfter(step: FeedStep, dependent: boolean): boolean {
  switch (step) {
    case 'write':
    case 'queue':
      return false;
    case 'drop':
      return dependent;
    case 'skip':
      return true;
  }
}

/**
 * {@link feedStep} with its one piece of state (waiting for a keyframe), for one writer. The caller does what the
 * step says: writes, queues, or drops and counts.
 * @example
 * const latest = new LatestWins({ dependent: true, awaitingKey: true });
 * if (latest.step(writing, picture.keyframe, false) === 'write') writing = !stdin.write(picture.data);
 */
export class LatestWins {
  /** Whether inputs are dropped until the next keyframe. */
  awaitingKey: boolean;
  private readonly dependent: boolean;

  /**
   * `dependent`: inputs depend on earlier ones (coded pictures), so a drop waits for a keyframe. `awaitingKey`:
   * start by waiting for one (default false).
   */
  constructor(options: { readonly dependent: boolean; readonly awaitingKey?: boolean }) {
    this.dependent = options.dependent;
    this.awaitingKey = options.awaitingKey ?? false;
  }

  /** The step for one input, remembering whether the next ones wait for a keyframe. */
  step(busy: boolean, keyframe: boolean, mayQueue: boolean): FeedStep {
    const step = feedStep(this.awaitingKey, busy, keyframe, mayQueue);
    this.awaitingKey = awaitingKeyAfter(step, this.dependent);
    return step;
  }
}
