import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Hapi from '@hapi/hapi';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { pistreamPlugin } from '../../src/server/plugin';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';
import { connect } from '../helpers/ws-client';

// A host app that registers the plugin on its own hapi server gets what the CLI gets: the plugin is the whole
// pistream server (restart logs, the legacy listener, waiting for its child processes on stop).
describe('pistreamPlugin in a host app', () => {
  const ENCODER = { width: 640, height: 480, fps: 24, gop: 24 };
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-host-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs each pipeline restart (as a hapi log event when there is no pino logger)', async () => {
    const script = join(dir, 'ffmpeg');
    // Answers the capability probe like an ffmpeg, then fails every real run at once.
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'case "$*" in',
        '  *-version*) echo "ffmpeg version stand-in"; exit 0 ;;',
        '  *"-h long"*) echo help; exit 0 ;;',
        'esac',
        'echo "stand-in: no camera" >&2',
        'exit 3',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    const lines: { tags: string[]; msg: string; exitCode?: number }[] = [];
    server.events.on('log', (event) => {
      const data = event.data as { msg?: string; exitCode?: number } | undefined;
      if (event.tags.includes('pistream') && data?.msg) lines.push({ tags: event.tags, msg: data.msg, exitCode: data.exitCode });
    });
    await server.register({
      plugin: pistreamPlugin,
      options: {
        source: { kind: 'test' },
        encoder: { ...ENCODER, ffmpeg: script },
        alwaysOn: true,
        restart: { initialDelayMs: 50, maxDelayMs: 50 },
      },
    });
    await server.start();
    try {
      await waitFor(() => lines.filter((l) => l.msg.startsWith('pipeline failed:')).length >= 2, 'two restart log lines');
      const restart = lines.find((l) => l.msg.startsWith('pipeline failed:'))!;
      expect(restart.tags).toEqual(['pistream', 'warn']);
      expect(restart.msg).toMatch(/exited with code 3.*stand-in: no camera.*restarting in 50 ms \(attempt 1\)/s);
      expect(restart.exitCode).toBe(3);
      expect(lines.some((l) => l.msg.startsWith('Source: test pattern'))).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('stop() returns only once its ffmpeg has exited, and serves and counts the legacy listener', async () => {
    // A real ffmpeg behind a wrapper that takes 400 ms to go after SIGTERM, as a busy encoder may: stop() must wait.
    // Its own path: ffmpeg probes are cached per path.
    const script = join(dir, 'slow-exit', 'ffmpeg');
    mkdirSync(join(dir, 'slow-exit'));
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `real='${resolveFfmpeg().path}'`,
        'case "$*" in *-version*|*"-h long"*) exec "$real" "$@" ;; esac',
        // dash gives a background job /dev/null for stdin unless it comes through another descriptor.
        'exec 3<&0',
        '"$real" "$@" <&3 3<&- &',
        'child=$!',
        "trap 'sleep 0.4; kill $child; wait $child; exit 0' TERM",
        'wait $child',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    const baseline = new Set(ffmpegChildren());
    const ours = (): number[] => ffmpegChildren().filter((pid) => !baseline.has(pid));
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({
      plugin: pistreamPlugin,
      options: { source: { kind: 'test' }, encoder: { ...ENCODER, ffmpeg: script }, legacyListener: { port: 0 } },
    });
    await server.start();
    const { legacyPort } = server.plugins.pistream;
    expect(legacyPort).toEqual(expect.any(Number));
    const viewer = await connect(`ws://127.0.0.1:${legacyPort}/`);
    await viewer.received(2); // the jsmp header, then the first picture: ffmpeg runs
    expect(ours()).toHaveLength(1);
    expect(server.plugins.pistream.viewers.viewerCount).toBe(1);
    await server.stop();
    // Not "soon after": at the moment stop() resolves (onPostStop waited for the child to exit).
    expect(ours()).toEqual([]);
    expect(server.plugins.pistream.legacyPort).toBeUndefined();
    await viewer.close();
  });
});
