import { createSocket } from 'node:dgram';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { parseConfig } from '../../src/config/command-line';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { describeBrowser } from '../helpers/browser';
import { waitFor } from '../helpers/child-processes';
import {
  type ServerPage,
  closeServerPage,
  expectCaptureTimes,
  INSECURE_HOST,
  insecureUrl,
  openServerPage,
  pageState,
  RESOLVE_INSECURE_HOST,
  text,
  waitForFramesToAdvance,
} from '../helpers/page-tools';

/** Before any server of this file starts: every picture its pages show was captured after this. */
const SPEC_STARTED_AT = Date.now();

/** What the page exposes on `window.pistream`, as far as these tests read it. */
interface PageState {
  readonly status: string;
  readonly player: string | null;
  readonly codec: string | null;
  readonly frames: number;
  readonly painted: number;
  readonly latencies: readonly number[];
  readonly webrtc?: {
    readonly connectionState: string | null;
    readonly session: string | null;
    readonly errors: readonly string[];
    readonly frameSource: 'rvfc' | 'poll' | null;
  };
}
// Page functions run in the browser; this file is compiled without the DOM library.
declare const window: { readonly pistream?: PageState; readonly isSecureContext: boolean };
declare const document: { getElementById(id: string): { readonly textContent: string | null; readonly hidden: boolean } | null };
/** As much of the browser's RTCPeerConnection as a bare WHEP player here uses. */
declare class RTCPeerConnection {
  readonly localDescription: { readonly sdp: string } | null;
  addTransceiver(kind: 'audio' | 'video', init: { direction: 'recvonly' }): unknown;
  createOffer(): Promise<{ type: 'offer'; sdp: string }>;
  setLocalDescription(description: { type: 'offer'; sdp: string }): Promise<void>;
  setRemoteDescription(description: { type: 'answer'; sdp: string }): Promise<void>;
  getStats(): Promise<{ forEach(visit: (report: { type: string; kind?: string; framesDecoded?: number }) => void): void }>;
  close(): void;
}

const TIMEOUT = 60_000;

/** A UDP port nobody uses at the moment (the server's one WebRTC port). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** The real server on any free port, streaming the test pattern in H.264 with WebRTC, logging nothing. */
async function start(): Promise<RunningServer> {
  const config = parseConfig(
    [
      ...['--source', 'test', '--codec', 'h264', '--host', '127.0.0.1', '--port', '0', '--allowed-hosts', INSECURE_HOST],
      ...['--webrtc-port', String(await freeUdpPort())],
    ],
    {},
  );
  return startServer(config, { logger: pino({ level: 'silent' }) });
}

const webRtcViewers = (server: RunningServer) => server.server.plugins['pistream-webrtc'].viewerCount();

/** The page plays through WebRTC: barcode advancing, pictures painted, capture times sane, the HUD naming the path. */
async function expectPlayingThroughWebRtc(page: Page): Promise<PageState> {
  await waitForFramesToAdvance(page, 24);
  await page.waitForFunction(() => window.pistream!.painted >= 48 && window.pistream!.latencies.length >= 24, undefined, {
    timeout: TIMEOUT,
  });
  const state = await pageState<PageState>(page);
  expect(state.status).toBe('live');
  expect(state.player).toBe('webrtc');
  expect(state.codec).toBe('h264');
  expect(state.webrtc).toMatchObject({ connectionState: 'connected', frameSource: 'rvfc', errors: [] });
  expect(state.webrtc!.session).toMatch(/\/whep\/[A-Za-z0-9_-]{22}$/);
  expectCaptureTimes(state.latencies.slice(-24), SPEC_STARTED_AT);
  await page.waitForFunction(() => /glass \d+ ms/.test(document.getElementById('stats')?.textContent ?? ''), undefined, {
    timeout: TIMEOUT,
  });
  expect(await text(page, 'path')).toBe('H.264 · WebRTC');
  return state;
}

describeBrowser('viewer page through WebRTC (WHEP) in Chromium', () => {
  let opened: ServerPage | undefined;
  let server: RunningServer | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    opened = await openServerPage(() => start(), { width: 1280, height: 720 }, [RESOLVE_INSECURE_HOST]);
    ({ server, page, pageErrors } = opened);
  }, TIMEOUT);

  afterAll(() => closeServerPage(opened), TIMEOUT);

  afterEach(() => {
    pageErrors.length = 0;
  });

  it(
    'at http://pistream.test (no secure context) the ladder takes WebRTC before MSE, and it plays',
    async () => {
      await page.goto(insecureUrl(server!));
      expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
      await expectPlayingThroughWebRtc(page);
      expect(webRtcViewers(server!)).toBe(1);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    '?player=webrtc plays at http://127.0.0.1 (a secure context, where the ladder takes WebCodecs); leaving frees the viewer',
    async () => {
      await page.goto(`${server!.url}?player=webrtc`);
      await expectPlayingThroughWebRtc(page);
      expect(webRtcViewers(server!)).toBe(1);
      // Leaving the page ends the session (DELETE), so its place is freed without waiting for ICE to time out.
      await page.goto('about:blank');
      await waitFor(() => webRtcViewers(server!) === 0, 'the WebRTC viewer to be freed', TIMEOUT);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    "a WHEP player that offers audio and video (most do) gets an answer Chromium takes, and the server's pictures",
    async () => {
      await page.goto(`${server!.url}/streams`);
      // A bare RTCPeerConnection, as a third-party WHEP player makes it: the audio section is refused (inactive).
      const seen = await page.evaluate(async (waitMs) => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('audio', { direction: 'recvonly' });
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const res = await fetch('/whep', {
          method: 'POST',
          headers: { 'content-type': 'application/sdp' },
          body: pc.localDescription!.sdp,
        });
        const answer = await res.text();
        const mLines = answer.split('\r\n').filter((line) => line.startsWith('m='));
        let error = '';
        await pc.setRemoteDescription({ type: 'answer', sdp: answer }).catch((err: unknown) => (error = String(err)));
        let framesDecoded = 0;
        for (const until = Date.now() + waitMs; !error && framesDecoded < 12 && Date.now() < until;) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          (await pc.getStats()).forEach((report: { type: string; kind?: string; framesDecoded?: number }) => {
            if (report.type === 'inbound-rtp' && report.kind === 'video') framesDecoded = report.framesDecoded ?? 0;
          });
        }
        await fetch(res.headers.get('location')!, { method: 'DELETE' });
        pc.close();
        return { status: res.status, error, mLines, framesDecoded };
      }, TIMEOUT / 2);
      expect(seen).toMatchObject({ status: 201, error: '' });
      // Every m= line names a format (one without is not SDP: Chromium refused the whole answer).
      expect(seen.mLines).toEqual([
        expect.stringMatching(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF \d+$/),
        expect.stringMatching(/^m=video \d+ UDP\/TLS\/RTP\/SAVPF \d+$/),
      ]);
      expect(seen.framesDecoded).toBeGreaterThanOrEqual(12);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );
});

describeBrowser('viewer page when WebRTC cannot connect (its UDP port held by another program)', () => {
  let opened: ServerPage | undefined;
  let page: Page;
  let pageErrors: string[] = [];
  const holder = createSocket('udp4');

  beforeAll(async () => {
    const port = await new Promise<number>((resolve) => holder.bind(0, () => resolve(holder.address().port)));
    const start = () =>
      startServer(
        parseConfig(
          [
            ...['--source', 'test', '--codec', 'h264', '--host', '127.0.0.1', '--port', '0', '--allowed-hosts', INSECURE_HOST],
            ...['--webrtc-port', String(port)],
          ],
          {},
        ),
        { logger: pino({ level: 'silent' }) },
      );
    opened = await openServerPage(start, { width: 1280, height: 720 }, [RESOLVE_INSECURE_HOST]);
    ({ page, pageErrors } = opened);
  }, TIMEOUT);

  afterAll(async () => {
    await closeServerPage(opened);
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }, TIMEOUT);

  it(
    'falls back to the next rung (MSE) before its first picture, keeping why',
    async () => {
      await page.goto(insecureUrl(opened!.server));
      await waitForFramesToAdvance(page, 24);
      const state = await pageState<PageState>(page);
      expect(state.player).toBe('mse');
      expect(state.status).toBe('live');
      expect(state.webrtc!.errors.length).toBeGreaterThan(0);
      expect(state.webrtc!.errors[0]).toMatch(/^Error: WHEP 503: /);
      expect(webRtcViewers(opened!.server)).toBe(0);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT,
  );
});
