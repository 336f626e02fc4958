import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../src/config/command-line';
import { liveChildCount } from '../../src/process/child-process';
import { protocol, type SoundHeader } from '../../src/protocol';
import { opus } from '../../src/audio/opus';
import { PCM } from '../../src/audio/pcm';
import { soundMessage } from '../../src/server/control-message';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { beepOnsets, offWholeSecond, probeAudio } from '../helpers/audio-probe';
import { waitFor } from '../helpers/child-processes';
import { oggOpus } from '../helpers/ogg-opus';
import { connect, type WsClient } from '../helpers/ws-client';

jest.setTimeout(180_000);

/** One Opus frame (ms): how closely the beeps must sit on whole seconds of the capture clock. */
/** One Opus frame (the codec's own figure: `samplesPerFrame` at 48 kHz). */
const OPUS_FRAME_MS = (opus.samplesPerFrame * 1000) / PCM.sampleRate;

const arrayBuffer = (message: Buffer): ArrayBuffer =>
  message.buffer.slice(message.byteOffset, message.byteOffset + message.length) as ArrayBuffer;

/** The sound messages among `messages`, as the page reads them (public/protocol.js), with their frames. */
function soundOf(messages: readonly Buffer[]): { header: SoundHeader; frame: Buffer }[] {
  return messages.flatMap((message) => {
    const header = protocol.readSoundHeader(arrayBuffer(message));
    return header ? [{ header, frame: message.subarray(header.offset) }] : [];
  });
}

const pictures = (messages: readonly Buffer[]): number => messages.filter((m) => protocol.readUnitHeader(arrayBuffer(m)) !== null).length;

describe('sound on the /h264 socket: Opus on request beside the pictures (the real server, ffmpeg, --audio test)', () => {
  let running: RunningServer;
  let dir: string;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-h264-sound-'));
    const config = parseConfig(
      ['--codec', 'h264', '--source', 'test', '--audio', 'test', '--webrtc', 'off', '--host', '127.0.0.1', '--port', '0', '--grace', '0'],
      {},
    );
    running = await startServer(config, { logger: pino({ level: 'silent' }) });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(liveChildCount()).toBe(0);
  });

  async function viewer(): Promise<WsClient> {
    const client = await connect(`ws://127.0.0.1:${running.port}/h264`);
    clients.push(client);
    return client;
  }

  /** Resolves once `client` has `n` more pictures than when called. */
  async function morePictures(client: WsClient, n: number): Promise<void> {
    const from = pictures(client.messages);
    await waitFor(() => pictures(client.messages) >= from + n, `${n} pictures`, 60_000);
  }

  it('lists Opus as /h264’s sound in GET /streams', async () => {
    const streams = (await running.server.inject('/streams')).result as { formats: { id: string; audio?: object }[] };
    expect(streams.formats.find((f) => f.id === 'h264')?.audio).toEqual({
      codec: 'opus',
      label: 'Opus',
      codecString: 'opus',
      sampleRate: 48_000,
      channels: 1,
    });
  });

  it('sends a viewer that has not asked no sound bytes, and runs no encoder for it', async () => {
    const sound = running.hub.audio!.stats;
    await waitFor(() => sound.state === 'off', 'no sound encoder before anyone asks');
    const client = await viewer();
    await morePictures(client, 48);
    expect(soundOf(client.messages)).toHaveLength(0);
    expect(sound.state).toBe('off');
  });

  it('sends Opus frames stamped on the capture clock once asked: the beeps fall on its whole seconds', async () => {
    const client = await viewer();
    await morePictures(client, 1);
    client.ws.send(soundMessage(true));
    // 4 s of sound: three whole seconds at least, so three beeps with silence before them.
    await waitFor(() => soundOf(client.messages).length >= 4000 / OPUS_FRAME_MS, '4 s of sound', 60_000);
    const frames = soundOf(client.messages);
    for (const { header } of frames) expect(header).toMatchObject({ codec: 'opus', sampleRate: 48_000, channels: 1, offset: 20 });
    // /metrics counts them: every frame this client got was sent (more may be on their way), and the drops apart.
    const metrics = (await running.server.inject('/metrics')).payload;
    const sample = (outcome: string) =>
      Number(new RegExp(`^pistream_sound_frames_total\\{outcome="${outcome}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(sample('sent')).toBeGreaterThanOrEqual(frames.length);
    expect(sample('dropped')).toBeGreaterThanOrEqual(0);
    // Each frame's capture time one frame after the one before, but where a frame was dropped (too old, or a backed-up
    // socket): then a whole number of frames later.
    frames.slice(1).forEach(({ header }, i) => {
      const step = header.capturedAt - frames[i]!.header.capturedAt;
      expect(step).toBeGreaterThan(0);
      expect(step / OPUS_FRAME_MS).toBeCloseTo(Math.round(step / OPUS_FRAME_MS), 1);
    });

    // Decoded with each frame at its capture time: sample n of the file is captured at first + n / 48 kHz.
    const first = frames[0]!.header.capturedAt;
    const file = join(dir, 'h264-sound.opus');
    writeFileSync(
      file,
      oggOpus(
        frames.map(({ header, frame }) => ({ timestamp: Math.round((header.capturedAt - first) * 48), payload: frame })),
        opus.samplesPerFrame,
      ),
    );
    const probe = await probeAudio(file);
    expect(probe.codec).toBe('opus');
    expect(probe.maxVolumeDb).toBeGreaterThan(-20);
    const onsets = await beepOnsets(file, (seconds) => first + seconds * 1000);
    expect(onsets.length).toBeGreaterThanOrEqual(3);
    for (const at of onsets) expect(Math.abs(offWholeSecond(at))).toBeLessThanOrEqual(OPUS_FRAME_MS);
  });

  it('stops the sound when asked, and its encoder with its last listener; the pictures go on', async () => {
    const sound = running.hub.audio!.stats;
    const client = await viewer();
    await morePictures(client, 1);
    client.ws.send(soundMessage(true));
    await waitFor(() => soundOf(client.messages).length >= 10, 'sound frames', 60_000);
    expect(sound.state).toBe('running');
    client.ws.send(soundMessage(false));
    await waitFor(() => sound.state === 'off', 'the Opus encoder to stop with its last listener', 60_000);
    const heard = soundOf(client.messages).length;
    await morePictures(client, 24);
    expect(soundOf(client.messages)).toHaveLength(heard);
  });

  it('shares one Opus encoder between listening viewers (no encoder per viewer)', async () => {
    const a = await viewer();
    await morePictures(a, 1);
    a.ws.send(soundMessage(true));
    await waitFor(() => soundOf(a.messages).length >= 10, 'sound on the first viewer', 60_000);
    const children = liveChildCount();
    const b = await viewer();
    await morePictures(b, 1);
    b.ws.send(soundMessage(true));
    await waitFor(() => soundOf(b.messages).length >= 25, 'sound on the second viewer', 60_000);
    expect(liveChildCount()).toBe(children);
    // The same frames: every capture time b got, a got too (a listens throughout).
    const stampsA = new Set(soundOf(a.messages).map((f) => f.header.capturedAt));
    const last = Math.max(...stampsA);
    const ofB = soundOf(b.messages).filter((f) => f.header.capturedAt <= last);
    expect(ofB.length).toBeGreaterThan(0);
    for (const f of ofB) expect(stampsA.has(f.header.capturedAt)).toBe(true);
  });
});
