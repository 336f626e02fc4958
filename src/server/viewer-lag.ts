import type { SchedulerLike } from 'rxjs';

/** Sent pictures a viewer remembers at most (about 10 s at 24 fps): enough to map any useful ack to the picture it acks. */
export const LAG_WINDOW = 256;

/**
 * Sent pictures a viewer remembers before its first ack: a joining page is sent the current GOP at once (up to a
 * second of pictures) and acks after its first decode, so this covers the ack of a GOP of 24–30 pictures and then some.
 * A client that never acks (a legacy player, a program) needs nothing more: its lag is never judged by acks.
 */
export const JOIN_WINDOW = 32;

/**
 * How far one viewer is behind, from its acknowledgements. The page acks the number of pictures it
 * has decoded since it connected; every message we send on `/stream` is one picture, so ack `n` acknowledges the
 * `n`th picture sent. A ring (one typed array) remembers when each recent picture was sent (and when it was
 * captured), so the per-picture path allocates nothing but when the ring grows.
 *
 * The ring is sized to need, as thousands of viewers each hold one: none until the first picture, then
 * {@link JOIN_WINDOW} pictures; once the viewer acks, it doubles whenever a picture not yet acknowledged would be
 * overwritten, up to `capacity`. A viewer that acks as it goes keeps the small ring; one that never acks never grows it.
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
  private times: Float64Array | undefined;
  /** Pictures the ring can hold now (it grows up to `capacity`). */
  private size = 0;
  /** The oldest picture whose times the ring still holds (those before it were overwritten, or came before a growth). */
  private oldestKept = 0;
  private sentCount = 0;
  private ackedCount = -1;

  constructor(
    /** Whose `now()` stamps each send and ack (the viewer's scheduler). */
    private readonly scheduler: Pick<SchedulerLike, 'now'>,
    /** The most pictures the ring grows to. */
    private readonly capacity: number = LAG_WINDOW,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number ≥ 1, got ${capacity}`);
  }

  /** Pictures the ring can hold now (0 before the first picture): what this viewer's lag costs in memory. */
  get window(): number {
    return this.size;
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
    const sent = this.sentCount;
    // The slot to write holds picture `sent − size`: grow rather than overwrite it while it waits for an ack.
    if (
      sent >= this.size &&
      this.size < this.capacity &&
      (this.size === 0 || (this.ackedCount >= 0 && this.ackedCount <= sent - this.size))
    )
      this.grow();
    const slot = 2 * (sent % this.size);
    const times = this.times!;
    times[slot] = this.scheduler.now();
    times[slot + 1] = capturedAt;
    this.sentCount = sent + 1;
    if (sent + 1 - this.size > this.oldestKept) this.oldestKept = sent + 1 - this.size;
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
    if (count === 0 || count - 1 < this.oldestKept) return undefined;
    return this.scheduler.now() - this.times![2 * ((count - 1) % this.size)]!;
  }

  /** Capture time of the newest acknowledged picture (what the viewer shows), or NaN when unknown. */
  ackedCapturedAt(): number {
    const count = this.ackedCount;
    if (count <= 0 || count - 1 < this.oldestKept) return NaN;
    return this.times![2 * ((count - 1) % this.size) + 1]!;
  }

  /**
   * Lag in ms now: how long the oldest unacknowledged picture has been waiting (a lower bound once it has left
   * the ring). 0 when everything sent is acknowledged, and for a viewer that never acked.
   */
  ms(): number {
    const acked = this.ackedCount;
    if (acked < 0 || acked >= this.sentCount) return 0;
    const oldest = Math.max(acked, this.oldestKept);
    return this.scheduler.now() - this.times![2 * (oldest % this.size)]!;
  }

  /** The first ring ({@link JOIN_WINDOW}), or one twice the size holding the same pictures (in their new slots). */
  private grow(): void {
    const old = this.times;
    const oldSize = this.size;
    const size = oldSize === 0 ? Math.min(JOIN_WINDOW, this.capacity) : Math.min(2 * oldSize, this.capacity);
    const times = new Float64Array(2 * size);
    // The pictures kept, each moved from its slot modulo the old size to its slot modulo the new one; the ones before
    // them stay unknown (the new slots hold no times of theirs).
    for (let picture = this.oldestKept; picture < this.sentCount; picture++) {
      const from = 2 * (picture % oldSize);
      const to = 2 * (picture % size);
      times[to] = old![from]!;
      times[to + 1] = old![from + 1]!;
    }
    this.times = times;
    this.size = size;
  }
}
