import { Observable, Subscription, config, type Observer, type OperatorFunction } from 'rxjs';
import type { Picture } from '../picture';
import type { Gop } from './gop-cache';
import { gateStep, resyncingAfter, type SlowGateOptions } from './slow-gate';

/** What `deliver` is told and tells: why the viewer is behind, and each drop and resync. */
export type DeliverOptions<P extends Picture, R extends string> = SlowGateOptions<P, R>;

/** Where a {@link Delivery} sends what it lets through: a subscriber, or a viewer's own sink. */
export interface DeliveryOutput<P> extends Observer<P> {
  /** True once it takes nothing more (a replayed GOP stops there). */
  readonly closed: boolean;
}

/**
 * One viewer's whole path as one subscriber, fed by the hub's shared GOP updates (`hub.gops(format)`): the first
 * update replays the current GOP from its keyframe (a joining viewer starts at once), each later one gives its
 * newest picture. A viewer starts at a keyframe; while `slowReason` says it is behind, whole pictures are dropped;
 * once it has caught up, delivery resumes at the next keyframe ({@link gateStep}). Extend it with the hooks: `send`
 * writes a picture, `failed` and `ended` see the stream's end.
 *
 * It is a `Subscription` as well as an `Observer`, so RxJS subscribes it as it is: the hub's `Subject` calls its
 * `next` with nothing in between (a plain observer gets wrapped in a `SafeSubscriber`: two objects and calls more per
 * picture per viewer). The subscription `subscribe` returns is this object; unsubscribing it releases the GOP
 * updates. One object per viewer holding every field a picture touches is what keeps a thousand viewers cheap:
 * past the kernel's write, their cost is cache misses on each viewer's objects. Nothing here allocates per picture.
 * `next` never throws: an error from a hook ends this viewer only (`failed`), never the others on the same Subject.
 * @example
 * class Printer extends DeliverySubscriber<Picture> {
 *   protected slowReason() { return undefined; }
 *   protected send(picture: Picture) { console.log(picture.seq); }
 *   protected failed() {}
 *   protected ended() {}
 * }
 * new Printer().subscribeTo(hub.gops('mpegts'));
 */
export abstract class DeliverySubscriber<P extends Picture, R extends string = never> extends Subscription implements Observer<Gop<P>> {
  private joined = false;
  private started = false;
  private resyncing = false;

  /** Asked once per picture that could be sent: why the viewer is behind now, or undefined when it keeps up. */
  protected abstract slowReason(picture: P): R | undefined;
  /** Sends a picture the path let through. */
  protected abstract send(picture: P): void;
  /** The GOP updates failed, or a hook threw: nothing more comes (called once, before unsubscribing). */
  protected abstract failed(err: unknown): void;
  /** The GOP updates completed (called once, before unsubscribing). */
  protected abstract ended(): void;
  /** Told about each picture dropped, with why. */
  protected dropped(_picture: P, _reason: R | 'resync'): void {}
  /** Told when a viewer that was dropping resumes at a keyframe. */
  protected resynced(_picture: P): void {}
  /**
   * Told before and after the replay of the GOP to a joining viewer (its first update: many pictures in one go, all
   * `send`s in between), e.g. to hand them to the socket as one write. `replayEnded` is called also if the replay fails.
   */
  protected replayStarted(): void {}
  protected replayEnded(): void {}

  next(gop: Gop<P>): void {
    // A Subject calls the subscribers it had when the picture came, so one unsubscribed meanwhile can still be called.
    if (this.closed) return;
    try {
      if (this.joined) {
        this.offer(gop[gop.length - 1]!);
        return;
      }
      this.joined = true;
      this.replayStarted();
      try {
        for (const picture of gop) {
          this.offer(picture);
          if (this.closed) return;
        }
      } finally {
        this.replayEnded();
      }
    } catch (err) {
      try {
        this.error(err);
      } catch (failure) {
        // `failed` itself threw: report it as RxJS reports an error nobody can take, never into the Subject's loop.
        reportUnhandled(failure);
      }
    }
  }

  error(err: unknown): void {
    this.end(() => this.failed(err));
  }

  complete(): void {
    this.end(() => this.ended());
  }

  /**
   * Subscribes this to `source` as it is and returns it: the subscription `subscribe` returns is this object. Should
   * RxJS ever wrap it, the wrapper is added to it, so unsubscribing this still releases `source`.
   */
  subscribeTo(source: Observable<Gop<P>>): this {
    const upstream = source.subscribe(this);
    if (upstream !== this) this.add(upstream);
    return this;
  }

  /** Ends the path once: tells the hook, then unsubscribes (also if the hook throws). */
  private end(hook: () => void): void {
    if (this.closed) return;
    try {
      hook();
    } finally {
      this.unsubscribe();
    }
  }

  private offer(picture: P): void {
    if (!this.started) {
      if (!picture.keyframe) return;
      this.started = true;
    }
    const slow = this.slowReason(picture);
    const step = gateStep(this.resyncing, slow !== undefined, picture.keyframe);
    this.resyncing = resyncingAfter(step);
    switch (step) {
      case 'send':
        return this.send(picture);
      case 'resume':
        this.resynced(picture);
        return this.send(picture);
      default:
        return this.dropped(picture, step === 'slow' ? slow! : 'resync');
    }
  }
}

/** As RxJS reports an error no subscriber can take: to `config.onUnhandledError`, else thrown on a later tick. */
function reportUnhandled(err: unknown): void {
  setTimeout(() => {
    if (config.onUnhandledError) config.onUnhandledError(err);
    else throw err;
  });
}

/**
 * {@link DeliverySubscriber} with its decisions and sink given as values: what {@link deliver} subscribes, and
 * what a viewer of your own can subscribe directly.
 * @example
 * new Delivery({ closed: false, next: send, error: stop, complete: stop }, { slowReason: () => undefined }).subscribeTo(hub.gops(mpegts));
 */
export class Delivery<P extends Picture, R extends string = never> extends DeliverySubscriber<P, R> {
  constructor(
    private readonly out: DeliveryOutput<P>,
    private readonly options: DeliverOptions<P, R>,
  ) {
    super();
  }

  protected slowReason(picture: P): R | undefined {
    return this.options.slowReason(picture);
  }

  protected send(picture: P): void {
    this.out.next(picture);
    // The sink takes nothing more (a take(n) below, a closed viewer): stop here, also in the middle of a replay.
    if (this.out.closed) this.unsubscribe();
  }

  protected failed(err: unknown): void {
    this.out.error(err);
  }

  protected ended(): void {
    this.out.complete();
  }

  protected dropped(picture: P, reason: R | 'resync'): void {
    this.options.onDrop?.(picture, reason);
  }

  protected resynced(picture: P): void {
    this.options.onResync?.(picture);
  }
}

/**
 * The whole per-viewer path as an operator on the hub's GOP updates ({@link DeliverySubscriber}): it does what
 * `replayGop()`, `fromKeyframe()`, `dropWhileSlow()` and a `tap` do in a row, in one `next` and with nothing
 * allocated per picture. Nothing is queued: a slow viewer costs no memory. Errors from `slowReason` end this
 * viewer's stream.
 *
 * @example
 * hub.gops(mpegts).pipe(deliver({ slowReason: () => (socket.bufferedAmount > 1 << 20 ? 'backlog' : undefined) }))
 *   .subscribe((p) => socket.send(p.wire));
 */
export function deliver<P extends Picture, R extends string = never>(options: DeliverOptions<P, R>): OperatorFunction<Gop<P>, P> {
  return (source) => new Observable<P>((subscriber) => new Delivery(subscriber, options).subscribeTo(source));
}
