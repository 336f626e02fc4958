import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../src/config/command-line';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import type { Publisher } from '../../src/publish/publisher';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { probeAudio } from '../helpers/audio-probe';
import { waitFor } from '../helpers/child-processes';
import { describeNginx, nginxRtmp, type Nginx } from '../helpers/nginx';

/** Copies `seconds` of an RTMP stream into a file as it is (no decode): what an engine's viewer would get. */
function readBack(url: string, file: string, seconds: number): Promise<string> {
  const args = ['-hide_banner', '-nostats', '-rw_timeout', '8000000', '-i', url, '-t', String(seconds), '-c', 'copy', '-y', file];
  return new Promise((resolve, reject) => {
    execFile(resolveFfmpeg().path, args, { timeout: 80_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`reading ${url} back failed: ${err.message}\n${stderr}`)) : resolve(stderr),
    );
  });
}

describeNginx('publishing with sound to a real nginx-rtmp (real ffmpeg, --audio test)', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let nginx: Nginx;
  let running: RunningServer;
  let publisher: Publisher;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-sound-rtmp-'));
    nginx = await nginxRtmp(dir);
    await nginx.start();
    const config = parseConfig(
      [
        ...['--codec', 'h264', '--source', 'test', '--audio', 'test', '--host', '127.0.0.1', '--port', '0'],
        ...['--publish', `rtmp://127.0.0.1:${nginx.port}/live/cam`],
      ],
      {},
    );
    running = await startServer(config, { logger: pino({ level: 'silent' }) });
    publisher = running.server.plugins.pistream.publishers[0]!;
    await waitFor(() => publisher.stats.state === 'publishing', 'the publisher to send', 30_000);
  });
  afterAll(async () => {
    await running?.stop();
    await nginx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the engine's read-back carries the server's sound as AAC, not silence", async () => {
    const file = join(dir, 'read-back.flv');
    await readBack(`rtmp://127.0.0.1:${nginx.port}/live/cam`, file, 4);
    const probe = await probeAudio(file);
    expect(probe.codec).toBe('aac');
    // The beep is at half scale (about -6 dBFS); the silent track it replaces reads -91 dB.
    expect(probe.maxVolumeDb).toBeGreaterThan(-20);
  });
});
