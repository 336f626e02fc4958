import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import { NEVER } from 'rxjs';
import { parseRange, rangeForInert } from '../../src/server/byte-range';
import { PUBLIC_DIR } from '../../src/server/pages';
import { pistreamPlugin } from '../../src/server/plugin';

describe('parseRange (RFC 9110)', () => {
  it.each([
    ['bytes=-99999999', 1200, [{ first: 0, last: 1199 }]],
    ['bytes=-10', 1200, [{ first: 1190, last: 1199 }]],
    ['bytes=0-', 1200, [{ first: 0, last: 1199 }]],
    ['bytes=100-99999', 1200, [{ first: 100, last: 1199 }]],
    [
      'BYTES = 0-1 , 5-9',
      1200,
      [
        { first: 0, last: 1 },
        { first: 5, last: 9 },
      ],
    ],
    ['bytes=5000-, 0-0', 1200, [{ first: 0, last: 0 }]],
  ])('%s of %i bytes selects %j', (header, length, ranges) => {
    expect(parseRange(header, length)).toEqual({ kind: 'ranges', ranges });
  });

  it.each([['bytes=1200-'], ['bytes=-0'], ['bytes=5000-6000']])('%s of 1200 bytes is unsatisfiable (416)', (header) => {
    expect(parseRange(header, 1200)).toEqual({ kind: 'unsatisfiable' });
  });

  it.each([['items=0-1'], ['bytes='], ['bytes=5-3'], ['bytes=a-b'], ['bytes=--1'], ['bytes=1-2-3']])(
    '%s is ignored (the whole representation)',
    (header) => {
      expect(parseRange(header, 1200)).toEqual({ kind: 'ignore' });
    },
  );

  it('never throws and only selects bytes inside the representation (property)', () => {
    const header = fc.oneof(
      fc.string(),
      fc
        .array(fc.tuple(fc.option(fc.nat()), fc.option(fc.nat())), { minLength: 1, maxLength: 4 })
        .map((specs) => `bytes=${specs.map(([a, b]) => `${a ?? ''}-${b ?? ''}`).join(',')}`),
    );
    fc.assert(
      fc.property(header, fc.nat(1 << 30), (text, length) => {
        const request = parseRange(text, length);
        if (request.kind !== 'ranges') return;
        for (const { first, last } of request.ranges) {
          expect(first).toBeGreaterThanOrEqual(0);
          expect(last).toBeLessThan(length);
          expect(first).toBeLessThanOrEqual(last);
        }
        expect(rangeForInert(text, length)).toMatch(/^bytes=\d+-\d+(,\d+-\d+)*$/);
      }),
    );
  });
});

describe('Range on the static files (server.inject)', () => {
  let server: Hapi.Server;
  const viewerJs = readFileSync(join(PUBLIC_DIR, 'viewer.js'));
  beforeAll(async () => {
    server = Hapi.server();
    await server.register({ plugin: pistreamPlugin, options: { source: NEVER, encoder: { width: 640, height: 480, fps: 24 } } });
  });
  afterAll(() => server.stop());

  const get = (range: string) => server.inject({ url: '/viewer.js', headers: { range } });

  it('a suffix longer than the file gets the whole file as one range (206), not a 500', async () => {
    const res = await get('bytes=-99999999');
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 0-${viewerJs.length - 1}/${viewerJs.length}`);
    expect(res.rawPayload.equals(viewerJs)).toBe(true);
  });

  it('a short suffix gets the file’s last bytes', async () => {
    const res = await get('bytes=-10');
    expect(res.statusCode).toBe(206);
    expect(res.rawPayload.equals(viewerJs.subarray(-10))).toBe(true);
  });

  it('a range past the end is 416 with the length; an unreadable one is ignored (200)', async () => {
    const past = await get(`bytes=${viewerJs.length}-`);
    expect(past.statusCode).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${viewerJs.length}`);
    const unreadable = await get('bytes=9-3');
    expect(unreadable.statusCode).toBe(200);
    expect(unreadable.rawPayload.equals(viewerJs)).toBe(true);
  });
});
