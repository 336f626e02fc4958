import { asyncScheduler, type SchedulerLike } from 'rxjs';

export interface RateLimitOptions {
  /** Tokens added per second, per key: the sustained rate allowed. */
  readonly perSecond: number;
  /** Bucket size: how many may come at once after a quiet spell. */
  readonly burst: number;
  /** Whose `now()` the buckets refill by (default `asyncScheduler`; a TestScheduler in tests). */
  readonly scheduler?: Pick<SchedulerLike, 'now'>;
  /** Keys tracked before idle ones (full buckets) are swept; bounds memory under a spray of addresses. */
  readonly maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key (a client's IP address): each {@link take} spends one token; tokens come back at
 * `perSecond`, up to `burst`. Pure apart from the scheduler's clock, and O(1) per call.
 *
 * @example
 * const limit = new RateLimiter({ perSecond: 5, burst: 20 });
 * if (!limit.take(req.socket.remoteAddress ?? '')) return reject(socket, 429, 'Too Many Requests');
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly scheduler: Pick<SchedulerLike, 'now'>;
  private readonly maxKeys: number;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) throw new Error('rate limit needs perSecond > 0 and burst >= 1');
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Spends one token of `key`'s bucket: true if there was one (go ahead), false if not (refuse). */
  take(key: string): boolean {
    const now = this.scheduler.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      bucket = { tokens: this.options.burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      this.refill(bucket, now);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Keys tracked now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (elapsed * this.options.perSecond) / 1000);
    // A clock that steps back (NTP) must not mint tokens later from the time it repeats.
    bucket.at = Math.max(bucket.at, now);
  }

  /** Forgets full buckets (a full bucket is the same as none); if all are busy, forgets the oldest half. */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      this.refill(bucket, now);
      if (bucket.tokens >= this.options.burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxKeys) {
      let drop = Math.ceil(this.buckets.size / 2);
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}
