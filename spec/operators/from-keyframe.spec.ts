import { fromKeyframe } from '../../src/operators/from-keyframe';
import { pictures } from '../helpers/pictures';
import { testScheduler } from '../helpers/test-scheduler';

// Marble letters are pictures: upper case = keyframe (sequence header + I), lower case = P picture.
const v = pictures('aBcDeFg');

describe('fromKeyframe', () => {
  it('never: waits forever, still subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-', v);
      const subs = '       ^';
      const expected = '   -';
      expectObservable(source.pipe(fromKeyframe())).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('empty: completes at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('|', v);
      const subs = '       (^!)';
      const expected = '   |';
      expectObservable(source.pipe(fromKeyframe())).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('values: skips the P pictures before the first keyframe, then passes everything', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-c-B-c-e-D-|', v);
      const subs = '       ^------------!';
      const expected = '   -----B-c-e-D-|';
      expectObservable(source.pipe(fromKeyframe())).toBe(expected, v);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('values: a stream that starts at a keyframe passes unchanged', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-B-c-e-|', v);
      const subs = '       ^------!';
      const expected = '   -B-c-e-|';
      expectObservable(source.pipe(fromKeyframe())).toBe(expected, v);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('values: no keyframe at all means nothing, then the completion', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-c-e-|', v);
      const subs = '       ^------!';
      const expected = '   -------|';
      expectObservable(source.pipe(fromKeyframe())).toBe(expected, v);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('error before the first keyframe: passed on', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-c-#', v, new Error('encoder died'));
      const subs = '       ^----!';
      const expected = '   -----#';
      expectObservable(source.pipe(fromKeyframe())).toBe(expected, v, new Error('encoder died'));
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('error after the first keyframe: passed on after the pictures', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-B-c-#', v, new Error('encoder died'));
      const subs = '       ^------!';
      const expected = '   ---B-c-#';
      expectObservable(source.pipe(fromKeyframe())).toBe(expected, v, new Error('encoder died'));
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('never-ending: keeps passing pictures, never completes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-B-c-D-e-', v);
      const subs = '       ^';
      const expected = '   ---B-c-D-e-';
      expectObservable(source.pipe(fromKeyframe())).toBe(expected, v);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('early unsubscribe: releases the source at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-B-c-D-e-|', v);
      const unsub = '      ------!';
      const subs = '       ^-----!';
      const expected = '   ---B-c-';
      expectObservable(source.pipe(fromKeyframe()), unsub).toBe(expected, v);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('per subscriber: a viewer joining a live stream waits for its own next keyframe', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-B-c-D-e-F-|', v);
      const early = '     ^';
      const earlyGets = ' ---B-c-D-e-F-|';
      const late = '      ----^';
      const lateGets = '  -------D-e-F-|';
      const piped = source.pipe(fromKeyframe());
      expectObservable(piped, early).toBe(earlyGets, v);
      expectObservable(piped, late).toBe(lateGets, v);
      expectSubscriptions(source.subscriptions).toBe(['^------------!', '----^--------!']);
    });
  });
});
