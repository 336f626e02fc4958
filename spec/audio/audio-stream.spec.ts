import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { aac } from '../../src/audio/aac';
import { mp2 } from '../../src/audio/mp2';
import { PCM } from '../../src/audio/pcm';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { beepOnsets, mpegTsCaptureMs, offWholeSecond, probeAudio } from '../helpers/audio-probe';
import { tsPackets } from '../helpers/mpegts-demux';
import { connect } from '../helpers/ws-client';

jest.setTimeout(180_000);

/** One audio frame of a codec, in ms: how closely the stream's beep onsets must sit on whole seconds. */
const frameMs = (codec: { samplesPerFrame: number }) => (codec.samplesPerFrame * 1000) / PCM.sampleRate;

/**
 * The MPEG-TS `messages` (written to `file`) carry MP2 above silence, its beeps (at least three) starting on whole
 * seconds of the capture clock within one frame.
 */
async function expectMp2Beeps(file: string, messages: readonly Buffer[]): Promise<void> {
  writeFileSync(file, Buffer.concat(messages));
  const probe = await probeAudio(file);
  expect(probe).toMatchObject({ codec: 'mp2', sampleRate: 48_000 });
  // The beep is at half scale (-6 dBFS); silence is -91.
  expect(probe.maxVolumeDb).toBeGreaterThan(-20);
  const onsets = await beepOnsets(file, mpegTsCaptureMs(Date.now()));
  expect(onsets.length).toBeGreaterThanOrEqual(3);
  for (const onset of onsets) expect(Math.abs(offWholeSecond(onset))).toBeLessThanOrEqual(frameMs(mp2));
}

describe('--audio test: sound in the stream itself (real ffmpeg, ffprobe and silencedetect)', () => {
  let running: RunningServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-audio-'));
    const config = parseConfig(['--source', 'test', '--audio', 'test', '--host', '127.0.0.1', '--port', '0', '--grace', '0'], {});
    running = await startServer(config, { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/stream carries MP2 beside the MPEG-1 video, its beeps starting on whole seconds of the capture clock', async () => {
    const viewer = await connect(`${running.url.replace(/^http/, 'ws')}stream`);
    // 4 s of pictures at 24 fps and MP2 frames (24 ms) as messages of their own: at least three whole seconds, so
    // three beeps with silence before them.
    const messages = await viewer.received(4 * (24 + 1000 / frameMs(mp2)) + 12);
    await viewer.close();
    // Each sound frame went out as it was encoded, in a message of its own: never with (so never waiting for) a picture.
    const pids = messages.map((message) => new Set(tsPackets(message).map((packet) => packet.pid)));
    const soundOnly = pids.filter((set) => set.has(0x101));
    expect(soundOnly.length).toBeGreaterThan(100);
    for (const set of soundOnly) expect([...set]).toEqual([0x101]);
    await expectMp2Beeps(join(dir, 'stream.ts'), messages);
  });

  it('GET /streams says which sound each format carries, and /healthz what captures it', async () => {
    const streams = (await running.server.inject('/streams')).result as { formats: { id: string; audio?: object }[]; audio: object };
    expect(streams.audio).toEqual({ source: expect.stringMatching(/^test tone/) });
    expect(streams.formats.find((f) => f.id === 'mpegts')?.audio).toEqual({
      codec: 'mp2',
      label: 'MP2',
      codecString: 'mp2',
      sampleRate: 48_000,
      channels: 1,
    });
    // The original protocol has no room for sound.
    expect(streams.formats.find((f) => f.id === 'jsmp')?.audio).toBeUndefined();
    const health = (await running.server.inject('/healthz')).result as { audio: { source: string; state: string } };
    expect(health.audio.source).toMatch(/^test tone/);
  });
});

/** Keeps the first init segment (ftyp + moov) of concatenated fMP4 messages and drops the later ones, as a file has one. */
function oneInitSegment(bytes: Buffer): Buffer {
  const kept: Buffer[] = [];
  let seenMoov = false;
  for (let at = 0; at + 8 <= bytes.length;) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const isInit = type === 'ftyp' || type === 'moov';
    if (!isInit || !seenMoov) kept.push(bytes.subarray(at, at + size));
    if (type === 'moov') seenMoov = true;
    at += size;
  }
  return Buffer.concat(kept);
}

describe('--codec h264 --audio test: /fmp4-sound carries AAC beside the pictures, /sound MP2 alone (real ffmpeg)', () => {
  let running: RunningServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-audio-fmp4-'));
    const argv = ['--codec', 'h264', '--source', 'test', '--audio', 'test', '--host', '127.0.0.1', '--port', '0', '--grace', '0'];
    running = await startServer(parseConfig(argv, {}), { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('AAC-LC above silence, its beeps on whole seconds of the capture clock (decode times count from the first picture)', async () => {
    // The format's muxer starts with its first subscriber, and its time 0 is that subscriber's first picture's
    // capture time: subscribe first (and stay), so the muxer the viewer shares starts at a known picture.
    let start: number | undefined;
    const first = running.hub.stream('fmp4-sound').subscribe((picture) => (start ??= picture.capturedAt));
    const viewer = await connect(`${running.url.replace(/^http/, 'ws')}fmp4-sound`);
    const messages = await viewer.received(4 * 24 + 12);
    await viewer.close();
    first.unsubscribe();
    const file = join(dir, 'fmp4-sound.mp4');
    writeFileSync(file, oneInitSegment(Buffer.concat(messages)));

    const probe = await probeAudio(file);
    expect(probe).toMatchObject({ codec: 'aac', sampleRate: 48_000 });
    expect(probe.maxVolumeDb).toBeGreaterThan(-20);
    const onsets = await beepOnsets(file, (seconds) => start! + seconds * 1000);
    expect(onsets.length).toBeGreaterThanOrEqual(3);
    for (const onset of onsets) expect(Math.abs(offWholeSecond(onset))).toBeLessThanOrEqual(frameMs(aac));
  });

  it('/sound carries the MP2 sound alone (the MSE page plays it beside /fmp4): each frame a message, its beeps on whole seconds', async () => {
    const viewer = await connect(`${running.url.replace(/^http/, 'ws')}sound`);
    // 4 s of MP2 frames (24 ms each): three beeps with silence before them.
    const messages = await viewer.received(Math.round(4000 / frameMs(mp2)));
    await viewer.close();
    // No picture bytes and no empty message: one closed PES of one MP2 frame per message, on the sound's PID.
    for (const message of messages) {
      expect(message.length).toBeGreaterThan(0);
      expect(new Set(tsPackets(message).map((packet) => packet.pid))).toEqual(new Set([0x101]));
    }
    await expectMp2Beeps(join(dir, 'sound.ts'), messages);
  });

  it('/fmp4 stays video only', async () => {
    const streams = (await running.server.inject('/streams')).result as { formats: { id: string; audio?: { codec: string } }[] };
    expect(streams.formats.find((f) => f.id === 'fmp4')?.audio).toBeUndefined();
    expect(streams.formats.find((f) => f.id === 'fmp4-sound')?.audio?.codec).toBe('aac');
    expect(streams.formats.find((f) => f.id === 'sound')?.audio?.codec).toBe('mp2');
  });
});
