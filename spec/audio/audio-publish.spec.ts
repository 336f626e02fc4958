import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
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
import { describeNginx, freePort, nginxRtmp, type Nginx } from '../helpers/nginx';

/** Stream time each reader keeps: four beeps. */
const READ_SECONDS = 4;
/** Whether the ffmpeg in use sends SRT (Debian's does; the bundled static 4.1 has no libsrt, and pistream refuses srt:// with it). */
const hasSrt = /^Output:[\s\S]*^\s*srt\s*$/m.test(execFileSync(resolveFfmpeg().path, ['-hide_banner', '-protocols'], { encoding: 'utf8' }));

/** Copies `seconds` of an RTMP stream into a file as it is (no decode): what an engine's viewer would get. */
function readBack(url: string, file: string, seconds: number): Promise<string> {
  const args = ['-hide_banner', '-nostats', '-rw_timeout', '8000000', '-i', url, '-t', String(seconds), '-c', 'copy', '-y', file];
  return new Promise((resolve, reject) => {
    execFile(resolveFfmpeg().path, args, { timeout: 80_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`reading ${url} back failed: ${err.message}\n${stderr}`)) : resolve(stderr),
    );
  });
}

/** An ffmpeg listening for a push, and its end. */
interface Listener {
  readonly child: ChildProcess;
  readonly done: Promise<void>;
}

/**
 * An ffmpeg that waits for a push with `input` (`-rtsp_flags listen … -i rtsp://…`, `-i srt://…?mode=listener`),
 * copying the first `seconds` of it into `file`; `done` resolves when it has, and rejects with its stderr if it fails.
 */
function listener(input: readonly string[], file: string, seconds: number): Listener {
  const args = ['-hide_banner', '-nostats', ...input, '-t', String(seconds), '-c', 'copy', '-y', file];
  const child = spawn(resolveFfmpeg().path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`the listener (${input.at(-1)}) exited ${code}: ${stderr.slice(-800)}`)),
    );
  });
  return { child, done };
}

describeNginx('publishing with sound to a real nginx-rtmp, an RTSP listener and an SRT one (real ffmpeg, --audio test)', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let nginx: Nginx;
  let running: RunningServer;
  let rtmp: Publisher;
  let rtsp: Listener;
  let rtspPort: number;
  let srt: Listener | undefined;
  let srtUrl: string;
  const logs: { msg: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-sound-rtmp-'));
    nginx = await nginxRtmp(dir);
    await nginx.start();
    rtspPort = await freePort();
    rtsp = listener(
      ['-rtsp_flags', 'listen', '-timeout', '60', '-i', `rtsp://127.0.0.1:${rtspPort}/cam`],
      join(dir, 'rtsp.mkv'),
      READ_SECONDS,
    );
    rtsp.done.catch(() => undefined); // awaited by its test
    srtUrl = `srt://127.0.0.1:${await freePort()}`;
    if (hasSrt) {
      srt = listener(['-i', `${srtUrl}?mode=listener`], join(dir, 'srt.ts'), READ_SECONDS);
      srt.done.catch(() => undefined);
    }
    const config = parseConfig(
      [
        ...['--codec', 'h264', '--source', 'test', '--audio', 'test', '--host', '127.0.0.1', '--port', '0'],
        ...['--publish', `rtmp://127.0.0.1:${nginx.port}/live/cam`, '--publish', `rtsp://127.0.0.1:${rtspPort}/cam`],
        ...(srt ? ['--publish', srtUrl] : []),
      ],
      {},
    );
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) });
    running = await startServer(config, { logger });
    rtmp = running.server.plugins.pistream.publishers[0]!;
    await waitFor(() => rtmp.stats.state === 'publishing', 'the RTMP publisher to send', 30_000);
  });
  afterAll(async () => {
    await running?.stop();
    for (const child of [rtsp?.child, srt?.child]) if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await nginx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the engine's read-back carries the server's sound as AAC, not silence", async () => {
    const file = join(dir, 'read-back.flv');
    await readBack(`rtmp://127.0.0.1:${nginx.port}/live/cam`, file, READ_SECONDS);
    const probe = await probeAudio(file);
    expect(probe.codec).toBe('aac');
    // The beep is at half scale (about -6 dBFS); the silent track it replaces reads -91 dB.
    expect(probe.maxVolumeDb).toBeGreaterThan(-20);
  });

  it("an RTSP target gets the server's sound too (encoded again: RTSP announces AAC's config before the first frame)", async () => {
    await rtsp.done;
    const probe = await probeAudio(join(dir, 'rtsp.mkv'));
    expect(probe.codec).toBe('aac');
    expect(probe.maxVolumeDb).toBeGreaterThan(-20);
  });

  (hasSrt ? it : it.skip)("an SRT target gets the server's sound as it is (ADTS is MPEG-TS's own AAC; this ffmpeg has SRT)", async () => {
    await srt!.done;
    const probe = await probeAudio(join(dir, 'srt.ts'));
    expect(probe.codec).toBe('aac');
    expect(probe.maxVolumeDb).toBeGreaterThan(-20);
  });

  it('the startup line says what each target gets: the sound, copied (FLV, MPEG-TS) or encoded again (RTSP)', () => {
    const line = logs.find((entry) => entry.msg.startsWith('Publishing to ') && entry.msg.includes('copied,'))?.msg;
    expect(line).toBe(
      `Publishing to rtmp://127.0.0.1:${nginx.port}/live/*** (H.264 copied, sound as AAC, copied), ` +
        `rtsp://127.0.0.1:${rtspPort}/*** (H.264 copied, sound as AAC, re-encoded)` +
        (srt ? `, ${srtUrl} (H.264 copied, sound as AAC, copied)` : ''),
    );
  });
});
