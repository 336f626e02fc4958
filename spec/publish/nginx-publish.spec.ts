import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Subscription } from 'rxjs';
import { parseConfig } from '../../src/config/command-line';
import { DEFAULTS } from '../../src/defaults';
import { liveChildCount } from '../../src/process/child-process';
import { protocol } from '../../src/protocol';
import type { Publisher } from '../../src/publish/publisher';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { waitFor } from '../helpers/child-processes';
import { describeNginx, nginxRtmp, type Nginx } from '../helpers/nginx';
import { readStream, type ReadBack } from '../helpers/rtmp-reader';
import { connect } from '../helpers/ws-client';

const W = 640;
const H = 480;
const FPS = 24;
/** Stream time each reader plays: the 10 s. */
const READ_SECONDS = 10;

/** The barcode frame numbers a reader decoded must all be readable, and go up. */
function decodedFrames(read: ReadBack): number[] {
  expect(read.frames.length).toBeGreaterThan(0);
  const frames = read.frames.filter((f): f is number => f !== undefined);
  expect(frames.length).toBe(read.frames.length);
  for (let i = 1; i < frames.length; i++) expect(frames[i]!).toBeGreaterThan(frames[i - 1]!);
  return frames;
}

describeNginx('publishing to a real nginx-rtmp on loopback (origin → edge), real ffmpeg', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let nginx: Nginx;
  let running: RunningServer;
  let publisher: Publisher;
  /** Every picture the hub made (seq), for what the engine and the viewers should have had. */
  const hubSeqs: number[] = [];
  let recording: Subscription;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-nginx-'));
    nginx = await nginxRtmp(dir);
    await nginx.start();
    const config = parseConfig(
      ['--codec', 'h264', '--source', 'test', '--host', '127.0.0.1', '--port', '0', '--publish', `rtmp://127.0.0.1:${nginx.port}/live/cam`],
      {},
    );
    running = await startServer(config, { logger: pino({ level: 'silent' }) });
    recording = running.hub.pictures$.subscribe((p) => hubSeqs.push(p.seq));
    publisher = running.server.plugins.pistream.publishers[0]!;
    await waitFor(() => publisher.stats.state === 'publishing', 'the publisher to send', 15_000);
  });
  afterAll(async () => {
    recording?.unsubscribe();
    await running?.stop();
    await nginx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(liveChildCount()).toBe(0);
  });

  it('origin and edge both carry H.264 + AAC at 640x480, ≥ 98 % of the pictures, keyframes ≤ 2 s apart, the barcode advancing', async () => {
    const [live, edge] = await Promise.all([
      readStream(`rtmp://127.0.0.1:${nginx.port}/live/cam`, READ_SECONDS, W, H),
      readStream(`rtmp://127.0.0.1:${nginx.port}/edge/cam`, READ_SECONDS, W, H),
    ]);
    for (const [name, read] of [['live', live], ['edge', edge]] as const) {
      expect({ name, video: read.video, audio: read.audio }).toEqual({ name, video: { codec: 'h264', width: W, height: H }, audio: 'aac' });
      const frames = decodedFrames(read);
      const first = frames[0]!;
      const last = frames[frames.length - 1]!;
      // What the hub made over the same span is what the engine should have passed on.
      const made = hubSeqs.filter((seq) => seq >= first && seq <= last).length;
      const share = frames.length / made;
      // eslint-disable-next-line no-console
      console.log(`${name}: ${frames.length} of ${made} pictures (${(share * 100).toFixed(1)} %), frames ${first}..${last}, keys at ${read.keyTimes.map((t) => t.toFixed(2)).join(' ')}`);
      expect(frames.length).toBeGreaterThanOrEqual(READ_SECONDS * FPS * 0.98);
      expect(share).toBeGreaterThanOrEqual(0.98);
      expect(read.keyTimes.length).toBeGreaterThanOrEqual(READ_SECONDS / DEFAULTS.publishMaxGopSeconds);
      for (let i = 1; i < read.keyTimes.length; i++) {
        expect(read.keyTimes[i]! - read.keyTimes[i - 1]!).toBeLessThanOrEqual(DEFAULTS.publishMaxGopSeconds + 0.01);
      }
    }
    expect(publisher.stats.bytes).toBeGreaterThan(0);
  });

  it('nginx killed mid-stream and started again: degraded meanwhile, republished within the backoff cap + 2 s, a local viewer missed no picture', async () => {
    const viewer = await connect(`ws://127.0.0.1:${running.port}/h264`);
    await viewer.received(5);
    const restartsBefore = publisher.stats.restarts;

    await nginx.stop();
    await waitFor(() => publisher.stats.state === 'retrying', 'the publisher to notice', DEFAULTS.publishIoTimeoutMs + 5000);
    const health = await (await fetch(`http://127.0.0.1:${running.port}/healthz`)).text();
    expect(JSON.parse(health)).toMatchObject({
      status: 'degraded',
      publish: [{ target: `rtmp://127.0.0.1:${nginx.port}/live/***`, state: 'retrying' }],
    });
    expect(health).not.toContain('/live/cam');
    // Down a few seconds, so the backoff grows past its first step.
    await new Promise((r) => setTimeout(r, 3000));

    await nginx.start();
    const upAt = Date.now();
    const waitLeft = publisher.stats.nextAttemptAt !== undefined ? Math.max(0, publisher.stats.nextAttemptAt - upAt) : 0;
    await waitFor(() => publisher.stats.state === 'publishing', 'republishing', DEFAULTS.publishRestart.maxDelayMs + 2000);
    const republishedMs = Date.now() - upAt;
    // eslint-disable-next-line no-console
    console.log(`republished ${republishedMs} ms after nginx came back (backoff wait left then: ${waitLeft} ms; restarts ${publisher.stats.restarts - restartsBefore})`);
    expect(republishedMs).toBeLessThanOrEqual(DEFAULTS.publishRestart.maxDelayMs + 2000);
    expect(republishedMs).toBeLessThanOrEqual(waitLeft + 2000);
    expect(publisher.stats.restarts).toBeGreaterThan(restartsBefore);

    // The engine has it again, through the edge too.
    // (Pictures, counted and in order: a republished stream's first seconds hold the replayed GOP and the engine's
    // own restart, so this asks for a second's worth over three seconds, not a full rate.)
    const again = await readStream(`rtmp://127.0.0.1:${nginx.port}/edge/cam`, 3, W, H);
    expect(decodedFrames(again).length).toBeGreaterThanOrEqual(FPS);
    const healthAfter = (await (await fetch(`http://127.0.0.1:${running.port}/healthz`)).json()) as { status: string };
    expect(healthAfter.status).toBe('ok');

    const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`pistream_publish_restarts_total\\{index="0",target="rtmp://127.0.0.1:${nginx.port}/live/\\*\\*\\*"\\} [1-9]`));
    expect(metrics).toMatch(/pistream_publish_state\{[^}]*state="publishing"\} 1/);
    expect(metrics).not.toContain('/live/cam');

    // The viewer got every picture the hub made while it watched, outage included.
    const seqs = viewer.messages.map((m) => protocol.readUnitHeader(m.buffer.slice(m.byteOffset, m.byteOffset + m.length) as ArrayBuffer)!.seq);
    await viewer.close();
    const first = seqs[0]!;
    const last = seqs[seqs.length - 1]!;
    const made = hubSeqs.filter((seq) => seq >= first && seq <= last);
    expect(made.length).toBeGreaterThan(FPS * 5);
    expect(seqs).toEqual(made);
  });
});
