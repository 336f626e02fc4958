import { Observable, type Observer, type OperatorFunction } from 'rxjs';
import type { Picture } from '../picture';
import type { Gop } from './gop-cache';
import { SlowGate, type SlowGateOptions } from './slow-gate';

/** What `deliver` is told and tells: the same as the slow-viewer gate it is built on. */
export type DeliverOptions<P extends Picture, R extends string> = SlowGateOptions<P, R>;

/** Where a {@link Delivery} sends what it lets through: a subscriber, or a viewer's own sink. */
export interface DeliveryOutput<P> extends Observer<P> {
  /** True once it takes nothing more (a replayed GOP stops there). */
  readonly closed: boolean;
}

/**
 * One viewer's state and decisions, as one object: the observer that {@link deliver} subscribes to the GOP updates
 * with, and that a `Viewer` subscribes directly (one subscriber hop fewer per picture than piping the operator).
 * Every picture passes through `next` once per viewer, so nothing here allocates and nothing is reached through
 * closures: the fewer objects a viewer's path touches, the fewer cache misses a thousand viewers cost.
 * @example
 * hub.gops(mpegts).subscribe(new Delivery(sink, { slowReason: () => undefined }));
 */
export class Delivery<P extends Picture, R extends string = never> extends SlowGate<P, R> implements Observer<Gop<P>> {
  private joined = false;
  private started = false;

  constructor(
    private readonly out: DeliveryOutput<P>,
    options: DeliverOptions<P, R>,
  ) {
    super(options);
  }

  next(gop: Gop<P>): void {
    try {
      if (this.joined) {
        this.offer(gop[gop.length - 1]!);
        return;
      }
      this.joined = true;
      for (const picture of gop) {
        this.offer(picture);
        if (this.out.closed) return;
      }
    } catch (err) {
      this.out.error(err);
    }
  }

  error(err: unknown): void {
    this.out.error(err);
  }

  complete(): void {
    this.out.complete();
  }

  private offer(picture: P): void {
    if (!this.started) {
      if (!picture.keyframe) return;
      this.started = true;
    }
    if (this.pass(picture)) this.out.next(picture);
  }
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
  return (source) => new Observable<P>((subscriber) => source.subscribe(new Delivery(subscriber, options)));
}
