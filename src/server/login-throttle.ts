import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { DEFAULTS } from '../defaults';

export interface LoginThrottleOptions {
  /** Failures within `windowMs` that start a lockout. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** The first lockout; each one in a row doubles it, up to `maxLockoutMs`. */
  readonly firstLockoutMs: number;
  readonly maxLockoutMs: number;
  /** Whose `now()` the clock is (a TestScheduler in tests). */
  readonly scheduler?: Pick<SchedulerLike, 'now'>;
  /** Addresses tracked before expired ones are swept; bounds memory under a spray of addresses. */
  readonly maxAddresses?: number;
}

interface Record {
  /** Times of the latest failures, oldest first, at most `maxFailures`. */
  failures: number[];
  lockouts: number;
  lockedUntil: number;
}

/** What a failure did: whether it started a lockout (log it, once), and how long that lasts. */
export interface Failure {
  readonly lockoutMs: number;
  readonly started: boolean;
}

/**
 * Failed logins per client address, so guessing costs the guesser: after `maxFailures` failures within
 * `windowMs` the address is locked out (answered 429 without checking what it sends) for `firstLockoutMs`; one
 * more failure within `windowMs` of a lockout's end starts the next, twice as long, up to `maxLockoutMs`; a quiet
 * `windowMs` after a lockout starts over. Pure apart from the scheduler's clock; memory is bounded (`maxAddresses`, expired entries swept).
 *
 * @example
 * const throttle = new LoginThrottle(DEFAULTS.loginFailures);
 * if (throttle.retryAfterMs(address) > 0) return reject(429);
 * if (!ok && throttle.failed(address).started) log('warn', `locked out ${address}`);
 */
export class LoginThrottle {
  private readonly records = new Map<string, Record>();
  private readonly scheduler: Pick<SchedulerLike, 'now'>;
  private readonly maxAddresses: number;

  constructor(private readonly options: LoginThrottleOptions = DEFAULTS.loginFailures) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** How long `address` is still locked out (ms); 0 when it may try. */
  retryAfterMs(address: string): number {
    const record = this.records.get(address);
    return record ? Math.max(0, record.lockedUntil - this.scheduler.now()) : 0;
  }

  /** Counts a failed login of `address`. */
  failed(address: string): Failure {
    const now = this.scheduler.now();
    let record = this.records.get(address);
    if (!record) {
      if (this.records.size >= this.maxAddresses) this.sweep(now);
      record = { failures: [], lockouts: 0, lockedUntil: 0 };
      this.records.set(address, record);
    }
    if (now < record.lockedUntil) return { lockoutMs: record.lockedUntil - now, started: false };
    // A quiet window after the last lockout ends the run: the next one starts from the first length again.
    if (record.lockouts > 0 && now - record.lockedUntil >= this.options.windowMs) {
      record.lockouts = 0;
      record.failures = [];
    }
    record.failures = [...record.failures.filter((at) => now - at < this.options.windowMs), now].slice(-this.options.maxFailures);
    // In a run, one more failure is enough for the next, longer lockout.
    if (record.lockouts === 0 && record.failures.length < this.options.maxFailures) return { lockoutMs: 0, started: false };
    const lockoutMs = Math.min(this.options.maxLockoutMs, this.options.firstLockoutMs * 2 ** record.lockouts);
    record.lockouts++;
    record.lockedUntil = now + lockoutMs;
    return { lockoutMs, started: true };
  }

  /** A successful login forgets the address's failures. */
  succeeded(address: string): void {
    this.records.delete(address);
  }

  /** Addresses tracked now (for tests). */
  get size(): number {
    return this.records.size;
  }

  /** Forgets addresses neither locked out nor with a failure in the window; if all are, the oldest half. */
  private sweep(now: number): void {
    for (const [address, record] of this.records) {
      const last = Math.max(record.lockedUntil, record.failures[record.failures.length - 1] ?? 0);
      if (now - last >= this.options.windowMs) this.records.delete(address);
    }
    if (this.records.size < this.maxAddresses) return;
    let drop = Math.ceil(this.records.size / 2);
    for (const address of this.records.keys()) {
      if (drop-- <= 0) break;
      this.records.delete(address);
    }
  }
}
