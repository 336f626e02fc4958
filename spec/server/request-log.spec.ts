import { Writable } from 'node:stream';
import pino from 'pino';
import { parseConfig } from '../../src/config/command-line';
import { errorSerializer, redactQuery, redactTarget } from '../../src/server/request-log';
import { loggerOptions, startServer } from '../../src/server/start-server';

describe('redactTarget', () => {
  it.each([
    ['/stream?a=1&token=k3y', '/stream?a=1&token=[redacted]'],
    ['/stream?TOKEN=k3y&Passphrase=p', '/stream?TOKEN=[redacted]&Passphrase=[redacted]'],
    ['//x?token=k3y', '//x?token=[redacted]'],
    ['/stream', '/stream'],
    ['/a%20b?x=%41', '/a%20b?x=A'],
  ])('%s is logged as %s', (target, logged) => {
    expect(redactTarget(target)).toBe(logged);
  });

  it('a target it cannot parse loses its whole query', () => {
    expect(redactTarget('no-slash?token=k3y')).toBe('no-slash?[redacted]');
  });

  it('redactQuery hides credentials of a parsed query, in any case', () => {
    expect(redactQuery({ token: 'k3y', Access_Token: 'k3y', width: '320' })).toEqual({
      token: '[redacted]',
      Access_Token: '[redacted]',
      width: '320',
    });
  });

  it("errorSerializer drops a URL error's input (the URL as a client sent it)", () => {
    let error: Error;
    try {
      new URL('http://a b/?token=k3y');
    } catch (err) {
      error = err as Error;
    }
    expect(JSON.stringify(errorSerializer(error!))).not.toContain('k3y');
  });
});

describe("hapi-pino's request and error logs (startServer with the CLI's logger options)", () => {
  it('an internal error with a token, Basic credentials and a cookie logs none of them', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = parseConfig(['--source', 'test', '--port', '0', '--host', '127.0.0.1', '--token', 'tok-S3CRET-777'], {});
    const running = await startServer(config, { logger: pino(loggerOptions('debug', false), sink) });
    try {
      running.server.route({
        method: 'GET',
        path: '/fails',
        options: { auth: false },
        handler: () => {
          throw new Error('a bug');
        },
      });
      const res = await running.server.inject({
        url: '/fails?x=1&token=tok-S3CRET-777',
        headers: { authorization: 'Basic dXNlcjpwdy1TM0NSRVQtODg4', cookie: 'sid=ck-S3CRET-999', host: 'localhost' },
      });
      expect(res.statusCode).toBe(500);
    } finally {
      await running.stop();
    }
    const log = lines.join('');
    expect(log).toContain('a bug');
    expect(log).toContain('"token":"[redacted]"');
    for (const secret of ['tok-S3CRET-777', 'dXNlcjpwdy1TM0NSRVQtODg4', 'ck-S3CRET-999']) expect(log).not.toContain(secret);
  });
});
