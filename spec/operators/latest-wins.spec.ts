import fc from 'fast-check';
import { awaitingKeyAfter, feedStep, LatestWins, type FeedStep } from '../../src/operators/latest-wins';

describe('feedStep', () => {
  // Every input: [awaitingKey, busy, keyframe, mayQueue] → step.
  const table: [boolean, boolean, boolean, boolean, FeedStep][] = [
    [false, false, false, false, 'write'],
    [false, false, true, false, 'write'],
    [false, false, false, true, 'write'],
    [false, true, false, false, 'drop'],
    [false, true, true, false, 'drop'],
    [false, true, false, true, 'queue'],
    [false, true, true, true, 'queue'],
    [true, false, false, false, 'skip'],
    [true, true, false, false, 'skip'],
    [true, true, false, true, 'skip'],
    [true, false, true, false, 'write'],
    [true, true, true, false, 'drop'],
    [true, true, true, true, 'queue'],
  ];
  it.each(table)('awaitingKey %s, busy %s, keyframe %s, mayQueue %s → %s', (awaitingKey, busy, keyframe, mayQueue, step) => {
    expect(feedStep(awaitingKey, busy, keyframe, mayQueue)).toBe(step);
  });
});

describe('awaitingKeyAfter', () => {
  it('a drop waits for a key only when inputs depend on earlier ones; a skip keeps waiting; a write or queue ends it', () => {
    expect(awaitingKeyAfter('drop', true)).toBe(true);
    expect(awaitingKeyAfter('drop', false)).toBe(false);
    expect(awaitingKeyAfter('skip', true)).toBe(true);
    expect(awaitingKeyAfter('write', true)).toBe(false);
    expect(awaitingKeyAfter('queue', true)).toBe(false);
  });
});

/** Letters: upper case a keyframe, lower case a P picture; `busy` per input, 1 when the previous write has not drained. */
function run(latest: LatestWins, inputs: string, busy: string, mayQueue = ''): string {
  return [...inputs].map((c, i) => latest.step(busy[i] === '1', c === c.toUpperCase(), mayQueue[i] === '1')[0]).join('');
}

describe('LatestWins', () => {
  it('coded pictures: a drop is followed by skips up to the next keyframe, which is written', () => {
    const latest = new LatestWins({ dependent: true });
    // w = write, d = drop, s = skip
    expect(run(latest, 'AbcdeFgH', '00100000')).toBe('wwdsswww');
    expect(latest.awaitingKey).toBe(false);
  });

  it('coded pictures: a keyframe that finds the writer busy is dropped too, and the wait goes on', () => {
    const latest = new LatestWins({ dependent: true });
    expect(run(latest, 'AbCdEf', '011000')).toBe('wddsww');
  });

  it('raw frames: each drop stands alone, nothing is skipped', () => {
    const latest = new LatestWins({ dependent: false });
    expect(run(latest, 'abcdef', '011010')).toBe('wddwdw');
    expect(latest.awaitingKey).toBe(false);
  });

  it('starting awaiting a key: everything before the first keyframe is skipped', () => {
    const latest = new LatestWins({ dependent: true, awaitingKey: true });
    expect(run(latest, 'abCde', '00000')).toBe('sswww');
  });

  it('where the caller allows a queue, a busy writer queues instead of dropping, and no wait for a key follows', () => {
    const latest = new LatestWins({ dependent: true });
    // q = queue: the first three wait for the reader's start; then the queue is closed and latest wins.
    expect(run(latest, 'Abcdef', '011111', '011100')).toBe('wqqqds');
  });

  it('property: a dependent writer never writes or queues a P picture between a drop and the next keyframe', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()), { maxLength: 60 }), (inputs) => {
        const latest = new LatestWins({ dependent: true });
        let broken = false;
        for (const [busy, keyframe, mayQueue] of inputs) {
          const step = latest.step(busy, keyframe, mayQueue);
          if (broken && !keyframe) expect(step).toBe('skip');
          if (step === 'drop') broken = true;
          else if (step === 'write' || step === 'queue') broken = false;
        }
      }),
    );
  });
});
