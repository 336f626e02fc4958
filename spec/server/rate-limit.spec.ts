import fc from 'fast-check';
import { RateLimiter } from '../../src/server/rate-limit';

/** A scheduler clock the test moves by hand (the limiter only reads `now()`). */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('RateLimiter (token bucket per key)', () => {
  it('lets a burst through at once, then refuses', () => {
    const clock = manualClock();
    const limit = new RateLimiter({ perSecond: 2, burst: 3, scheduler: clock });
    expect([1, 2, 3, 4, 5].map(() => limit.take('a'))).toEqual([true, true, true, false, false]);
  });

  it('refills at perSecond, never above burst', () => {
    const clock = manualClock();
    const limit = new RateLimiter({ perSecond: 2, burst: 3, scheduler: clock });
    for (let i = 0; i < 3; i++) limit.take('a');
    clock.advance(499);
    expect(limit.take('a')).toBe(false); // 0.998 of a token
    clock.advance(1);
    expect(limit.take('a')).toBe(true); // one token after 500 ms at 2/s
    clock.advance(60_000);
    expect([1, 2, 3, 4].map(() => limit.take('a'))).toEqual([true, true, true, false]);
  });

  it('keeps keys apart: one client spending its bucket costs another nothing', () => {
    const limit = new RateLimiter({ perSecond: 1, burst: 2, scheduler: manualClock() });
    expect([limit.take('a'), limit.take('a'), limit.take('a')]).toEqual([true, true, false]);
    expect([limit.take('b'), limit.take('b'), limit.take('b')]).toEqual([true, true, false]);
  });

  it('tolerates a clock that goes back (no tokens made from negative time)', () => {
    const clock = manualClock();
    const limit = new RateLimiter({ perSecond: 1, burst: 1, scheduler: clock });
    expect(limit.take('a')).toBe(true);
    clock.advance(-10_000);
    expect(limit.take('a')).toBe(false);
  });

  it('bounds the keys it tracks: idle (full) buckets are forgotten first, then the oldest', () => {
    const clock = manualClock();
    const limit = new RateLimiter({ perSecond: 1, burst: 2, scheduler: clock, maxKeys: 4 });
    for (const key of ['a', 'b', 'c', 'd']) limit.take(key);
    expect(limit.size).toBe(4);
    clock.advance(5_000); // all refilled: the same as untracked
    limit.take('e');
    expect(limit.size).toBe(1);
    for (const key of ['f', 'g', 'h']) limit.take(key); // all busy now
    limit.take('i');
    expect(limit.size).toBeLessThanOrEqual(4);
  });

  it('never allows more than burst + elapsed × rate (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 200 }),
        (perSecond, burst, gaps) => {
          const clock = manualClock();
          const limit = new RateLimiter({ perSecond, burst, scheduler: clock });
          let allowed = 0;
          let elapsed = 0;
          for (const gap of gaps) {
            clock.advance(gap);
            elapsed += gap;
            if (limit.take('x')) allowed++;
          }
          return allowed <= burst + (elapsed * perSecond) / 1000 + 1e-9;
        },
      ),
    );
  });

  it('refuses nonsense settings', () => {
    expect(() => new RateLimiter({ perSecond: 0, burst: 1 })).toThrow(/perSecond > 0/);
    expect(() => new RateLimiter({ perSecond: 1, burst: 0 })).toThrow(/burst >= 1/);
  });
});
