import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { firstValueFrom, skip } from 'rxjs';
import { aac } from '../../src/audio/aac';
import { mp2 } from '../../src/audio/mp2';
import { PCM } from '../../src/audio/pcm';
import { parseConfig } from '../../src/config/command-line';
import { parseSegmentName } from '../../src/recording/segment-name';
import { startServer } from '../../src/server/start-server';
import { beepOnsets, mpegTsCaptureMs, offWholeSecond, probeAudio } from '../helpers/audio-probe';

jest.setTimeout(180_000);

/**
 * Records with `--audio test` until the hub has made `pictures` pictures, stops the server (closing the segment),
 * and hands back the one segment file and its start (the first picture's capture time, from its name).
 */
async function record(codec: string, pictures: number): Promise<{ file: string; startMs: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pistream-sound-rec-'));
  const config = parseConfig(
    ['--codec', codec, '--source', 'test', '--audio', 'test', '--record', dir, '--host', '127.0.0.1', '--port', '0'],
    {},
  );
  const running = await startServer(config, { logger: pino({ level: 'silent' }) });
  await firstValueFrom(running.hub.pictures$.pipe(skip(pictures)));
  await running.stop();
  const [name] = readdirSync(dir).filter((n) => parseSegmentName(n));
  return { file: join(dir, name!), startMs: parseSegmentName(name!)!.startMs, dir };
}

describe('recordings carry the sound (real ffmpeg, --audio test)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('MPEG-1 recordings (.ts) carry MP2, the beeps on whole seconds of the capture clock', async () => {
    const { file, dir } = await record('mpeg1', 5 * 24);
    dirs.push(dir);
    const probe = await probeAudio(file);
    expect(probe).toMatchObject({ codec: 'mp2', sampleRate: 48_000 });
    expect(probe.maxVolumeDb).toBeGreaterThan(-20);
    const onsets = await beepOnsets(file, mpegTsCaptureMs(Date.now()));
    expect(onsets.length).toBeGreaterThanOrEqual(3);
    for (const onset of onsets) expect(Math.abs(offWholeSecond(onset))).toBeLessThanOrEqual((mp2.samplesPerFrame * 1000) / PCM.sampleRate);
  });

  it('H.264 recordings (.mp4) carry AAC-LC as a second track, the beeps on whole seconds of the capture clock', async () => {
    const { file, startMs, dir } = await record('h264', 5 * 24);
    dirs.push(dir);
    const probe = await probeAudio(file);
    expect(probe).toMatchObject({ codec: 'aac', sampleRate: 48_000 });
    expect(probe.maxVolumeDb).toBeGreaterThan(-20);
    // Both tracks' decode times count from the segment's first picture, whose capture time names the file.
    const onsets = await beepOnsets(file, (seconds) => startMs + seconds * 1000);
    expect(onsets.length).toBeGreaterThanOrEqual(3);
    for (const onset of onsets) expect(Math.abs(offWholeSecond(onset))).toBeLessThanOrEqual((aac.samplesPerFrame * 1000) / PCM.sampleRate);
  });
});
