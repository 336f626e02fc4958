import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import fc from 'fast-check';
import { PUBLIC_DIR } from '../../src/server/pages';

type Decision = 'decode' | 'flush' | 'drop-gop' | 'wait-key';

interface DropInput {
  key: boolean;
  waitKey: boolean;
  queued: number;
  queuedMs: number;
  decodeMs: number;
  oldestWaitMs: number;
  lateMs: number;
  nextKeyInMs: number | null;
  boundMs: number;
}

interface DropPolicy {
  readonly waitKey: boolean;
  readonly decodeMs: number;
  readonly keyMs: number;
  readonly gopMs: number | null;
  readonly keepingUp: boolean;
  readonly lateDrops: number;
  readonly flushes: number;
  take(key: boolean, capturedAt: number, now: number): Decision;
  fed(key: boolean, now: number): void;
  output(now: number): void;
  cleared(): void;
  resync(): void;
}

/** What webcodecs-drop-policy.js puts on `window.pistreamDropPolicy`. */
interface DropPolicyModule {
  decide(input: DropInput): Decision;
  DropPolicy: new () => DropPolicy;
  MAX_LATE_MS: number;
}

/** The page's script as the page runs it: a plain script in a browser-like global, read off `window`. */
function load(): DropPolicyModule {
  const window: { pistreamDropPolicy?: DropPolicyModule } = {};
  const context = vm.createContext({ window, Math, Infinity });
  const file = 'webcodecs-drop-policy.js';
  vm.runInContext(readFileSync(join(PUBLIC_DIR, file), 'utf8'), context, { filename: file });
  return window.pistreamDropPolicy!;
}

const policy = load();

/** A delta in the middle of a 1 s GOP, the decoder idle and measured at 40 ms a picture. */
const BASE: DropInput = {
  key: false,
  waitKey: false,
  queued: 0,
  queuedMs: 0,
  decodeMs: 40,
  oldestWaitMs: 0,
  lateMs: 0,
  nextKeyInMs: 500,
  boundMs: 1000,
};

describe('decide (webcodecs-drop-policy.js)', () => {
  it.each<[string, Partial<DropInput>, Decision]>([
    ['a key unit, decoder idle', { key: true, nextKeyInMs: 1000 }, 'decode'],
    ['a key unit while waiting for one', { key: true, waitKey: true }, 'decode'],
    ['a key unit behind a short backlog (2 × 40 ms)', { key: true, queued: 2, queuedMs: 80, oldestWaitMs: 60 }, 'decode'],
    ['a key unit behind more than the bound (30 × 40 ms)', { key: true, queued: 30, queuedMs: 1200, oldestWaitMs: 300 }, 'flush'],
    ['a key unit behind more than a quarter of the bound (8 × 40 ms)', { key: true, queued: 8, queuedMs: 320, oldestWaitMs: 100 }, 'flush'],
    [
      'a key unit behind two slow pictures (2 × 300 ms, within twice the decode time)',
      { key: true, queued: 2, queuedMs: 590, decodeMs: 300 },
      'decode',
    ],
    ['a key unit behind a decoder stalled past the bound', { key: true, queued: 1, queuedMs: 40, oldestWaitMs: 1200 }, 'flush'],
    ['a delta while waiting for a key unit', { waitKey: true }, 'wait-key'],
    ['a delta while waiting, even with time to spare', { waitKey: true, nextKeyInMs: 900 }, 'wait-key'],
    ['a delta, decoder idle', {}, 'decode'],
    [
      'a delta early in the GOP with a backlog that still ends in time (5 × 40 + 40 < 500)',
      { queued: 5, queuedMs: 200, oldestWaitMs: 150 },
      'decode',
    ],
    ['a delta whose backlog is done just before the next key unit is due (12 × 40 = 480 < 500)', { queued: 12, queuedMs: 480 }, 'decode'],
    ['a delta whose backlog is not done when the next key unit is due (13 × 40 = 520 > 500)', { queued: 13, queuedMs: 520 }, 'drop-gop'],
    ["the GOP's last delta, decoder idle, with time for it", { nextKeyInMs: 45 }, 'decode'],
    ["the GOP's last delta, decoder idle, its picture out a little after the key unit is due", { nextKeyInMs: 5 }, 'decode'],
    ['the next key unit overdue (a GOP longer than the last), decoder idle', { nextKeyInMs: -200 }, 'decode'],
    ['the next key unit overdue, a backlog within the bound', { nextKeyInMs: -200, queued: 3, queuedMs: 120 }, 'decode'],
    ['the next key unit overdue, a backlog past the bound', { nextKeyInMs: -200, queued: 25, queuedMs: 1000 }, 'drop-gop'],
    ["the GOP's last delta, two queued before it", { nextKeyInMs: 45, queued: 2, queuedMs: 80 }, 'drop-gop'],
    ['a delta before the decode time is measured', { decodeMs: 0, queued: 20, queuedMs: 0, nextKeyInMs: 10 }, 'decode'],
    [
      'GOP length unknown, within the bound (late 500 + 10 × 40 + 40 < 1000)',
      { nextKeyInMs: null, queued: 10, queuedMs: 400, lateMs: 500 },
      'decode',
    ],
    [
      'GOP length unknown, past the bound (late 500 + 12 × 40 + 40 > 1000)',
      { nextKeyInMs: null, queued: 12, queuedMs: 480, lateMs: 500 },
      'drop-gop',
    ],
    ['a delta of a long GOP whose key unit is far off, past the bound', { nextKeyInMs: 3000, queued: 25, queuedMs: 1000 }, 'drop-gop'],
    ['a delta behind a decoder stalled past the bound', { oldestWaitMs: 1100, queued: 1, queuedMs: 10, decodeMs: 10 }, 'drop-gop'],
  ])('%s → %s', (_name, change, expected) => {
    expect(policy.decide({ ...BASE, ...change })).toBe(expected);
  });
});

/** A simulated stream and decoder: pictures every `frameMs`, a key unit every `gop`, the decoder FIFO at `decodeMs`. */
interface Simulation {
  readonly fps: number;
  readonly gop: number;
  readonly decodeMs: number;
  /** A key picture costs this many deltas' time (default 1). */
  readonly keyCost?: number;
  readonly seconds: number;
}

interface SimulationResult {
  readonly shown: number;
  /** Per picture shown: ms from its arrival to its output. */
  readonly latencies: number[];
  /** The same, of the pictures that arrived after the first two GOPs (the decode times measured by then). */
  readonly steadyLatencies: number[];
  readonly lateDrops: number;
  readonly keepingUp: boolean;
  /** Pictures per second the decoder manages when it decodes everything (1000 / the mean decode time). */
  readonly capacity: number;
  readonly drop: DropPolicy;
  /** The decision on each picture, in order. */
  readonly decisions: Decision[];
}

/** Runs the page's policy against a simulated decoder, in virtual time (ms). */
function simulate(sim: Simulation): SimulationResult {
  const drop = new policy.DropPolicy();
  const frameMs = 1000 / sim.fps;
  const keyCost = sim.keyCost ?? 1;
  const queue: { arrivedAt: number; doneAt: number }[] = [];
  const latencies: number[] = [];
  const steadyLatencies: number[] = [];
  const steadyFrom = 1000 + 2 * sim.gop * frameMs;
  const decisions: Decision[] = [];
  let busyUntil = 0;
  const outputsUpTo = (now: number): void => {
    while (queue.length > 0 && queue[0]!.doneAt <= now) {
      const unit = queue.shift()!;
      drop.output(unit.doneAt);
      latencies.push(unit.doneAt - unit.arrivedAt);
      if (unit.arrivedAt >= steadyFrom) steadyLatencies.push(unit.doneAt - unit.arrivedAt);
    }
  };
  const pictures = Math.round(sim.seconds * sim.fps);
  for (let i = 0; i < pictures; i++) {
    const now = 1000 + i * frameMs;
    outputsUpTo(now);
    const key = i % sim.gop === 0;
    const decision = drop.take(key, now - 5, now);
    decisions.push(decision);
    if (decision === 'flush') {
      queue.length = 0;
      busyUntil = now;
    }
    if (decision !== 'decode' && decision !== 'flush') continue;
    drop.fed(key, now);
    busyUntil = Math.max(busyUntil, now) + sim.decodeMs * (key ? keyCost : 1);
    queue.push({ arrivedAt: now, doneAt: busyUntil });
  }
  outputsUpTo(Infinity);
  const meanMs = (sim.decodeMs * (sim.gop - 1 + keyCost)) / sim.gop;
  return {
    shown: latencies.length,
    latencies,
    steadyLatencies,
    lateDrops: drop.lateDrops,
    keepingUp: drop.keepingUp,
    capacity: 1000 / meanMs,
    drop,
    decisions,
  };
}

describe('DropPolicy against a simulated decoder', () => {
  it('a decoder faster than the stream decodes everything and keeps up', () => {
    const result = simulate({ fps: 30, gop: 30, decodeMs: 20, seconds: 10 });
    expect(result.shown).toBe(300);
    expect(result.lateDrops).toBe(0);
    expect(result.keepingUp).toBe(true);
    expect(Math.max(...result.latencies)).toBe(20);
    expect(result.drop.decodeMs).toBeCloseTo(20);
    expect(result.drop.gopMs).toBeCloseTo(1000);
  });

  it('a decoder at 23 pictures/s on 1 s GOPs at 30/s shows what it can decode, late drops only, latency under one GOP', () => {
    const result = simulate({ fps: 30, gop: 30, decodeMs: 1000 / 23, seconds: 20 });
    // The first GOP decodes whole (its length is not known yet, the bound holds it); from then on each GOP shows as
    // many as fit before the next key unit.
    const perSecond = result.shown / 20;
    expect(perSecond).toBeGreaterThanOrEqual(0.95 * result.capacity);
    expect(perSecond).toBeLessThanOrEqual(result.capacity + 1);
    expect(result.keepingUp).toBe(false);
    expect(result.lateDrops).toBe(600 - result.shown);
    expect(Math.max(...result.latencies)).toBeLessThan(1000);
  });

  it('drops the tail of each GOP, never its start: each GOP decodes from its key unit, then drops the rest', () => {
    const result = simulate({ fps: 30, gop: 30, decodeMs: 60, seconds: 6 });
    // The first GOP decodes whole (its length is not known yet) and leaves a backlog to the second; then steady.
    for (let gop = 2; gop < 6; gop++) {
      const decisions = result.decisions.slice(gop * 30, (gop + 1) * 30);
      const firstDrop = decisions.indexOf('drop-gop');
      // About half the GOP fits at 60 ms a picture against 33 ms: decoded first, then dropped to the next key unit.
      expect(firstDrop).toBeGreaterThanOrEqual(14);
      expect(decisions.slice(0, firstDrop).every((d) => d === 'decode')).toBe(true);
      expect(decisions.slice(firstDrop + 1).every((d) => d === 'wait-key')).toBe(true);
    }
  });

  it('a key unit that costs three deltas: still bounded, still at least 90 % of what the decoder manages', () => {
    const result = simulate({ fps: 30, gop: 30, decodeMs: 35, keyCost: 3, seconds: 20 });
    expect(result.shown / 20).toBeGreaterThanOrEqual(0.9 * result.capacity);
    expect(Math.max(...result.latencies)).toBeLessThan(1000);
  });

  it('a long GOP (4 s): latency held by the bound, not by the GOP', () => {
    const result = simulate({ fps: 30, gop: 120, decodeMs: 50, seconds: 20 });
    expect(Math.max(...result.latencies)).toBeLessThanOrEqual(policy.MAX_LATE_MS + 50);
    expect(result.keepingUp).toBe(false);
  });

  it('keeps up again after a whole GOP decoded without a late drop', () => {
    const drop = new policy.DropPolicy();
    drop.take(true, 0, 0);
    drop.fed(true, 0);
    drop.output(10);
    // Second GOP: the decoder is slow (a measured 400 ms per delta).
    drop.take(true, 1000, 1000);
    drop.fed(true, 1000);
    expect(drop.take(false, 1033, 1033)).toBe('decode');
    drop.fed(false, 1033);
    drop.output(1040);
    drop.output(1440);
    expect(drop.decodeMs).toBe(400);
    drop.fed(false, 1440);
    // 390 ms of backlog, the key unit due in 550: fed. Then 540 ms of backlog with the key unit due in 300: dropped.
    expect(drop.take(false, 1450, 1450)).toBe('decode');
    drop.fed(false, 1450);
    expect(drop.take(false, 1700, 1700)).toBe('drop-gop');
    expect(drop.keepingUp).toBe(false);
    // Third GOP: still marked, it has not been decoded whole yet.
    drop.output(1840);
    drop.output(1990);
    expect(drop.take(true, 2000, 2000)).toBe('decode');
    expect(drop.keepingUp).toBe(false);
    drop.fed(true, 2000);
    drop.output(2010);
    // Fourth GOP: the third was decoded whole.
    drop.take(true, 3000, 3000);
    expect(drop.keepingUp).toBe(true);
  });

  it('a main thread that stalls once is not taken for a slow decoder (the decode time is a median)', () => {
    const drop = new policy.DropPolicy();
    drop.take(true, 0, 0);
    drop.fed(true, 0);
    drop.output(20);
    // Ten deltas at 10 ms each, one every 33 ms.
    for (let i = 1; i <= 10; i++) {
      const at = i * 33;
      expect(drop.take(false, at, at)).toBe('decode');
      drop.fed(false, at);
      drop.output(at + 10);
    }
    // The main thread stalls 300 ms: one picture comes out late, then the five units that waited come in a bunch
    // and their pictures right after.
    let now = 11 * 33;
    drop.take(false, now, now);
    drop.fed(false, now);
    drop.output(now + 300);
    now += 300;
    for (let i = 0; i < 5; i++) {
      expect(drop.take(false, now - 132 + 33 * i, now)).toBe('decode');
      drop.fed(false, now);
    }
    for (let i = 0; i < 5; i++) drop.output(now + 2 * (i + 1));
    expect(drop.decodeMs).toBeLessThan(15);
    // The next unit, five queued before it: decoded (about 50 ms of backlog by the median).
    now += 20;
    for (let i = 0; i < 5; i++) drop.fed(false, now);
    expect(drop.take(false, 16 * 33 + 20, now)).toBe('decode');
    expect(drop.keepingUp).toBe(true);
  });

  it('after a decoder error, deltas wait for a key unit; the same key unit taken twice is one GOP', () => {
    const drop = new policy.DropPolicy();
    expect(drop.take(false, 0, 0)).toBe('wait-key');
    expect(drop.take(true, 100, 100)).toBe('decode');
    expect(drop.take(true, 100, 120)).toBe('decode');
    expect(drop.gopMs).toBeNull();
    drop.fed(true, 120);
    drop.resync();
    expect(drop.take(false, 133, 133)).toBe('wait-key');
    expect(drop.take(true, 1100, 1100)).toBe('decode');
    expect(drop.gopMs).toBe(1000);
  });

  it('property: once running, the latency of every picture shown stays within one GOP or the bound, whatever the speed of the decoder', () => {
    fc.assert(
      fc.property(
        fc.record({
          fps: fc.integer({ min: 10, max: 60 }),
          gopSeconds: fc.constantFrom(0.5, 1, 2),
          decodeMs: fc.double({ min: 2, max: 400, noNaN: true }),
          keyCost: fc.double({ min: 1, max: 3, noNaN: true }),
        }),
        ({ fps, gopSeconds, decodeMs, keyCost }) => {
          const gop = Math.round(fps * gopSeconds);
          // A decoder that can at least decode the key pictures (one taking over half a GOP shows next to nothing).
          fc.pre(decodeMs * keyCost <= (500 * gop) / fps);
          const result = simulate({ fps, gop, decodeMs, keyCost, seconds: 12 });
          const gopMs = (1000 * gop) / fps;
          // A picture out at most one GOP (or the bound) after it arrived, plus its own decode and the key's, plus one
          // picture for the estimate's error (measured decode times, not known ones) and one picture interval (the
          // decisions are made as units arrive).
          const limit = Math.min(gopMs, policy.MAX_LATE_MS) + decodeMs * (2 + keyCost) + 1000 / fps;
          // Once running: before the first pictures are out, how long the decoder takes is not known.
          for (const latency of result.steadyLatencies) expect(latency).toBeLessThanOrEqual(limit);
          // Pictures keep coming: at least one every other GOP, or every other key picture's decode where a key
          // picture alone takes longer than a GOP.
          const everyMs = 2 * Math.max(gopMs, decodeMs * keyCost);
          expect(result.shown).toBeGreaterThanOrEqual(Math.floor(12_000 / everyMs) - 1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
