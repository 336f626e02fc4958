// The pure part of the link relay (bench/net/relay.ts): when each chunk (TCP) or datagram (UDP) crossing the relay
// in one direction is delivered, or whether it is lost. No sockets and no clock here: the caller passes the time, and
// the random numbers come from a seeded generator, so a schedule is the same on every run and testable.

/** What a link does to the traffic crossing it in one direction, besides the kernel's rate cap (tc, netns.ts). */
export interface Impairment {
  /** One-way delay, ms (half the round trip that this direction adds). */
  readonly delayMs: number;
  /** Each chunk's delay is `delayMs` ± up to this (uniform), ms. */
  readonly jitterMs: number;
  /** Fraction of datagrams lost (UDP), 0–1. On TCP a loss is its retransmission: see `retransmitMs`. */
  readonly loss: number;
  /**
   * TCP: a lost segment reaches the peer this much later (the retransmission), holding everything behind it
   * (head-of-line blocking). Default {@link MIN_RTO_MS}.
   */
  readonly retransmitMs?: number;
}

/** Linux's minimum retransmission timeout (TCP_RTO_MIN), what a lone lost segment on a short link costs. */
export const MIN_RTO_MS = 200;

/** No impairment: delivered at once, nothing lost. */
export const CLEAN: Impairment = Object.freeze({ delayMs: 0, jitterMs: 0, loss: 0 });

/** A fate: lost (UDP only), or delivered at `at` (ms, the caller's clock). */
export type Fate = { readonly lost: true } | { readonly lost: false; readonly at: number };

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a small, fast seeded generator (32-bit state), plenty for a link's coin flips; the same seed gives
 * the same sequence on every machine.
 * @example
 * const rng = seededRandom(42);
 * rng(); // 0.6011037519201636, always
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One direction of a link: the fate of each chunk, in order. */
export interface DirectionSchedule {
  /** The fate of a chunk or datagram that arrives at `now`. */
  next(now: number): Fate;
  /** From `from` for `durationMs`, nothing crosses: datagrams are lost, TCP bytes wait for the link's return. */
  outage(from: number, durationMs: number): void;
  /** Replaces the impairment from now on (a profile that changes). */
  impair(impairment: Impairment): void;
}

/**
 * The schedule of one direction. `stream` (TCP): order is kept (a chunk is never delivered before the one ahead of
 * it), losses become a retransmission's delay, and bytes that arrive during an outage are delivered when it ends.
 * Datagrams (UDP) keep their order too (Wi-Fi seldom reorders), are lost at `loss`, and all lost in an outage.
 * @example
 * const up = directionSchedule({ delayMs: 25, jitterMs: 10, loss: 0.01 }, { stream: false, random: seededRandom(1) });
 * up.next(1000); // { lost: false, at: 1031.2… } or { lost: true }
 */
export function directionSchedule(initial: Impairment, options: { readonly stream: boolean; readonly random: Random }): DirectionSchedule {
  const { stream, random } = options;
  let impairment = initial;
  let last = -Infinity;
  const outages: { from: number; to: number }[] = [];
  const outageEnd = (now: number): number | undefined => {
    while (outages.length && outages[0]!.to <= now) outages.shift();
    const current = outages.find((o) => o.from <= now && now < o.to);
    return current?.to;
  };
  return {
    next(now) {
      const down = outageEnd(now);
      if (down !== undefined && !stream) return { lost: true };
      // Both numbers are drawn for every chunk, so one impairment's sequence does not shift with the other's.
      const jitter = (random() * 2 - 1) * impairment.jitterMs;
      const lost = random() < impairment.loss;
      if (lost && !stream) return { lost: true };
      const penalty = lost ? (impairment.retransmitMs ?? MIN_RTO_MS) : 0;
      const at = Math.max(last, (down ?? now) + Math.max(0, impairment.delayMs + jitter) + penalty);
      last = at;
      return { lost: false, at };
    },
    outage(from, durationMs) {
      outages.push({ from, to: from + durationMs });
      outages.sort((a, b) => a.from - b.from);
    },
    impair(next) {
      impairment = next;
    },
  };
}
