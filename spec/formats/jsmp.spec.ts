/** @test {toJsmp} @test {jsmpHeader} */
import { Subject } from 'rxjs';
import type { Mpeg1Picture as Picture } from '../../src/codecs/mpeg1/mpeg1-picture';
import { jsmpHeader, toJsmp } from '../../src/formats/jsmp';
import { testScheduler } from '../helpers/test-scheduler';

function picture(hex: string, overrides: Partial<Picture> = {}): Picture {
  return {
    data: Buffer.from(hex, 'hex'),
    codec: 'mpeg1',
    type: 'P',
    keyframe: false,
    seq: 0,
    capturedAt: 0,
    width: 640,
    height: 480,
    ...overrides,
  };
}

describe('jsmpHeader', () => {
  it('is "jsmp", width and height as u16 big-endian', () => {
    expect(jsmpHeader(640, 480).toString('hex')).toBe('6a736d70028001e0');
    expect(jsmpHeader(1, 65535).toString('hex')).toBe('6a736d700001ffff');
  });

  it.each([
    [0, 480, 'jsmp width must be a whole number from 1 to 65535, got 0'],
    [65536, 480, 'jsmp width must be a whole number from 1 to 65535, got 65536'],
    [640.5, 480, 'jsmp width must be a whole number from 1 to 65535, got 640.5'],
    [640, -1, 'jsmp height must be a whole number from 1 to 65535, got -1'],
    [640, NaN, 'jsmp height must be a whole number from 1 to 65535, got NaN'],
  ])('rejects %p × %p', (width, height, message) => {
    expect(() => jsmpHeader(width, height)).toThrow(new RangeError(message));
    expect(() => toJsmp(width, height)).toThrow(message);
  });
});

describe('toJsmp', () => {
  const a = picture('000001b3aa', { type: 'I', keyframe: true });
  const b = picture('00000100bb');
  const c = picture('00000100cc');
  const h = jsmpHeader(640, 480);
  const values = { h, a: a.data, b: b.data, c: c.data };

  it('sends the header on subscribe, then each picture’s bytes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b--c-|', { a, b, c });
      const subs = '        ^-------!';
      const expected = '    ha-b--c-|';
      expectObservable(source.pipe(toJsmp(640, 480))).toBe(expected, values);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('sends the header to every subscriber', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -a-b--c-|', { a, b, c });
      const result = source.pipe(toJsmp(640, 480));
      expectObservable(result).toBe('ha-b--c-|', values);
      expectObservable(result, '   --^-----').toBe('--hb--c-|', values);
      expectSubscriptions(source.subscriptions).toBe(['^-------!', '--^-----!']);
    });
  });

  it('sends only the header while the source never emits', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Picture>('-');
      expectObservable(source.pipe(toJsmp(640, 480))).toBe('h', values);
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('sends the header and completes when the source is empty', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Picture>('|');
      expectObservable(source.pipe(toJsmp(640, 480))).toBe('(h|)', values);
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('passes on an error', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-#', { a }, new Error('encoder died'));
      const subs = '        ^--!';
      expectObservable(source.pipe(toJsmp(640, 480))).toBe('ha-#', values, new Error('encoder died'));
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('keeps going on a never-ending source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b--c--', { a, b, c });
      const subs = '        ^---------';
      expectObservable(source.pipe(toJsmp(640, 480))).toBe('ha-b--c--', values);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('unsubscribes from the source when unsubscribed early', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -a-b--c--|', { a, b, c });
      const unsub = '      ----!';
      const subs = '       ^---!';
      expectObservable(source.pipe(toJsmp(640, 480)), unsub).toBe('ha-b', values);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('passes each picture’s own Buffer on, not a copy', () => {
    const pictures = new Subject<Picture>();
    const sent: Buffer[] = [];
    const subscription = pictures.pipe(toJsmp(640, 480)).subscribe((bytes) => sent.push(bytes));
    pictures.next(a);
    pictures.next(b);
    subscription.unsubscribe();
    expect(sent).toHaveLength(3);
    expect(sent[0]!.toString('hex')).toBe('6a736d70028001e0');
    expect(sent[1]).toBe(a.data);
    expect(sent[2]).toBe(b.data);
  });
});
