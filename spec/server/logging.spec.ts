import Hapi from '@hapi/hapi';
import HapiPino from 'hapi-pino';
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import { throwError } from 'rxjs';
import { createHub } from '../../src/hub';
import { pistreamPlugin, type PistreamPluginOptions } from '../../src/server/plugin';
import { loggerOptions, prettyOptions } from '../../src/server/start-server';
import { testPattern } from '../../src/sources/test-pattern';
import { waitFor } from '../helpers/child-processes';
import { connect } from '../helpers/ws-client';
import { standInHub } from '../helpers/stand-in-hub';

// What the operator reads: each event is one line whose message says it all (a terminal shows only the message);
// JSON lines, off a terminal, keep the same facts as fields.

const ENCODER = { width: 640, height: 480, fps: 24 } as const;

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A hapi server on port 0 with hapi-pino (as startServer sets it up) logging JSON lines into `lines`. */
async function loggingServer(options: PistreamPluginOptions) {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const server = Hapi.server({ port: 0, host: '127.0.0.1' });
  await server.register({ plugin: HapiPino, options: { instance: logger, logEvents: false } });
  await server.register({ plugin: pistreamPlugin, options: { heartbeatMs: 0, ...options } });
  await server.start();
  const find = (pattern: RegExp): LogLine[] => lines.filter((l) => pattern.test(l.msg));
  return { server, lines, find, url: `ws://127.0.0.1:${server.info.port}` };
}

describe('log lines through hapi-pino (JSON)', () => {
  it('a viewer joining and leaving: one line each naming path, address, duration, why and how many watch', async () => {
    const { server, find, url } = await loggingServer({ hub: standInHub() });
    try {
      const first = await connect(`${url}/stream`);
      await first.received(1);
      await waitFor(() => find(/^viewer joined/).length === 1, 'the join line');
      expect(find(/^viewer joined/)[0]).toMatchObject({
        level: 30,
        msg: 'viewer joined /stream 127.0.0.1 (1 watching)',
        format: 'mpegts',
        path: '/stream',
        address: '127.0.0.1',
        viewers: 1,
      });

      const second = await connect(`${url}/legacy`);
      await second.received(1);
      await waitFor(() => find(/^viewer joined/).length === 2, 'the second join line');
      expect(find(/^viewer joined/)[1]!.msg).toBe('viewer joined /legacy 127.0.0.1 (2 watching)');

      // A binary message is not a control message: the server closes that viewer with 1008 and says why.
      first.ws.send(Buffer.from([1, 2, 3]));
      expect((await first.closed).code).toBe(1008);
      await waitFor(() => find(/^viewer left/).length === 1, 'the leave line');
      const left = find(/^viewer left/)[0]!;
      expect(left.msg).toMatch(
        /^viewer left \/stream 127\.0\.0\.1 after \d+(\.\d)? s, 1008 viewers send only small JSON control messages \(1 watching\)$/,
      );
      expect(left).toMatchObject({
        format: 'mpegts',
        address: '127.0.0.1',
        closeCode: 1008,
        viewers: 1,
        durationMs: expect.any(Number),
        sent: expect.any(Number),
      });

      await second.close();
      await waitFor(() => find(/^viewer left/).length === 2, 'the second leave line');
      expect(find(/^viewer left/)[1]!.msg).toMatch(
        /^viewer left \/legacy 127\.0\.0\.1 after \d+(\.\d)? s, closed by the viewer \(1000\) \(0 watching\)$/,
      );
    } finally {
      await server.stop();
    }
  });

  it('the source line says what runs, the reasons in the message itself', async () => {
    const { server, find } = await loggingServer({ source: { kind: 'test' }, encoder: ENCODER });
    try {
      expect(find(/^Source:/)).toEqual([
        expect.objectContaining({
          level: 30,
          msg: expect.stringMatching(/^Source: test pattern; ffmpeg \S+ at \S+ \(.+\)$/),
          source: 'test',
          reasons: [],
        }),
      ]);
      // The test pattern is no camera: the encoding line says "source on demand".
      expect(find(/^Encoding/).map((l) => l.msg)).toEqual([
        'Encoding MPEG-1 640x480 at 24 fps, 800 kbit/s, GOP 24; source on demand (stops 5 s after the last viewer)',
      ]);
    } finally {
      await server.stop();
    }
  });

  it('a restart line is one line: what failed (a multi-line message joined), the wait and the attempt', async () => {
    const hub = createHub({
      source: testPattern(ENCODER),
      encoder: ENCODER,
      encode: () => throwError(() => new Error('encoder gave up\n  at frame 1')),
      restart: { initialDelayMs: 20, maxDelayMs: 20 },
    });
    const { server, find } = await loggingServer({ hub, alwaysOn: true });
    try {
      await waitFor(() => find(/^pipeline failed/).length >= 1, 'a restart line');
      expect(find(/^pipeline failed/)[0]).toMatchObject({
        level: 40,
        msg: 'pipeline failed: encoder gave up | at frame 1; restarting in 20 ms (attempt 1)',
        attempt: 1,
        delayMs: 20,
      });
    } finally {
      await server.stop();
    }
  });
});

describe('on a terminal (pino-pretty)', () => {
  it('startServer pretty-prints on a TTY with prettyOptions(), and writes JSON lines otherwise', () => {
    expect(loggerOptions('info', true)).toMatchObject({ level: 'info', transport: { target: 'pino-pretty', options: prettyOptions() } });
    expect(loggerOptions('debug', false)).not.toHaveProperty('transport');
    expect(loggerOptions('debug', false).redact).toMatchObject({ censor: '[redacted]' });
  });

  it('shows one line per event: time, level and the message, no dump of the fields under it', () => {
    const pretty = prettyFactory({ ...prettyOptions(), colorize: false });
    const time = new Date(2024, 0, 1, 12, 1, 2).getTime();
    const line = pretty({
      level: 30,
      time,
      pid: 1,
      hostname: 'pi',
      msg: 'viewer left /stream 127.0.0.1 after 42 s, 1008 too slow (2 watching)',
      format: 'mpegts',
      address: '127.0.0.1',
      dropped: { lag: 3, backlog: 0, resync: 1 },
    });
    expect(line).toBe('[12:01:02] INFO: viewer left /stream 127.0.0.1 after 42 s, 1008 too slow (2 watching)\n');
  });

  it('still shows an error’s stack', () => {
    const pretty = prettyFactory({ ...prettyOptions(), colorize: false });
    const line = pretty({
      level: 50,
      time: Date.now(),
      msg: 'request failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at here' },
    });
    expect(line).toContain('Error: boom');
  });
});
