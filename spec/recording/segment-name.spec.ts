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

  it('refuses any string that is not exactly a name it makes (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseSegmentName(text);
        if (parsed) expect(segmentName(parsed.startMs, parsed.ext)).toBe(text);
      }),
    );
  });
});
