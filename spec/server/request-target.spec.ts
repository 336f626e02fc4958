import fc from 'fast-check';
import { queryParam, requestPath } from '../../src/server/request-target';

describe('request targets are read without throwing', () => {
  it.each([
    ['//', '//'],
    ['/stream', '/stream'],
    ['/stream?token=k', '/stream'],
    ['/a/../stream', '/stream'],
    ['/%', '/%'],
    ['/%00', '/%00'],
    ['http://elsewhere.test/stream?x=1', '/stream'],
  ])('%s has the path %s', (target, path) => {
    expect(requestPath(target)).toBe(path);
  });

  it.each(['*', '', 'no-slash', 'http://[bad'])('%j is unreadable: undefined, not an exception', (target) => {
    expect(requestPath(target)).toBeUndefined();
  });

  it('reads a query parameter, also behind a // path, and gives null when it is absent', () => {
    expect(queryParam('/stream?token=k3y', 'token')).toBe('k3y');
    expect(queryParam('//stream?token=k3y', 'token')).toBe('k3y');
    expect(queryParam('/stream', 'token')).toBeNull();
    expect(queryParam('*', 'token')).toBeNull();
  });

  it('never throws for any string (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `/${s}`),
          fc.string().map((s) => `//${s}`),
        ),
        (target) => {
          const path = requestPath(target);
          expect(path === undefined || path.startsWith('/')).toBe(true);
          queryParam(target, 'token');
        },
      ),
    );
  });
});
