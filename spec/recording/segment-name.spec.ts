import fc from 'fast-check';
import { parseSegmentName, segmentName } from '../../src/recording/segment-name';

describe('segmentName / parseSegmentName', () => {
  it('names a segment after its UTC start, without colons, sortable', () => {
    expect(segmentName(Date.UTC(2025, 0, 14, 9, 30, 12, 345), 'ts')).toBe('pistream-20250114T093012.345Z.ts');
    expect(segmentName(0, 'mp4')).toBe('pistream-19700101T000000.000Z.mp4');
  });

  it('reads back every name it makes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), fc.constantFrom('ts' as const, 'mp4' as const), (ms, ext) => {
        expect(parseSegmentName(segmentName(ms, ext))).toEqual({ startMs: ms, ext });
      }),
    );
  });

  it('keeps names sorted as their starts are (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 0, 1) }), fc.integer({ min: 0, max: Date.UTC(9999, 0, 1) }), (a, b) => {
        expect(Math.sign(segmentName(a, 'ts').localeCompare(segmentName(b, 'ts')))).toBe(Math.sign(a - b));
      }),
    );
  });

  it.each([
    '../etc/passwd',
    'pistream-20250114T093012.345Z.ts/..',
    'pistream-20250114T093012.345Z.ts\0',
    '/pistream-20250114T093012.345Z.ts',
    'pistream-20250114T093012.345Z.TS',
    'pistream-20250114T093012.345Z.mkv',
    'pistream-20251314T093012.345Z.ts', // month 13
    'pistream-20250230T093012.345Z.ts', // 30 February
    'pistream-20250114T246012.345Z.ts',
    'pistream-20250114T093012.34Z.ts',
    'pistream-2025-01-14T09:30:12.345Z.ts',
    ' pistream-20250114T093012.345Z.ts',
    '',
  ])('refuses %j', (name) => expect(parseSegmentName(name)).toBeUndefined());

  const names = fc
    .tuple(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), fc.constantFrom('ts' as const, 'mp4' as const))
    .map(([ms, ext]) => segmentName(ms, ext));

  it('refuses a name it makes with anything before or after it (property)', () => {
    fc.assert(
      fc.property(names, fc.string({ minLength: 1 }), fc.boolean(), (name, extra, before) => {
        expect(parseSegmentName(before ? extra + name : name + extra)).toBeUndefined();
      }),
    );
  });

  it('refuses a name it makes with one character changed where only a digit, or only that character, may stand (property)', () => {
    fc.assert(
      fc.property(names, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (name, at, char) => {
        const i = at % name.length;
        const digit = /\d/.test(name[i]!);
        // A digit for a digit may make another valid name; anything else in a digit's place, or any change of
        // the fixed characters ("pistream-", "T", ".", "Z", the extension), may not.
        fc.pre(digit ? !/\d/.test(char) : char !== name[i]);
        expect(parseSegmentName(name.slice(0, i) + char + name.slice(i + 1))).toBeUndefined();
      }),
    );
  });

  it('refuses random text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        fc.pre(!text.startsWith('pistream-'));
        expect(parseSegmentName(text)).toBeUndefined();
      }),
    );
  });
});
