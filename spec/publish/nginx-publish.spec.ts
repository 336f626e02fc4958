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

/** Where each picture the hub made between a reader's first and last decoded picture went. */
interface Accounting {
  /** Pictures the hub made from the first decoded through the last. */
  readonly made: number;
  /** Of those, the ones the publisher wrote to its ffmpeg (from the stream's timestamps, see below). */
  readonly written: number;
  /** The ones the publisher skipped and counted in `stats.skipped`. */
  readonly skipped: number;
  /** Written, yet not decoded by the reader: dropped by nginx (a timestamp gap). */
  readonly lostInNginx: number;
  /** Spans between two decoded pictures where made ≠ written + skipped, as `a..b: made m, written w, skipped s`. */
  readonly unaccounted: string[];
}

/**
 * Accounts for every picture the hub made over the span a reader decoded, span by span between consecutive decoded
 * pictures, without a rate: the publisher's ffmpeg stamps the pictures it is given at FPS (`+genpts`: the timeline
 * counts pictures written, skipped ones leave no hole) and nginx keeps the timestamps, dropping a picture (a slow
 * reader's queue, or its `sync` skip to a keyframe) only as a hole in them. So between two decoded pictures
 * `round(Δt × FPS)` pictures were written, and the rest of what the hub made there the publisher skipped, which
 * `skippedAt` (its counter beside each hub picture) says exactly. How many got through depends on the machine;
 * that each one is accounted for does not.
 */
function account(
  read: ReadBack,
  frames: readonly number[],
  hubSeqs: readonly number[],
  skippedAt: ReadonlyMap<number, number>,
): Accounting {
  expect(read.times.length).toBeGreaterThanOrEqual(frames.length);
  let written = 1;
  const unaccounted: string[] = [];
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1]!;
    const b = frames[i]!;
    const w = Math.round((read.times[i]! - read.times[i - 1]!) * FPS);
    const m = hubSeqs.filter((seq) => seq > a && seq <= b).length;
    const s = skippedAt.get(b)! - skippedAt.get(a)!;
    if (w < 1 || m !== w + s) unaccounted.push(`${a}..${b}: made ${m}, written ${w}, skipped ${s}`);
    written += w;
  }
  const first = frames[0]!;
  const last = frames[frames.length - 1]!;
  return {
    made: hubSeqs.filter((seq) => seq >= first && seq <= last).length,
    written,
    skipped: skippedAt.get(last)! - skippedAt.get(first)!,
    lostInNginx: written - frames.length,
    unaccounted,
  };
}

describeNginx('publishing to a real nginx-rtmp on loopback (origin → edge), real ffmpeg', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let nginx: Nginx;
  let running: RunningServer;
  let publisher: Publisher;
  /** Every picture the hub made (seq), for what the engine and the viewers should have had. */
  const hubSeqs: number[] = [];
  /**
   * The publisher's `stats.skipped` as each picture went by (read beside the publisher's own subscriber, in the same
   * emission). For a picture the publisher wrote, the count is the same before and after it, so the pictures it
   * skipped strictly between two written ones are `skippedAt(b) - skippedAt(a)`, whichever subscriber runs first.
   */
  const skippedAt = new Map<number, number>();
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
    publisher = running.server.plugins.pistream.publishers[0]!;
    recording = running.hub.pictures$.subscribe((p) => {
      hubSeqs.push(p.seq);
      skippedAt.set(p.seq, publisher.stats.skipped);
    });
    await waitFor(() => publisher.stats.state === 'publishing', 'the publisher to send', 15_000);
  });
  afterAll(async () => {
    recording?.unsubscribe();
    await running?.stop();
    await nginx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(liveChildCount()).toBe(0);
  });

  it('origin and edge both carry H.264 + AAC at 640x480, every picture delivered or accounted for, keyframes ≤ 2 s apart, the barcode advancing', async () => {
    const [live, edge] = await Promise.all([
      readStream(`rtmp://127.0.0.1:${nginx.port}/live/cam`, READ_SECONDS, W, H),
      readStream(`rtmp://127.0.0.1:${nginx.port}/edge/cam`, READ_SECONDS, W, H),
    ]);
    for (const [name, read] of [
      ['live', live],
      ['edge', edge],
    ] as const) {
      expect({ name, video: read.video, audio: read.audio }).toEqual({ name, video: { codec: 'h264', width: W, height: H }, audio: 'aac' });
      const frames = decodedFrames(read);
      // What the hub made over the same span is what the engine passed on, less what the publisher skipped and
      // counted, less what nginx dropped (holes in the timestamps).
      const book = account(read, frames, hubSeqs, skippedAt);
      // eslint-disable-next-line no-console
      console.log(
        `${name}: ${frames.length} of ${book.made} pictures (publisher skipped ${book.skipped}, nginx dropped ${book.lostInNginx}), frames ${frames[0]}..${frames[frames.length - 1]}, keys at ${read.keyTimes.map((t) => t.toFixed(2)).join(' ')}`,
      );
      expect({ name, unaccounted: book.unaccounted }).toEqual({ name, unaccounted: [] });
      expect(book.written + book.skipped).toBe(book.made);
      expect(book.lostInNginx).toBeGreaterThanOrEqual(0);
      // Keyframes come every publishMaxGopSeconds of stream time or sooner (skips shorten a GOP, never lengthen it):
      // the 10 s read holds at least five.
      expect(read.keyTimes.length).toBeGreaterThanOrEqual(READ_SECONDS / DEFAULTS.publishMaxGopSeconds);
      for (let i = 1; i < read.keyTimes.length; i++) {
        expect(read.keyTimes[i]! - read.keyTimes[i - 1]!).toBeLessThanOrEqual(DEFAULTS.publishMaxGopSeconds + 0.01);
      }
    }
    expect(publisher.stats.bytes).toBeGreaterThan(0);
  });

  it('nginx killed mid-stream and started again: degraded meanwhile, republished by the first attempt after it is back (waiting no more than the backoff cap), a local viewer missed no picture', async () => {
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
    // Down until a second attempt has failed too, so the backoff has grown past its first step.
    await waitFor(() => publisher.stats.failures >= 2, 'a second failed attempt', DEFAULTS.publishRestart.maxDelayMs);
    const seqInOutage = hubSeqs[hubSeqs.length - 1]!;

    await nginx.start();
    const upAt = Date.now();
    const stateAtUp = publisher.stats.state;
    const restartsAtUp = publisher.stats.restarts;
    const waitLeft = publisher.stats.nextAttemptAt !== undefined ? Math.max(0, publisher.stats.nextAttemptAt - upAt) : 0;
    // The backoff never schedules the next attempt beyond its cap.
    expect(waitLeft).toBeLessThanOrEqual(DEFAULTS.publishRestart.maxDelayMs);
    // A deadline, not the assertion: past the backoff's wait, how soon ffmpeg starts and connects is the machine's.
    await waitFor(() => publisher.stats.state === 'publishing', 'republishing', DEFAULTS.publishRestart.maxDelayMs + 30_000);
    const republishedMs = Date.now() - upAt;
    // eslint-disable-next-line no-console
    console.log(
      `republished ${republishedMs} ms after nginx came back (${stateAtUp} then, backoff wait left: ${waitLeft} ms; restarts ${publisher.stats.restarts - restartsBefore})`,
    );
    // Republished by the first attempt that began once nginx listened: one already under way then (`starting`, its
    // connection maybe refused just before) may still fail once; no attempt after that does.
    expect(publisher.stats.restarts - restartsAtUp).toBeLessThanOrEqual(stateAtUp === 'retrying' ? 0 : 1);
    expect(publisher.stats.restarts).toBeGreaterThan(restartsBefore);
    const seqAtRepublish = hubSeqs[hubSeqs.length - 1]!;

    // The engine has it again, through the edge too: pictures, readable and in order, each one the hub made
    // accounted for as in the first test (the republished run starts with the replayed GOP, written whole).
    const again = await readStream(`rtmp://127.0.0.1:${nginx.port}/edge/cam`, 3, W, H);
    const againFrames = decodedFrames(again);
    const book = account(again, againFrames, hubSeqs, skippedAt);
    expect(book.unaccounted).toEqual([]);
    expect(book.written + book.skipped).toBe(book.made);
    const healthAfter = (await (await fetch(`http://127.0.0.1:${running.port}/healthz`)).json()) as { status: string };
    expect(healthAfter.status).toBe('ok');

    const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`pistream_publish_restarts_total\\{index="0",target="rtmp://127.0.0.1:${nginx.port}/live/\\*\\*\\*"\\} [1-9]`),
    );
    expect(metrics).toMatch(/pistream_publish_state\{[^}]*state="publishing"\} 1/);
    expect(metrics).not.toContain('/live/cam');

    // The viewer got every picture the hub made while it watched, outage included.
    const seqs = viewer.messages.map(
      (m) => protocol.readUnitHeader(m.buffer.slice(m.byteOffset, m.byteOffset + m.length) as ArrayBuffer)!.seq,
    );
    await viewer.close();
    const first = seqs[0]!;
    const last = seqs[seqs.length - 1]!;
    // It watched from before nginx went down (before a picture made during the outage) until after the push was
    // back: the span the test is about.
    expect(first).toBeLessThan(seqInOutage);
    expect(last).toBeGreaterThan(seqAtRepublish);
    const made = hubSeqs.filter((seq) => seq >= first && seq <= last);
    // Each picture made reached it, or was one the server counted as dropped for it (this viewer never acks, so only
    // a socket backed up past the high-water mark could; the count may include a picture after its last one).
    const dropped = Object.values(running.server.plugins.pistream.viewers.totals().dropped).reduce((a, b) => a + b, 0);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(seqs.filter((seq) => !made.includes(seq))).toEqual([]);
    expect(made.length - seqs.length).toBeLessThanOrEqual(dropped);
    if (dropped === 0) expect(seqs).toEqual(made);
  });
});
