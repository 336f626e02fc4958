import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { barcodeAge, readBarcode } from '../../src/barcode';
import { opus } from '../../src/audio/opus';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { loadWebRtc, type WebRtcLibrary } from '../../src/webrtc/peer-session';
import { waitFor } from '../helpers/child-processes';
import { beepOnsets, offWholeSecond, probeAudio } from '../helpers/audio-probe';
import { decodeH264Frames } from '../helpers/h264-streams';
import { oggOpus } from '../helpers/ogg-opus';
import { depacketizeH264, OFFERED_OPUS_PT, receiver, type Receiver, type RtpPacket, type SenderReport } from '../webrtc/rtp-receiver';
import { freeUdpPort } from '../webrtc/udp-port';

jest.setTimeout(180_000);

const W = 640;
const H = 480;
/** One Opus frame (ms): how closely the beeps must sit on whole seconds of the capture clock. */
const OPUS_FRAME_MS = 20;

async function serve(flags: string[]): Promise<RunningServer> {
  const port = await freeUdpPort();
  const config = parseConfig(
    ['--codec', 'h264', '--source', 'test', '--host', '127.0.0.1', '--port', '0', '--grace', '0', '--webrtc-port', String(port), ...flags],
    {},
  );
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

/** The NTP time (Unix ms) of RTP timestamp `timestamp` by the last sender report of its SSRC, at `rate` Hz. */
function ntpOf(reports: readonly SenderReport[], ssrc: number, timestamp: number, rate: number): number {
  const report = reports.filter((r) => r.ssrc === ssrc).at(-1);
  if (!report) throw new Error(`no sender report for SSRC ${ssrc}`);
  return report.ntpMs + (((timestamp - report.rtpTimestamp) | 0) * 1000) / rate;
}

/** The video's access units by RTP timestamp, in order, each with its capture time read from its barcode. */
async function videoCaptureTimes(packets: readonly RtpPacket[]): Promise<{ timestamp: number; capturedAt: number }[]> {
  const timestamps = [...new Set(packets.map((p) => p.timestamp))];
  const stream = Buffer.concat(depacketizeH264(packets).flatMap((nal) => [Buffer.from([0, 0, 0, 1]), nal]));
  const pictures = await decodeH264Frames(stream, W, H);
  const now = Date.now();
  return pictures.flatMap((y, i) => {
    const code = readBarcode((x, row) => y[row * W + x]!);
    return code && timestamps[i] !== undefined ? [{ timestamp: timestamps[i]!, capturedAt: now - barcodeAge(code.time, now) }] : [];
  });
}

describe('WebRTC sound: Opus beside the H.264, against the real server (--audio test), a node-datachannel receiver', () => {
  let library: WebRtcLibrary;
  let dir: string;
  const receivers: Receiver[] = [];
  /** The sessions' URLs, ended with DELETE after each test (the server learns of a closed receiver only much later). */
  const sessions: string[] = [];

  beforeAll(() => {
    const webrtc = loadWebRtc();
    if (!webrtc.ok) throw new Error(webrtc.reason);
    library = webrtc.library;
    dir = mkdtempSync(join(tmpdir(), 'pistream-whep-sound-'));
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((url) => fetch(url, { method: 'DELETE' })));
    const closing = receivers.splice(0);
    for (const rx of closing) rx.close();
    await Promise.all(closing.map((rx) => rx.released));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function watch(running: RunningServer, audio: boolean): Promise<{ rx: Receiver; answer: string }> {
    const rx = await receiver(library, `whep-sound-${receivers.length}`, { audio, receiverReports: false });
    receivers.push(rx);
    const res = await fetch(`http://127.0.0.1:${running.port}/whep`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: rx.offer,
    });
    expect(res.status).toBe(201);
    sessions.push(`http://127.0.0.1:${running.port}${res.headers.get('location')!}`);
    const answer = await res.text();
    rx.pc.setRemoteDescription(answer, 'answer');
    return { rx, answer };
  }

  describe('with sound', () => {
    let running: RunningServer;
    beforeAll(async () => (running = await serve(['--audio', 'test'])));
    afterAll(() => running?.stop());

    it('answers the audio section sendonly with Opus on the offered payload type, one CNAME for both tracks, each its own stream', async () => {
      const { answer } = await watch(running, true);
      const audio = answer.slice(answer.indexOf('m=audio'));
      expect(audio).toMatch(new RegExp(`^m=audio \\d+ UDP/TLS/RTP/SAVPF ${OFFERED_OPUS_PT}\\r?$`, 'm'));
      expect(audio).toMatch(/^a=sendonly\r?$/m);
      expect(audio).toMatch(new RegExp(`^a=rtpmap:${OFFERED_OPUS_PT} opus/48000/2\\r?$`, 'm'));
      expect(answer).toMatch(/^a=group:BUNDLE 0 1\r?$/m);
      const cnames = [...answer.matchAll(/^a=ssrc:\d+ cname:(\S+)\r?$/gm)].map((m) => m[1]);
      const streams = [...answer.matchAll(/^a=ssrc:\d+ msid:(\S+) \S+\r?$/gm)].map((m) => m[1]);
      expect(cnames).toHaveLength(2);
      expect(new Set(cnames).size).toBe(1);
      // Apart: a browser would hold the picture back to sync it with the later sound (peer-session.ts says more).
      expect(streams).toHaveLength(2);
      expect(new Set(streams).size).toBe(2);
      const streamsInfo = (await running.server.inject('/streams')).result as { webrtc: object };
      expect(streamsInfo.webrtc).toMatchObject({ path: '/whep', audio: { codec: 'opus', label: 'Opus', sampleRate: 48_000 } });
    });

    it('sends Opus whose beeps fall on whole seconds of the capture clock, placed there by the sender reports that place the video', async () => {
      const { rx } = await watch(running, true);
      // 4 s of pictures: three whole seconds at least, so three beeps with silence before them.
      await rx.accessUnits(4 * 24 + 12);
      const audio = rx.audioPackets.slice();
      const video = rx.packets.slice();
      const reports = rx.senderReports.slice();
      expect(audio.length).toBeGreaterThan(100);
      expect(new Set(audio.map((p) => p.payloadType))).toEqual(new Set([OFFERED_OPUS_PT]));
      // One Opus frame apart on the 48 kHz clock.
      audio.slice(1).forEach((p, i) => expect(((p.timestamp - audio[i]!.timestamp) | 0) % opus.samplesPerFrame).toBe(0));

      const file = join(dir, 'sound.opus');
      writeFileSync(file, oggOpus(audio));
      const probe = await probeAudio(file);
      expect(probe.codec).toBe('opus');
      expect(probe.maxVolumeDb).toBeGreaterThan(-20);

      // Where the video's sender reports put its pictures, against their capture times (from their barcodes): the
      // video's delay. The sound's reports must put each beep's capture time that same delay later.
      const pictures = await videoCaptureTimes(video);
      expect(pictures.length).toBeGreaterThan(24);
      const videoSsrc = video[0]!.ssrc;
      const delays = pictures.map((p) => ntpOf(reports, videoSsrc, p.timestamp, 90_000) - p.capturedAt).sort((a, b) => a - b);
      const videoDelay = delays[Math.floor(delays.length / 2)]!;

      const first = audio[0]!.timestamp;
      const onsets = await beepOnsets(file, (seconds) => seconds);
      expect(onsets.length).toBeGreaterThanOrEqual(3);
      const audioSsrc = audio[0]!.ssrc;
      const captured = onsets.map((s) => ntpOf(reports, audioSsrc, (first + Math.round(s * 48_000)) >>> 0, 48_000) - videoDelay);
      for (const at of captured) expect(Math.abs(offWholeSecond(at))).toBeLessThanOrEqual(OPUS_FRAME_MS);
    });

    it('an offer without audio gets the video alone, as before, and starts no Opus encoder', async () => {
      const sound = running.hub.audio!.stats;
      await waitFor(() => sound.state === 'off', 'the sound to stop with the last listener');
      const { rx, answer } = await watch(running, false);
      expect(answer).not.toMatch(/^m=audio/m);
      await rx.accessUnits(5);
      expect(rx.audioPackets).toHaveLength(0);
      expect(sound.state).toBe('off');
    });

    it('runs the Opus encoder while a WebRTC viewer takes sound, and stops it when the last one leaves', async () => {
      const sound = running.hub.audio!.stats;
      const before = sound.packets.opus ?? 0;
      const { rx } = await watch(running, true);
      await waitFor(() => rx.audioPackets.length >= 10, 'sound packets', 30_000);
      expect(sound.state).toBe('running');
      expect(sound.packets.opus).toBeGreaterThan(before);
      await fetch(sessions.pop()!, { method: 'DELETE' });
      await waitFor(() => sound.state === 'off', 'the Opus encoder to stop', 30_000);
    });
  });

  describe('without sound', () => {
    let running: RunningServer;
    beforeAll(async () => (running = await serve(['--audio', 'none'])));
    afterAll(() => running?.stop());

    it('answers an offered audio section inactive and sends pictures only', async () => {
      const { rx, answer } = await watch(running, true);
      expect(answer.slice(answer.indexOf('m=audio'))).toMatch(/^a=inactive\r?$/m);
      // One format on the line at least (the first offered): Chromium refuses to parse an answer without.
      expect(answer).toMatch(new RegExp(`^m=audio \\d+ UDP/TLS/RTP/SAVPF ${OFFERED_OPUS_PT}\\r?$`, 'm'));
      await rx.accessUnits(5);
      expect(rx.audioPackets).toHaveLength(0);
      const streamsInfo = (await running.server.inject('/streams')).result as { webrtc: object };
      expect(streamsInfo.webrtc).toEqual({ path: '/whep' });
    });
  });
});
