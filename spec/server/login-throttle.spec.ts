import { LoginThrottle } from '../../src/server/login-throttle';

/** A throttle on a clock the test moves. */
function throttle(maxAddresses?: number) {
  let now = 0;
  const t = new LoginThrottle({
    maxFailures: 5,
    windowMs: 60_000,
    firstLockoutMs: 1000,
    maxLockoutMs: 300_000,
    scheduler: { now: () => now },
    ...(maxAddresses ? { maxAddresses } : {}),
  });
  return { t, at: (ms: number) => (now = ms) };
}

describe('LoginThrottle', () => {
  it('locks an address out for 1 s at its 5th failure within a minute, and says so once', () => {
    const { t, at } = throttle();
    const failures = [0, 1, 2, 3].map((ms) => (at(ms * 1000), t.failed('10.0.0.1')));
    expect(failures.every((f) => !f.started)).toBe(true);
    expect(t.retryAfterMs('10.0.0.1')).toBe(0);
    at(4000);
    expect(t.failed('10.0.0.1')).toEqual({ lockoutMs: 1000, started: true });
    expect(t.retryAfterMs('10.0.0.1')).toBe(1000);
    at(4500);
    expect(t.retryAfterMs('10.0.0.1')).toBe(500);
    expect(t.retryAfterMs('10.0.0.2')).toBe(0);
  });

  it('doubles each lockout in a row, from 1 s up to 5 min', () => {
    const { t, at } = throttle();
    let now = 0;
    for (let i = 0; i < 4; i++) {
      at(now);
      t.failed('a');
    }
    const lockouts: number[] = [];
    for (let i = 0; i < 11; i++) {
      at(now);
      const failure = t.failed('a');
      expect(failure.started).toBe(true);
      lockouts.push(failure.lockoutMs);
      // The next guess comes as soon as the lockout ends, within the minute.
      now += failure.lockoutMs;
    }
    expect(lockouts).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
  });

  it('failures spread over more than a minute never lock out, and a quiet minute starts the lengths over', () => {
    const { t, at } = throttle();
    for (let i = 0; i < 20; i++) {
      at(i * 15_001);
      expect(t.failed('a').started).toBe(false);
    }
    const { t: u, at: atU } = throttle();
    for (let i = 0; i < 5; i++) {
      atU(i);
      u.failed('b');
    }
    atU(5 + 1000);
    expect(u.failed('b')).toMatchObject({ started: true, lockoutMs: 2000 });
    atU(200_000);
    for (let i = 0; i < 4; i++) u.failed('b');
    expect(u.failed('b')).toMatchObject({ started: true, lockoutMs: 1000 });
  });

  it('a success forgets the address', () => {
    const { t, at } = throttle();
    at(0);
    for (let i = 0; i < 4; i++) t.failed('a');
    t.succeeded('a');
    expect(t.failed('a').started).toBe(false);
  });

  it('keeps at most maxAddresses, forgetting quiet ones first (memory stays bounded under a spray)', () => {
    const { t, at } = throttle(100);
    at(0);
    for (let i = 0; i < 5; i++) t.failed('locked');
    at(61_000);
    for (let i = 0; i < 1000; i++) t.failed(`10.0.${i >> 8}.${i & 255}`);
    expect(t.size).toBeLessThanOrEqual(100);
  });
});
