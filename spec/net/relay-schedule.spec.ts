import fc from 'fast-check';
import { CLEAN, MIN_RTO_MS, directionSchedule, seededRandom } from '../../bench/net/relay-schedule';

const JITTERY = { delayMs: 25, jitterMs: 10, loss: 0 };

describe('seededRandom', () => {
  it('gives the same sequence for the same seed, a different one for another, all in [0, 1)', () => {
    const take = (seed: number): number[] => Array.from({ length: 1000 }, seededRandom(seed));
    expect(take(7)).toEqual(take(7));
    expect(take(7)).not.toEqual(take(8));
    expect(take(7).every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('directionSchedule', () => {
  it('delivers at once and loses nothing on a clean link', () => {
    const s = directionSchedule(CLEAN, { stream: false, random: seededRandom(1) });
    expect([0, 5, 5, 9].map((t) => s.next(t))).toEqual([0, 5, 5, 9].map((at) => ({ lost: false, at })));
  });

  it('delays each datagram by delay ± jitter, in order, the same for the same seed', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 200 }), (seed, gaps) => {
        const times = gaps.reduce<number[]>((acc, g) => [...acc, (acc.at(-1) ?? 0) + g], []);
        const run = (): number[] => {
          const s = directionSchedule(JITTERY, { stream: false, random: seededRandom(seed) });
          return times.map((t) => {
            const fate = s.next(t);
            if (fate.lost) throw new Error('lost on a loss-free link');
            return fate.at;
          });
        };
        const ats = run();
        expect(run()).toEqual(ats);
        ats.forEach((at, i) => {
          // Never before delay − jitter after arrival; later than delay + jitter only when held behind the one before.
          expect(at - times[i]!).toBeGreaterThanOrEqual(15);
          if (i > 0) expect(at).toBeGreaterThanOrEqual(ats[i - 1]!);
          if (at - times[i]! > 35) expect(at).toBe(ats[i - 1]);
        });
      }),
    );
  });

  it('spreads the delay over the whole jitter range', () => {
    const s = directionSchedule(JITTERY, { stream: false, random: seededRandom(3) });
    // Far apart, so order never holds one back.
    const delays = Array.from({ length: 2000 }, (_, i) => (s.next(i * 1000) as { at: number }).at - i * 1000);
    expect(Math.min(...delays)).toBeLessThan(16);
    expect(Math.max(...delays)).toBeGreaterThan(34);
    expect(delays.reduce((a, b) => a + b) / delays.length).toBeCloseTo(25, 0);
  });

  it('loses datagrams at the loss rate (seeded: the same ones each run)', () => {
    const lost = (seed: number): number[] => {
      const s = directionSchedule({ delayMs: 0, jitterMs: 0, loss: 0.05 }, { stream: false, random: seededRandom(seed) });
      return Array.from({ length: 10_000 }, (_, i) => i).filter((i) => s.next(i).lost);
    };
    expect(lost(11)).toEqual(lost(11));
    expect(lost(11).length).toBeGreaterThan(400);
    expect(lost(11).length).toBeLessThan(600);
  });

  it('turns a TCP loss into a retransmission that holds back what follows', () => {
    const s = directionSchedule({ delayMs: 10, jitterMs: 0, loss: 1 }, { stream: true, random: seededRandom(5) });
    expect(s.next(0)).toEqual({ lost: false, at: 10 + MIN_RTO_MS });
    s.impair({ delayMs: 10, jitterMs: 0, loss: 0 });
    // Sent 1 ms later, it still waits for the retransmitted one ahead of it.
    expect(s.next(1)).toEqual({ lost: false, at: 10 + MIN_RTO_MS });
    expect(s.next(500)).toEqual({ lost: false, at: 510 });
  });

  it('loses every datagram during an outage, and none after', () => {
    const s = directionSchedule(CLEAN, { stream: false, random: seededRandom(1) });
    s.outage(100, 3000);
    expect(s.next(99)).toEqual({ lost: false, at: 99 });
    expect(s.next(100).lost).toBe(true);
    expect(s.next(3099).lost).toBe(true);
    expect(s.next(3100)).toEqual({ lost: false, at: 3100 });
  });

  it('holds TCP bytes sent during an outage until the link is back, then delays them as usual', () => {
    const s = directionSchedule({ delayMs: 20, jitterMs: 0, loss: 0 }, { stream: true, random: seededRandom(1) });
    s.outage(1000, 3000);
    expect(s.next(1500)).toEqual({ lost: false, at: 4020 });
    expect(s.next(3999)).toEqual({ lost: false, at: 4020 });
    expect(s.next(4000)).toEqual({ lost: false, at: 4020 });
    expect(s.next(5000)).toEqual({ lost: false, at: 5020 });
  });
});
