import { map, NEVER, type Observable } from 'rxjs';
import type { RunHelpers, TestScheduler } from 'rxjs/testing';
import { createHub, type Hub, type HubOptions } from '../src/hub';
import type { Picture } from '../src/picture';
import type { WireFormat } from '../src/formats/wire-format';
import { muxedValues, pictures, testFormat, withWire } from './helpers/pictures';
import { testScheduler } from './helpers/test-scheduler';

// Marble letters are pictures: upper case = keyframe, lower case = P picture. The hub's output is the same
// pictures with their (stand-in) TS bytes: `m` below. The encoder is a cold marble that ignores the frames.
// All specs here use a grace period of 3 frames, restarts after 2 frames doubling up to 8 (the count of failures
// reset after 6 frames of pictures), a watchdog of 100.
const v = pictures('AbcDefCdgh');
const m = muxedValues(v);
const COUNTS = { 0: 0, 1: 1, 2: 2, 3: 3 };
const BOOLS = { t: true, f: false };

/** A hub over a fake encoder: `encoders` are used in turn, one per (re)start; the last one is used from then on. */
function hubOver(ts: TestScheduler, encoders: Observable<Picture>[], options: Partial<HubOptions> = {}): Hub {
  let starts = 0;
  return createHub({
    source: NEVER,
    encoder: { width: 640, height: 480, fps: 24 },
    graceMs: 3,
    watchdogMs: 100,
    restart: { initialDelayMs: 2, maxDelayMs: 8, healthyMs: 6 },
    scheduler: ts,
    encode: () => encoders[Math.min(starts++, encoders.length - 1)]!,
    formats: [testFormat],
    ...options,
  });
}

/** Reads `read()` at each `x` of the marble: how stats are asserted over time. */
function probe<T>({ cold }: RunHelpers, marble: string, read: () => T): Observable<T> {
  return cold(marble).pipe(map(read));
}

describe('createHub', () => {
  it('never: an encoder that emits nothing gives subscribers nothing, and no error', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const encoder = cold('  -', v);
      const viewer = '        ^---------!';
      const viewerGets = '    -';
      const encoderSubs = '   ^------------!';
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets);
      expectSubscriptions(encoder.subscriptions).toBe(encoderSubs);
    });
  });

  it('empty: an encoder that ends (camera or ffmpeg exited, even cleanly) is restarted; subscribers stay on', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const firstRun = cold('  -A-|', v);
      const secondRun = cold(' -D-e-', v);
      const viewer = '         ^-----------!';
      const viewerGets = '     -A----D-e----';
      const hub = hubOver(ts, [firstRun, secondRun]);
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets, m);
      // Ends at 3, restarts 2 frames later; stopped 3 frames (grace) after the viewer leaves at 12.
      expectSubscriptions(firstRun.subscriptions).toBe('^--!');
      expectSubscriptions(secondRun.subscriptions).toBe('-----^---------!');
    });
  });

  it('values: one encoder subscription for many subscribers, unsubscribed graceMs after the last leaves', () => {
    const ts = testScheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const encoder = cold('  -A-b-c-D-e-f-', v);
      const first = '         ^---------!';
      const firstGets = '     -A-b-c-D-e-';
      const second = '        --^-----------!';
      const secondGets = '    --Ab-c-D-e-f-';
      const encoderSubs = '   ^----------------!';
      const probes = '        -x--x-------x--x----x';
      const subscribers = '   -1--2-------1--0----0';
      const running = '       -t--t-------t--t----f';
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.stream('test'), first).toBe(firstGets, m);
      expectObservable(hub.stream('test'), second).toBe(secondGets, m);
      expectSubscriptions(encoder.subscriptions).toBe(encoderSubs);
      expectObservable(probe(helpers, probes, () => hub.stats.subscribers)).toBe(subscribers, COUNTS);
      expectObservable(probe(helpers, probes, () => hub.stats.running)).toBe(running, BOOLS);
    });
  });

  it('a subscriber within the grace period reuses the running encoder and gets the GOP from its keyframe at once', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const encoder = cold('  -A-b-c-----D-e-', v);
      const first = '         ^---!';
      const firstGets = '     -A-b-';
      const back = '          ------^---------!';
      const backGets = '      ------(Abc)D-e-';
      const encoderSubs = '   ^------------------!';
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.stream('test'), first).toBe(firstGets, m);
      expectObservable(hub.stream('test'), back).toBe(backGets, m);
      expectSubscriptions(encoder.subscriptions).toBe(encoderSubs);
    });
  });

  it('after the grace period the encoder is gone: a new subscriber starts a new one, with no stale GOP', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const encoder = cold('  -A-b-c-', v);
      const first = '         ^---!';
      const firstGets = '     -A-b-';
      const later = '         ----------^---!';
      const laterGets = '     -----------A-b-';
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.stream('test'), first).toBe(firstGets, m);
      expectObservable(hub.stream('test'), later).toBe(laterGets, m);
      expectSubscriptions(encoder.subscriptions).toBe(['^------!', '----------^------!']);
    });
  });

  it('a subscriber joining mid-GOP gets the GOP from its keyframe at once, then live pictures', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const encoder = cold('  -A-b-c-D-e-----f-', v);
      const early = '         ^-----------------!';
      const earlyGets = '     -A-b-c-D-e-----f-';
      const late = '          ----------^-------!';
      const lateGets = '      ----------(De)-f-';
      const encoderSubs = '   ^--------------------!';
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.stream('test'), early).toBe(earlyGets, m);
      expectObservable(hub.stream('test'), late).toBe(lateGets, m);
      expectSubscriptions(encoder.subscriptions).toBe(encoderSubs);
    });
  });

  it('error: the encoder restarts after initialDelayMs while subscribers stay subscribed and see no error', () => {
    const ts = testScheduler();
    const restarts: [string, number, number][] = [];
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const crashing = cold(' -A-b-#', v, new Error('ffmpeg exited with code 1'));
      // Drawn from where it is subscribed (frame 7): leading spaces do not count as time.
      const restarted = cold('       -C-d-g-', v);
      const viewer = '        ^------------!';
      const viewerGets = '    -A-b----C-d-g';
      const crashingSubs = '  ^----!';
      const restartedSubs = ' -------^--------!';
      const probes = '        ------x--x';
      const lastError = '     ------e--u';
      const restartCount = '  ------1--1';
      const hub = hubOver(ts, [crashing, restarted], {
        onRestart: (error, attempt, delayMs) => restarts.push([(error as Error).message, attempt, delayMs]),
      });
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets, m);
      expectSubscriptions(crashing.subscriptions).toBe(crashingSubs);
      expectSubscriptions(restarted.subscriptions).toBe(restartedSubs);
      expectObservable(probe(helpers, probes, () => hub.stats.lastError)).toBe(lastError, {
        e: 'ffmpeg exited with code 1',
        u: undefined,
      });
      expectObservable(probe(helpers, probes, () => hub.stats.restarts)).toBe(restartCount, COUNTS);
    });
    expect(restarts).toEqual([['ffmpeg exited with code 1', 1, 2]]);
  });

  it('error again and again: the delay doubles per failure up to maxDelayMs (2, 4, 8, 8, …)', () => {
    const ts = testScheduler();
    const restarts: [number, number][] = [];
    let hub!: Hub;
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('  -#', v);
      const viewer = '        ^-----------------------------!';
      const viewerGets = '    -';
      hub = hubOver(ts, [failing], { onRestart: (_e, attempt, delayMs) => restarts.push([attempt, delayMs]) });
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets);
      expectSubscriptions(failing.subscriptions).toBe(['^!', '---^!', '--------^!', '-----------------^!', '--------------------------^!']);
    });
    expect(restarts).toEqual([
      [1, 2],
      [2, 4],
      [3, 8],
      [4, 8],
      [5, 8],
    ]);
    expect(hub.stats.restarts).toBe(5);
  });

  it('error after pictures: a run shorter than healthyMs does not reset the backoff (2, 4, 8)', () => {
    const ts = testScheduler();
    const restarts: [number, number][] = [];
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      // Each run shows one picture and crashes 2 frames later: well before 6 frames of health.
      const flaky = cold('    -A-#', v);
      const viewer = '        ^-------------!';
      const viewerGets = '    -A----A------A-';
      const flakySubs = [
        '                     ^--!',
        '                     -----^--!',
        // Waiting 8 after the third crash (15) when the grace period after the viewer left (14) ends it, at 17.
        '                     ------------^--!',
      ];
      const hub = hubOver(ts, [flaky], { onRestart: (_e, attempt, delayMs) => restarts.push([attempt, delayMs]) });
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets, m);
      expectSubscriptions(flaky.subscriptions).toBe(flakySubs);
    });
    expect(restarts).toEqual([
      [1, 2],
      [2, 4],
      [3, 8],
    ]);
  });

  it('healthy for healthyMs: pictures without a failure for that long reset the backoff to initialDelayMs', () => {
    const ts = testScheduler();
    const restarts: [number, number][] = [];
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const failing = cold('  -#', v);
      // Subscribed at 3: pictures from 4, healthy from 10 (6 frames after its first picture), crashes at 12.
      const steady = cold('      -A-b-c-d-#', v);
      const again = cold('                 -D-e-', v);
      const viewer = '        ^-----------------!';
      const viewerGets = '    ----A-b-c-d----D-e';
      const probes = '        --x-x-x----x-x-x--x';
      const failures = '      --1-1-1----0-1-1--1';
      const state = '         --r-u-u----u-r-u--u';
      const hub = hubOver(ts, [failing, steady, again], {
        onRestart: (_e, attempt, delayMs) => restarts.push([attempt, delayMs]),
      });
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets, m);
      expectSubscriptions(failing.subscriptions).toBe('^!');
      expectSubscriptions(steady.subscriptions).toBe('---^--------!');
      expectSubscriptions(again.subscriptions).toBe('--------------^------!');
      expectObservable(probe(helpers, probes, () => hub.stats.failures)).toBe(failures, COUNTS);
      expectObservable(probe(helpers, probes, () => hub.stats.state)).toBe(state, { r: 'restarting', u: 'running' });
    });
    // Without the reset the second delay would have been 4.
    expect(restarts).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  it('stats while restarting: the state, the failure count and when the next attempt starts', () => {
    const ts = testScheduler();
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const failing = cold('  -#', v);
      const viewer = '        ^---------!';
      const probes = '        x-x-x--x------x';
      const next = '          n-3-n--8------n';
      const state = '         u-r-u--r------i';
      const hub = hubOver(ts, [failing]);
      expectObservable(hub.stream('test'), viewer).toBe('-');
      expectObservable(probe(helpers, probes, () => hub.stats.nextAttemptAt)).toBe(next, { n: undefined, 3: 3, 8: 8 });
      expectObservable(probe(helpers, probes, () => hub.stats.state)).toBe(state, {
        i: 'idle',
        r: 'restarting',
        u: 'running',
      });
    });
  });

  it('watchdog: no picture for watchdogMs restarts the encoder', () => {
    const ts = testScheduler();
    const errors: string[] = [];
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const stalling = cold(' -A-b-', v);
      const viewer = '        ^-------------!';
      const viewerGets = '    -A-b-------A-b';
      const stallingSubs = ['                     ^-------!', '                     ----------^------!'];
      const hub = hubOver(ts, [stalling], {
        watchdogMs: 5,
        onRestart: (error) => errors.push((error as Error).message),
      });
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets, m);
      expectSubscriptions(stalling.subscriptions).toBe(stallingSubs);
    });
    expect(errors).toEqual(['no picture for 5 ms: camera or encoder stalled']);
  });

  it('keepAlive(): the encoder runs without subscribers until it is released (then the grace period applies)', () => {
    const ts = testScheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const encoder = cold('  -A-b-c-----D-e-f-', v);
      const viewer = '        ------^-----!';
      const viewerGets = '    ------(Abc)D-';
      const encoderSubs = '   ^------------------!';
      const probes = '        --x-------------x----x';
      const running = '       --t-------------t----f';
      const subscribers = '   --0-------------0----0';
      const hub = hubOver(ts, [encoder]);
      const keepAlive = hub.keepAlive();
      ts.schedule(() => keepAlive.unsubscribe(), 16);
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets, m);
      expectSubscriptions(encoder.subscriptions).toBe(encoderSubs);
      expectObservable(probe(helpers, probes, () => hub.stats.running)).toBe(running, BOOLS);
      expectObservable(probe(helpers, probes, () => hub.stats.subscribers)).toBe(subscribers, COUNTS);
    });
  });

  it('never-ending: pictures keep flowing to a subscriber that stays', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const encoder = cold('  -A-b-c-D-e-f-', v);
      const viewer = '        ^---------------!';
      const viewerGets = '    -A-b-c-D-e-f-----';
      const encoderSubs = '   ^------------------!';
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets, m);
      expectSubscriptions(encoder.subscriptions).toBe(encoderSubs);
    });
  });

  it('stats.pictures counts the pictures that come out of any encoder, an injected one included', () => {
    const ts = testScheduler();
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const encoder = cold('  -A-b-c-D-', v);
      const viewer = '        ^-------!';
      const probes = '        x-x-x-x-x';
      const counted = '       0-1-2-3-4';
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.stream('test'), viewer).toBe('-A-b-c-D', m);
      expectObservable(probe(helpers, probes, () => hub.stats.pictures)).toBe(counted, { 0: 0, 1: 1, 2: 2, 3: 3, 4: 4 });
    });
  });

  it('early unsubscribe: a subscriber can leave at any time; the encoder stops graceMs later', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const encoder = cold('  -A-b-c-D-e-f-', v);
      const viewer = '        ^-----!';
      const viewerGets = '    -A-b-c';
      const encoderSubs = '   ^--------!';
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.stream('test'), viewer).toBe(viewerGets, m);
      expectSubscriptions(encoder.subscriptions).toBe(encoderSubs);
    });
  });
});

describe('createHub: codecs and wire formats as values', () => {
  /** A format like the test one whose mux counts the pictures it muxes. */
  function countingFormat(id: string): WireFormat & { muxed: number[] } {
    const muxed: number[] = [];
    return {
      id,
      label: id,
      path: `/${id}`,
      codecs: ['mpeg1'],
      muxed,
      mux: () => map((p: Picture) => (muxed.push(p.seq), withWire(p))),
    };
  }

  it('muxes each picture once per format for all its viewers, and nothing for a format nobody watches', () => {
    const ts = testScheduler();
    const a = countingFormat('a');
    const b = countingFormat('b');
    ts.run(({ cold, expectObservable }) => {
      const encoder = cold('  -A-b-c-------D-e-', v);
      const hub = hubOver(ts, [encoder], { formats: [a, b] });
      const viewer = '        ^---------------!';
      const late = '          ------^---------!';
      for (let i = 0; i < 3; i++) expectObservable(hub.stream(a), viewer).toBe('-A-b-c-------D-e', muxedValues(v));
      expectObservable(hub.stream('a'), late).toBe('------(Abc)--D-e', muxedValues(v));
    });
    // Four viewers of `a` (one joining late, the GOP replayed from the format's cache), each picture muxed once
    // (A b c D e are seq 0 to 4); `b` never.
    expect(a.muxed).toEqual([0, 1, 2, 3, 4]);
    expect(b.muxed).toEqual([]);
  });

  it("a format's first viewer gets the current GOP at once, muxed then (the codec's GOP cache feeds it)", () => {
    const ts = testScheduler();
    const a = countingFormat('a');
    ts.run(({ cold, expectObservable }) => {
      const encoder = cold('  -A-b-c-------D-e-', v);
      const hub = hubOver(ts, [encoder], { formats: [a] });
      const codecViewer = '   ^---------------!';
      const formatViewer = '  ------^---------!';
      expectObservable(hub.pictures$, codecViewer).toBe('-A-b-c-------D-e', v);
      expectObservable(hub.stream(a), formatViewer).toBe('------(Abc)--D-e', muxedValues(v));
    });
    // Nothing was muxed before the format's first viewer; then its GOP at once, then each new picture.
    expect(a.muxed).toEqual([0, 1, 2, 3, 4]);
  });

  it('pictures$ gives the pictures unmuxed, to any number of subscribers', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const encoder = cold('  -A-b-c-', v);
      const hub = hubOver(ts, [encoder]);
      expectObservable(hub.pictures$, '^-----!').toBe('-A-b-c', v);
      expectObservable(hub.pictures$, '--^---!').toBe('--Ab-c', v);
    });
  });

  it('names the formats it serves when asked for another, and refuses a format that cannot carry its codec', () => {
    const ts = testScheduler();
    const hub = hubOver(ts, [NEVER]);
    expect(hub.formats.map((f) => f.id)).toEqual(['test']);
    expect(hub.codec.id).toBe('mpeg1');
    expect(() => hub.stream('mpegts')).toThrow('this hub serves no wire format mpegts (it has test)');
    const h264Only: WireFormat = { ...testFormat, id: 'h264', codecs: ['h264'] };
    expect(() => hubOver(ts, [NEVER], { formats: [h264Only] })).toThrow('wire format h264 cannot carry MPEG-1 pictures');
  });

  it('by default serves every format that carries the codec: MPEG-TS and jsmp for MPEG-1', () => {
    const hub = createHub({ source: NEVER, encoder: { width: 640, height: 480, fps: 24 }, encode: () => NEVER });
    expect(hub.formats.map((f) => f.id)).toEqual(['mpegts', 'jsmp']);
    expect(hub.stats.wireBytes).toEqual({ mpegts: 0, jsmp: 0 });
  });

  it('restarts$ tells each failure with its attempt and delay, as the restart is scheduled', () => {
    const ts = testScheduler();
    const seen: string[] = [];
    ts.run(({ cold, expectObservable }) => {
      const failing = cold('  -A-#', v, new Error('ffmpeg exited with code 1'));
      const hub = hubOver(ts, [failing]);
      hub.restarts$.subscribe(({ error, attempt, delayMs }) => seen.push(`${ts.now()} ${(error as Error).message} #${attempt} ${delayMs}`));
      expectObservable(hub.stream('test'), '^---------!').toBe('-A----A---', m);
    });
    expect(seen).toEqual(['3 ffmpeg exited with code 1 #1 2', '8 ffmpeg exited with code 1 #2 4']);
  });
});
