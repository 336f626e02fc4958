import { map, NEVER, Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { h264 } from '../src/codecs/h264/h264-codec';
import type { H264Picture } from '../src/codecs/h264/h264-picture';
import { h264Units, unitMessage } from '../src/formats/h264-units';
import { createHub, type Hub } from '../src/hub';
import { deliver } from '../src/operators/deliver';
import type { MuxedPicture } from '../src/picture';
import { testScheduler } from './helpers/test-scheduler';

// The hub and its operators know nothing of codecs: H.264 access units from a camera that encodes by itself go
// through the same GOP cache, restarts and slow-viewer drops as MPEG-1 pictures. Marble letters: upper case is a
// key unit (SPS + PPS + IDR), lower case a P unit; seq is the letter's place. Grace 3, restarts after 2 doubling
// to 8, healthy after 6, watchdog 10.
const START = [0, 0, 0, 1];
const keyUnit = (seq: number) => Buffer.from([...START, 0x67, 0x42, 0xc0, 0x1e, ...START, 0x68, 0xce, ...START, 0x65, 0x88, seq]);
const deltaUnit = (seq: number) => Buffer.from([...START, 0x41, 0x9a, seq]);
function units(letters: string): Record<string, H264Picture> {
  return Object.fromEntries(
    [...letters].map((letter, seq) => {
      const keyframe = letter === letter.toUpperCase();
      const unit: H264Picture = {
        data: keyframe ? keyUnit(seq) : deltaUnit(seq),
        codec: 'h264',
        codecString: 'avc1.42C01E',
        keyframe,
        seq,
        capturedAt: 1_700_000_000_000 + seq * 40,
        width: 640,
        height: 480,
      };
      return [letter, unit];
    }),
  );
}
const v = units('AbcDefGh');
const wire = Object.fromEntries(Object.entries(v).map(([k, p]) => [k, { ...p, wire: unitMessage(p), format: 'h264' }]));

/** A hub over a camera that encodes by itself: `runs` are the camera's runs, one per (re)start. */
function cameraHub(ts: TestScheduler, runs: Observable<H264Picture>[]): Hub {
  let starts = 0;
  return createHub({
    encodedSource: new Observable<H264Picture>((subscriber) => runs[Math.min(starts++, runs.length - 1)]!.subscribe(subscriber)),
    codec: h264,
    encoder: { width: 640, height: 480, fps: 25 },
    graceMs: 3,
    watchdogMs: 10,
    restart: { initialDelayMs: 2, maxDelayMs: 8, healthyMs: 6 },
    scheduler: ts,
  });
}

describe('createHub with H.264 from a camera that encodes by itself', () => {
  it('serves /h264 by default, muxed once per unit, and starts a viewer joining mid-GOP at the key unit, at once', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const camera = cold('-A---b---c---D---e---', v);
      const hub = cameraHub(ts, [camera]);
      expect(hub.formats.map((f) => f.id)).toEqual(['h264', 'fmp4', 'fmp4-sound', 'sound']);
      expect(hub.formats[0]).toBe(h264Units);
      expectObservable(hub.stream('h264'), '^-------------------!').toBe('-A---b---c---D---e--', wire);
      expectObservable(hub.stream('h264'), '-----^--------------!').toBe('-----(Ab)c---D---e--', wire);
      // The camera runs from the first viewer until graceMs after the last.
      expectSubscriptions(camera.subscriptions).toBe('^----------------------!');
    });
  });

  it('restarts the camera when it exits (or stalls) with backoff; viewers stay and resume at its first key unit', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const exits = cold(' -A-b|', v);
      const stalls = cold('      -D-e---------', v);
      const again = cold('                          -G-h', v);
      const hub = cameraHub(ts, [exits, stalls, again]);
      // Exit at 4, restart after 2 (6); that run stalls after e (9): the watchdog fires at 19. The run was healthy
      // for 6 before it stalled, so this failure is the first again: restart after 2 (21).
      expectObservable(hub.stream(h264Units).pipe(map((p: MuxedPicture) => p.seq)), '^------------------------!').toBe(
        '-0-1---3-4------------6-7',
        { 0: 0, 1: 1, 3: 3, 4: 4, 6: 6, 7: 7 },
      );
      expectSubscriptions(exits.subscriptions).toBe('^---!');
      expectSubscriptions(stalls.subscriptions).toBe('------^------------!');
    });
  });

  it('a slow viewer drops whole units and resumes at the next key unit (deliver over the GOP updates)', () => {
    const ts = testScheduler();
    const state = { slow: false };
    const dropped: number[] = [];
    ts.run(({ cold, hot, expectObservable }) => {
      hot('--s-----0').subscribe((s) => (state.slow = s === 's'));
      const hub = cameraHub(ts, [cold('-A-b-c-D-e-f-G-h', v)]);
      const viewer = hub.gops(h264Units).pipe(
        deliver<MuxedPicture, 'slow'>({ slowReason: () => (state.slow ? 'slow' : undefined), onDrop: (p) => dropped.push(p.seq) }),
        map((p) => p.seq),
      );
      expectObservable(viewer, '^----------------!').toBe('-0-----------6-7', { 0: 0, 6: 6, 7: 7 });
    });
    // b, c and D while slow; e and f after, until the key unit G.
    expect(dropped).toEqual([1, 2, 3, 4, 5]);
  });

  it('needs exactly one of a source of frames and an encoded source', () => {
    const encoder = { width: 640, height: 480, fps: 25 };
    expect(() => createHub({ encoder, codec: h264 })).toThrow('a hub needs either a source of frames or an encoded source');
    expect(() => createHub({ encoder, codec: h264, source: NEVER, encodedSource: NEVER })).toThrow('a hub needs either');
  });
});
