import { map, Observable } from 'rxjs';
import { h264 } from '../src/codecs/h264/h264-codec';
import type { H264Picture } from '../src/codecs/h264/h264-picture';
import { jsmp } from '../src/formats/jsmp';
import { mpegts } from '../src/formats/mpegts';
import { createHub } from '../src/hub';
import type { Picture } from '../src/picture';
import { withMpeg1Transcode } from '../src/transcoded-hub';
import { testScheduler } from './helpers/test-scheduler';

// The camera's H.264 hub and the MPEG-1 hub derived from it. Letters are units (upper case: key units); the stand-in
// transcoder turns each unit into an "MPEG-1 picture" of the same seq at once. Grace 3 for both hubs.
const START = [0, 0, 0, 1];
function units(letters: string): Record<string, H264Picture> {
  return Object.fromEntries(
    [...letters].map((letter, seq) => {
      const keyframe = letter === letter.toUpperCase();
      const data = Buffer.from([...START, keyframe ? 0x65 : 0x41, seq]);
      return [
        letter,
        {
          data,
          codec: 'h264',
          codecString: 'avc1.42C01E',
          keyframe,
          seq,
          capturedAt: 1_700_000_000_000 + 40 * seq,
          width: 640,
          height: 480,
        } as H264Picture,
      ];
    }),
  );
}
const v = units('AbcDef');
const asMpeg1 = map((unit: Picture): Picture => ({ ...unit, codec: 'mpeg1' }));

describe('withMpeg1Transcode', () => {
  it('runs the transcoder only while an MPEG-1 viewer watches (plus the grace), fed by the hub, not a second camera', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const camera = cold('-A---b---c---D---e---', v);
      const transcoder = (units$: Observable<Picture>) => units$.pipe(asMpeg1);
      const hub = withMpeg1Transcode(
        createHub({ encodedSource: camera, codec: h264, encoder: { width: 640, height: 480, fps: 25 }, graceMs: 3, scheduler: ts }),
        { formats: [mpegts, jsmp], graceMs: 3, scheduler: ts, transcoder },
      );
      expect(hub.formats.map((f) => f.id)).toEqual(['h264', 'fmp4', 'fmp4-sound', 'sound', 'mpegts', 'jsmp']);
      const seq = map((p: Picture) => `${p.codec}${p.seq}`);
      // An H.264 viewer all along; an MPEG-1 viewer from 5 to 14: it starts at the current GOP's key unit, at once.
      expectObservable(hub.stream('h264').pipe(seq), '^-------------------!').toBe('-a---b---c---d---e--', {
        a: 'h2640',
        b: 'h2641',
        c: 'h2642',
        d: 'h2643',
        e: 'h2644',
      });
      expectObservable(hub.stream('mpegts').pipe(seq), '-----^--------!').toBe('-----(ab)c---d', {
        a: 'mpeg10',
        b: 'mpeg11',
        c: 'mpeg12',
        d: 'mpeg13',
      });
      // One camera run for both: from the first viewer to the grace after the last (20 + 3).
      expectSubscriptions(camera.subscriptions).toBe('^----------------------!');
    });
  });

  it('stops the transcoder a grace period after its last viewer, while H.264 viewers go on', () => {
    const ts = testScheduler();
    const subscribed: number[] = [];
    const unsubscribed: number[] = [];
    ts.run(({ cold, expectObservable }) => {
      const camera = cold('-A-b-c-D-e-f-', v);
      const transcoder = (units$: Observable<Picture>) =>
        new Observable<Picture>((s) => {
          subscribed.push(ts.now());
          const sub = units$.pipe(asMpeg1).subscribe(s);
          return () => (unsubscribed.push(ts.now()), sub.unsubscribe());
        });
      const hub = withMpeg1Transcode(
        createHub({ encodedSource: camera, codec: h264, encoder: { width: 640, height: 480, fps: 25 }, graceMs: 3, scheduler: ts }),
        { formats: [mpegts], graceMs: 3, scheduler: ts, transcoder },
      );
      expectObservable(hub.stream('h264').pipe(map((p) => p.seq)), '^------------!').toBe('-0-1-2-3-4-5-', {
        0: 0,
        1: 1,
        2: 2,
        3: 3,
        4: 4,
        5: 5,
      });
      expectObservable(hub.stream(mpegts).pipe(map((p) => p.seq)), '--^--!').toBe('--01--', { 0: 0, 1: 1 });
    });
    // The MPEG-1 viewer came at 2 and left at 5: the transcoder ran from 2 until 5 + grace 3.
    expect(subscribed).toEqual([2]);
    expect(unsubscribed).toEqual([8]);
  });

  it('refuses a format that does not carry MPEG-1', () => {
    const hub = createHub({ encodedSource: new Observable<Picture>(), codec: h264, encoder: { width: 640, height: 480, fps: 25 } });
    expect(() => withMpeg1Transcode(hub, { formats: [hub.formats[0]!] })).toThrow(
      'wire format h264 does not carry MPEG-1: nothing to transcode for it',
    );
  });
});
