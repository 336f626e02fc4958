import type { SchedulerLike } from 'rxjs';

/** Sent pictures a viewer remembers (about 10 s at 24 fps): enough to map any useful ack to the picture it acks. */
export const LAG_WINDOW = 256;

/**
 * How far one viewer is behind, from its acknowledgements. The page acks the number of pictures it
 * has decoded since it connected; every message we send on `/stream` is one picture, so ack `n` acknowledges the
 * `n`th picture sent. A fixed ring (one typed array) remembers when each recent picture was sent (and when it was
 * captured), so the per-picture path allocates nothing.
 *
 * Lag in time is the age of the oldest picture sent but not yet acknowledged: it grows while a page sits on
 * pictures, and is 0 once the page has decoded everything it was sent (so a viewer whose pictures are being
 * dropped recovers as soon as it catches up). A viewer that never acked is never judged by it (legacy clients
 * cannot ack; the socket's backlog judges them).
 *
 * @example
 * const lag = new ViewerLag(scheduler);
 * lag.record(picture.capturedAt);     // on each picture sent
 * lag.ack(12);                      // on {"type":"ack","frames":12}: ms from sending picture 12 to its ack
 * if (lag.ms() > 500) dropPictures();
 */
export class ViewerLag {
  /** Per slot, when the picture was sent and when it was captured, side by side (one array: one object to touch). */
  private readonly times: Float64Array;
  private sentCount = 0;
  private ackedCount = -1;

  constructor(
    /** Whose `now()` stamps each send and ack (the viewer's scheduler). */
    private readonly scheduler: Pick<SchedulerLike, 'now'>,
    private readonly capacity: number = LAG_WINDOW,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number ≥ 1, got ${capacity}`);
    this.times = new Float64Array(2 * capacity);
  }

  /** Pictures sent so far. */
  get sent(): number {
    return this.sentCount;
  }

  /** Pictures the viewer has acknowledged, or -1 if it never acked. */
  get acked(): number {
    return this.ackedCount;
  }

  /** Lag in pictures: sent but not acknowledged (0 for a viewer that never acked). */
  get pictures(): number {
    return this.ackedCount < 0 ? 0 : this.sentCount - this.ackedCount;
  }

  /** Records one picture as sent now. */
  record(capturedAt: number): void {
    const slot = 2 * (this.sentCount % this.capacity);
    this.times[slot] = this.scheduler.now();
    this.times[slot + 1] = capturedAt;
    this.sentCount++;
  }

  /**
   * Takes an ack of `frames` pictures decoded. Counts above what was sent are capped (a page cannot decode what
   * it never got), and counts that do not move forward are ignored. Returns the ms from sending the newest
   * acknowledged picture to now (the viewer's delivery lag as this ack shows it), or `undefined` when the ack
   * told nothing new.
   */
  ack(frames: number): number | undefined {
    const count = Math.min(Math.floor(frames), this.sentCount);
    // Also false for NaN and negatives.
    if (!(count > this.ackedCount)) return undefined;
    this.ackedCount = count;
    if (count === 0 || this.sentCount - count >= this.capacity) return undefined;
    return this.scheduler.now() - this.times[2 * ((count - 1) % this.capacity)]!;
  }

  /** Capture time of the newest acknowledged picture (what the viewer shows), or NaN when unknown. */
  ackedCapturedAt(): number {
    const count = this.ackedCount;
    if (count <= 0 || this.sentCount - count >= this.capacity) return NaN;
    return this.times[2 * ((count - 1) % this.capacity) + 1]!;
  }

  /**
   * Lag in ms now: how long the oldest unacknowledged picture has been waiting (a lower bound once it has left
   * the ring). 0 when everything sent is acknowledged, and for a viewer that never acked.
   */
  ms(): number {
    const acked = this.ackedCount;
    if (acked < 0 || acked >= this.sentCount) return 0;
    const oldest = Math.max(acked, this.sentCount - this.capacity);
    return this.scheduler.now() - this.times[2 * (oldest % this.capacity)]!;
  }
}
