import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import pino from 'pino';
import { ffmpegPcm } from '../../src/audio/capture';
import { parseConfig } from '../../src/config/command-line';
import type { SpawnFn } from '../../src/process/child-process';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { connect, type WsClient } from '../helpers/ws-client';

jest.setTimeout(180_000);

interface Health {
  status: string;
  reason?: string;
  pictures: number;
  audio: { source: string; state: string; restarts: number; lastError?: string };
}

/**
 * A microphone that can be unplugged: the real capture edge (one ffmpeg child, stamped PCM on its stdout) with
 * ffmpeg's lavfi sine source standing in for ALSA. While `unplugged`, opening it fails as ALSA does for a missing
 * card (the program is not there); `pull()` kills the running capture, as unplugging a USB microphone ends arecord.
 */
function pluggableMicrophone() {
  let unplugged = false;
  let running: ChildProcess | undefined;
  const spawn: SpawnFn = (command, args, options) => {
    running = nodeSpawn(unplugged ? '/nonexistent/usb-microphone' : command, args, options);
    return running;
  };
  const ffmpeg = resolveFfmpeg().path;
  const capture = ffmpegPcm(['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'], { ffmpeg, now: () => Date.now(), spawn });
  return {
    capture,
    pull: () => {
      unplugged = true;
      running?.kill('SIGKILL');
    },
    plugIn: () => (unplugged = false),
  };
}

describe('the microphone unplugged while running (real ffmpeg capture)', () => {
  let running: RunningServer;
  let viewer: WsClient;
  const mic = pluggableMicrophone();
  const health = async () => (await running.server.inject('/healthz')).result as Health;
  /** Asks /healthz until `check` holds (a condition with a deadline, not a sleep). */
  async function until(check: (h: Health) => boolean, what: string): Promise<Health> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const got = await health();
      if (check(got)) return got;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(got)}`);
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    const config = parseConfig(['--source', 'test', '--host', '127.0.0.1', '--port', '0', '--grace', '0'], {});
    running = await startServer(config, {
      logger: pino({ level: 'silent' }),
      plugin: { audio: mic.capture, restart: { initialDelayMs: 200, maxDelayMs: 800, healthyMs: 60_000 } },
    });
    viewer = await connect(`${running.url.replace(/^http/, 'ws')}stream`);
  });
  afterAll(async () => {
    await viewer?.close();
    await running?.stop();
  });

  it('keeps the picture going, says degraded with the reason, and brings sound back with backoff once it is back', async () => {
    await until((h) => h.status === 'ok' && h.audio.state === 'running', 'sound running');

    mic.pull();
    const degraded = await until((h) => h.status === 'degraded', 'degraded');
    expect(degraded.reason).toMatch(/^sound failing \(PCM from the host application\): .*restarting with backoff .*the picture goes on$/);
    expect(degraded.audio.state).toBe('restarting');

    // While it stays unplugged, the restarts back off and the picture keeps coming.
    const before = viewer.messages.length;
    const failing = await until((h) => h.audio.restarts >= 3, 'three failed restarts');
    expect(failing.status).toBe('degraded');
    expect(failing.audio.lastError).toMatch(/usb-microphone|program not found/);
    await viewer.more(24);
    expect(viewer.messages.length).toBeGreaterThan(before);

    mic.plugIn();
    const back = await until((h) => h.status === 'ok' && h.audio.state === 'running', 'sound back');
    expect(back.reason).toBeUndefined();
  });
});
