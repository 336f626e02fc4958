import pino from 'pino';
import WebSocket from 'ws';
import { NEVER } from 'rxjs';
import { readBarcode } from '../../src/barcode';
import { parseConfig } from '../../src/config/command-line';
import { liveChildCount } from '../../src/process/child-process';
import { startServer, type RunningServer } from '../../src/server/start-server';
import { WHEP_NO_PICTURE_MS } from '../../src/server/whep-watch';
import { loadWebRtc, type WebRtcLibrary } from '../../src/webrtc/peer-session';
import { waitFor } from '../helpers/child-processes';
import { decodeH264Frames } from '../helpers/h264-streams';
import { depacketizeH264, receiver, startsKeyframe, type Receiver, type ReceiverOptions } from '../webrtc/rtp-receiver';
import { freeUdpPort, udpPortHolders } from '../webrtc/udp-port';

const W = 640;
const H = 480;
const TOKEN = 'whep-spec-token';
/** The server's GOP in pictures (`--gop`). */
const GOP = 12;

async function serve(flags: string[], options: Parameters<typeof startServer>[1] = {}): Promise<RunningServer> {
  const config = parseConfig(
    ['--codec', 'h264', '--source', 'test', '--host', '127.0.0.1', '--port', '0', '--gop', String(GOP), '--grace', '0', ...flags],
    {},
  );
  return startServer(config, { logger: pino({ level: 'silent' }), ...options });
}

describe('WHEP (POST /whep) against the real server, a node-datachannel receiver as the client', () => {
  let library: WebRtcLibrary;
  let running: RunningServer;
  let base: string;
  const receivers: Receiver[] = [];
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    const webrtc = loadWebRtc();
    if (!webrtc.ok) throw new Error(webrtc.reason);
    library = webrtc.library;
    const port = await freeUdpPort();
    running = await serve(['--webrtc-port', String(port), '--token', TOKEN, '--max-viewers-per-address', '2']);
    base = `http://127.0.0.1:${running.port}`;
  });

  afterEach(async () => {
    const closing = receivers.splice(0);
    for (const rx of closing) rx.close();
    await Promise.all(closing.map((rx) => rx.released));
  });

  afterAll(async () => {
    // The server ends its sessions and frees the library once every connection has closed.
    await running?.stop();
    expect(liveChildCount()).toBe(0);
  });

  const viewers = () => running.server.plugins['pistream-core'].reports.viewers();

  async function offer(name: string, options?: ReceiverOptions): Promise<Receiver> {
    const rx = await receiver(library, name, options);
    receivers.push(rx);
    return rx;
  }

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/whep`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth, ...headers }, body });

  it('says where the WHEP endpoint is (GET /streams)', async () => {
    const res = await fetch(`${base}/streams`, { headers: auth });
    expect((await res.json()) as object).toMatchObject({ webrtc: { path: '/whep' } });
  });

  it('answers 201 with the answer, a Location and an ETag; the pictures arrive whole, barcodes intact; DELETE frees the viewer', async () => {
    const rx = await offer('whep-a');
    const res = await post(rx.offer);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/sdp/);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/whep\/[A-Za-z0-9_-]{22}$/);
    expect(res.headers.get('etag')).toMatch(/^".+"$/);
    const answer = await res.text();
    expect(answer).toMatch(/^a=candidate:\S+ 1 UDP \d+ \S+ \d+ typ host$/m);
    expect(viewers()).toBe(1);

    rx.pc.setRemoteDescription(answer, 'answer');
    await rx.accessUnits(30);
    const nals = depacketizeH264(rx.packets);
    const stream = Buffer.concat(nals.flatMap((nal) => [Buffer.from([0, 0, 0, 1]), nal]));
    // The first unit is a keyframe with its SPS and PPS in front: a decoder starts at once.
    expect(nals.slice(0, 2).map((nal) => nal[0]! & 0x1f)).toEqual([7, 8]);
    const pictures = await decodeH264Frames(stream, W, H);
    expect(pictures.length).toBeGreaterThanOrEqual(30);
    const frames = pictures.map((y) => readBarcode((x, row) => y[row * W + x]!)?.frame);
    expect(frames.every((frame) => frame !== undefined)).toBe(true);
    frames.slice(1).forEach((frame, i) => expect(frame).toBeGreaterThan(frames[i]!));

    const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/^pistream_webrtc_viewers 1$/m);
    expect(metrics).toMatch(/^pistream_webrtc_keyframe_requests_total \d+$/m);
    expect(metrics).toMatch(/^pistream_webrtc_nacked_packets_total \d+$/m);

    const gone = await fetch(`${base}${location}`, { method: 'DELETE', headers: auth });
    expect(gone.status).toBe(200);
    expect(viewers()).toBe(0);
    expect((await fetch(`${base}${location}`, { method: 'DELETE', headers: auth })).status).toBe(404);
  });

  it('a keyframe request (PLI) from the peer is counted, and a keyframe follows within one GOP', async () => {
    const rx = await offer('whep-pli');
    const res = await post(rx.offer);
    expect(res.status).toBe(201);
    try {
      rx.pc.setRemoteDescription(await res.text(), 'answer');
      await rx.opened;
      await rx.accessUnits(GOP + 1);
      const requests = async (): Promise<number> =>
        Number(
          /^pistream_webrtc_keyframe_requests_total (\d+)$/m.exec(await (await fetch(`${base}/metrics`, { headers: auth })).text())![1],
        );
      const waits: number[] = [];
      // Three requests, each from wherever in the GOP it falls. (A FIR is read by the same code: rtcp.spec.ts. A
      // node-datachannel receiver can send a PLI only.)
      for (let i = 0; i < 3; i++) {
        const before = await requests();
        expect(rx.track.requestKeyframe()).toBe(true);
        // Pictures are counted from the moment the server has counted the request (as its metrics show).
        for (let deadline = Date.now() + 20_000; (await requests()) === before;) {
          if (Date.now() > deadline) throw new Error('the server never counted the keyframe request');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const from = rx.packets.length;
        await rx.accessUnits(rx.packets.filter((p) => p.marker).length + GOP + 1);
        // Pictures (RTP timestamps) that came before the first one with an IDR or SPS in it.
        const after = rx.packets.slice(from);
        const firstKey = after.find(startsKeyframe);
        expect(firstKey).toBeDefined();
        waits.push(new Set(after.slice(0, after.indexOf(firstKey!)).map((p) => p.timestamp)).size);
      }
      // The encoder's GOP is shared by every viewer, so no keyframe is forced: the next one is at most a GOP away.
      for (const wait of waits) expect(wait).toBeLessThan(GOP);
    } finally {
      await fetch(`${base}${res.headers.get('location')!}`, { method: 'DELETE', headers: auth });
    }
  });

  it('a lossy receiver report drops the peer to the next keyframe once: a peer that reports nothing more is not held', async () => {
    // libdatachannel's receiver reports only in answer to our sender reports, which go out with our packets: a peer
    // held until a clean report came got nothing for good (4 of 50 in the fan-out bench). This one reports once.
    const rx = await offer('whep-lossy', { reports: 'manual' });
    const res = await post(rx.offer);
    expect(res.status).toBe(201);
    try {
      rx.pc.setRemoteDescription(await res.text(), 'answer');
      await rx.accessUnits(3);
      expect(rx.sendReport(0.9)).toBe(true);
      const metrics = async (): Promise<string> => (await fetch(`${base}/metrics`, { headers: auth })).text();
      for (let deadline = Date.now() + 20_000; !/^pistream_webrtc_viewer_packet_loss_ratio\{[^}]*\} 0\.89/m.test(await metrics());) {
        if (Date.now() > deadline) throw new Error('the server never read the receiver report');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const from = rx.packets.length;
      const markers = rx.packets.filter((p) => p.marker).length;
      let timer: NodeJS.Timeout | undefined;
      const heldFor30s = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`held: ${rx.packets.length - from} packets in 30 s after the report`)), 30_000);
      });
      // Two GOPs more: the next keyframe and what follows it.
      await Promise.race([rx.accessUnits(markers + 2 * GOP), heldFor30s]).finally(() => clearTimeout(timer));
      expect(rx.packets.slice(from).some(startsKeyframe)).toBe(true);
    } finally {
      await fetch(`${base}${res.headers.get('location')!}`, { method: 'DELETE', headers: auth });
    }
  }, 60_000);

  it('ends the session, freeing its place, when the peer goes away without DELETE', async () => {
    const rx = await offer('whep-b');
    const res = await post(rx.offer);
    expect(res.status).toBe(201);
    rx.pc.setRemoteDescription(await res.text(), 'answer');
    await rx.accessUnits(1);
    expect(viewers()).toBe(1);
    rx.close();
    // A peer that leaves without DELETE: libdatachannel's connection closes when ICE consent lapses (about 30 s).
    await waitFor(() => viewers() === 0, 'the session to end with its connection', 45_000);
  }, 60_000);

  it('refuses with a reason, never 5xx: 415 for another type, 400 for garbage, 401 without the token', async () => {
    const rx = await offer('whep-c');
    const wrongType = await post(rx.offer, { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get('accept-post')).toBe('application/sdp');
    const garbage = await post('hello');
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).not.toBe('');
    const audioOnly = await post(rx.offer.replace(/m=video/, 'm=audio'));
    expect(audioOnly.status).toBe(400);
    const anonymous = await fetch(`${base}/whep`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: rx.offer });
    expect(anonymous.status).toBe(401);
    expect(viewers()).toBe(0);
  });

  it('answers PATCH 405 (no trickle ICE), OPTIONS with Accept-Post (no credentials needed), GET 405', async () => {
    const patch = await fetch(`${base}/whep/nosuchsession`, { method: 'PATCH', headers: auth, body: '' });
    expect(patch.status).toBe(404);
    const options = await fetch(`${base}/whep`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('accept-post')).toBe('application/sdp');
    expect((await fetch(`${base}/whep`, { headers: auth })).status).toBe(405);

    const rx = await offer('whep-d');
    const res = await post(rx.offer);
    const location = res.headers.get('location')!;
    expect((await fetch(`${base}${location}`, { method: 'PATCH', headers: auth, body: '' })).status).toBe(405);
    expect((await fetch(`${base}${location}`, { method: 'DELETE', headers: auth })).status).toBe(200);
  });

  it('counts WebRTC viewers in the per-address cap: 503 with Retry-After beyond it', async () => {
    const [a, b, c] = [await offer('whep-e'), await offer('whep-f'), await offer('whep-g')];
    const first = await post(a.offer);
    const second = await post(b.offer);
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await post(c.offer);
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await third.text()).toMatch(/too many viewers from your address/);
    expect(viewers()).toBe(2);
    for (const res of [first, second]) await fetch(`${base}${res.headers.get('location')!}`, { method: 'DELETE', headers: auth });
    expect(viewers()).toBe(0);
  });
  it('answers an offer POSTed the moment the last session ended (a page reloading): the shared port is taken again', async () => {
    // The server holds the port from its first answer on (holdSharedPort): a session's end never lets go of it.
    for (let round = 0; round < 5; round++) {
      const rx = await offer(`whep-reload-${round}`);
      const res = await post(rx.offer);
      expect(`${res.status} ${res.status === 201 ? '' : await res.text()}`).toBe('201 ');
      expect((await fetch(`${base}${res.headers.get('location')!}`, { method: 'DELETE', headers: auth })).status).toBe(200);
    }
    expect(viewers()).toBe(0);
  });
});

describe('WHEP without a stream', () => {
  it('answers 409 with Retry-After when no picture comes', async () => {
    const webrtc = loadWebRtc();
    if (!webrtc.ok) throw new Error(webrtc.reason);
    const running = await serve(['--webrtc-port', String(await freeUdpPort())], { source: NEVER });
    try {
      const rx = await receiver(webrtc.library, 'whep-409');
      try {
        const res = await fetch(`http://127.0.0.1:${running.port}/whep`, {
          method: 'POST',
          headers: { 'content-type': 'application/sdp' },
          body: rx.offer,
        });
        expect(res.status).toBe(409);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(running.server.plugins['pistream-core'].reports.viewers()).toBe(0);
      } finally {
        rx.close();
        await rx.released;
      }
    } finally {
      await running.stop();
    }
  }, 20_000);
});

describe('WHEP: a viewer without pictures is told to the operator', () => {
  it(
    'warns in the log and counts it in /metrics when a session never connects, and says so when it leaves',
    async () => {
      const webrtc = loadWebRtc();
      if (!webrtc.ok) throw new Error(webrtc.reason);
      const lines: { level: number; msg: string }[] = [];
      const logger = pino(
        { level: 'info' },
        { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) },
      );
      const running = await serve(['--webrtc-port', String(await freeUdpPort())], { logger });
      const base = `http://127.0.0.1:${running.port}`;
      const rx = await receiver(webrtc.library, 'whep-silent');
      try {
        const res = await fetch(`${base}/whep`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: rx.offer });
        expect(res.status).toBe(201);
        // The receiver never takes the answer: no ICE, no DTLS, no picture.
        const warned = () => lines.find((line) => /has had no picture/.test(line.msg));
        await waitFor(() => warned() !== undefined, 'the warning about the viewer without pictures', WHEP_NO_PICTURE_MS + 20_000);
        expect(warned()!.level).toBe(pino.levels.values.warn);
        expect(warned()!.msg).toMatch(
          /^viewer \/whep 127\.0\.0\.1 has had no picture for \d+ s since it joined: its connection is \w+, its media not open/,
        );
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toMatch(/^pistream_webrtc_viewers_without_pictures 1$/m);
        expect((await fetch(`${base}${res.headers.get('location')!}`, { method: 'DELETE' })).status).toBe(200);
        expect(lines.some((line) => /^viewer left \/whep 127\.0\.0\.1, it said goodbye \(DELETE\), without a picture/.test(line.msg))).toBe(
          true,
        );
        expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^pistream_webrtc_viewers_without_pictures 0$/m);
      } finally {
        rx.close();
        await rx.released;
        await running.stop();
      }
    },
    WHEP_NO_PICTURE_MS + 60_000,
  );
});

describe('WHEP: the shared UDP port and the child processes the server starts', () => {
  it('serves the next viewer after the last left, though a child started meanwhile (a transcoder) has a copy of the socket', async () => {
    // libjuice's socket is not close-on-exec: ffmpeg started while a session was open holds a copy. Were the port let
    // go with the last session, binding it again for the next would fail until that ffmpeg exits (a 503 "Failed to
    // gather local ICE candidates", the whep-fuzz spec's "still open" fault).
    const webrtc = loadWebRtc();
    if (!webrtc.ok) throw new Error(webrtc.reason);
    const port = await freeUdpPort();
    // Always on: the encoder runs before the session; the transcoder starts for the WebSocket viewer, during it.
    const running = await serve(['--webrtc-port', String(port), '--always-on']);
    const base = `http://127.0.0.1:${running.port}`;
    const post = async (rx: Receiver) =>
      fetch(`${base}/whep`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: rx.offer });
    const [a, b] = [await receiver(webrtc.library, 'whep-child-a'), await receiver(webrtc.library, 'whep-child-b')];
    let ws: WebSocket | undefined;
    try {
      const first = await post(a);
      expect(first.status).toBe(201);
      // The MPEG-1 transcoder (an ffmpeg) starts for this viewer, while the session is open.
      const stream = (ws = new WebSocket(`ws://127.0.0.1:${running.port}/stream`));
      await new Promise((resolve, reject) => stream.once('message', resolve).once('error', reject));
      expect((await fetch(`${base}${first.headers.get('location')!}`, { method: 'DELETE' })).status).toBe(200);
      await waitFor(() => running.server.plugins['pistream-webrtc'].viewerCount() === 0, 'the session to end');
      // The premise: a process other than this one (the transcoder) has the socket.
      expect(udpPortHolders(port).filter((pid) => pid !== process.pid).length).toBeGreaterThan(0);
      // Time for libjuice to let go of its socket after the last session, as it did before the server held the port
      // (no event says when; holding it, this process never lets go, and the wait runs out).
      await waitFor(() => !udpPortHolders(port).includes(process.pid), 'this process to let go of the port', 3000).catch(() => undefined);
      const second = await post(b);
      expect(`${second.status} ${second.status === 201 ? '' : await second.text()}`).toBe('201 ');
      b.pc.setRemoteDescription(await second.text(), 'answer');
      await b.accessUnits(3);
    } finally {
      ws?.close();
      for (const rx of [a, b]) rx.close();
      await Promise.all([a.released, b.released]);
      await running.stop();
    }
  }, 60_000);
});

describe('WHEP: viewers joining at once', () => {
  it('answers 8 offers POSTed at once on the one UDP port, and every viewer gets pictures', async () => {
    // The fan-out bench's shape (its 50 viewers in another process): every session on the shared socket, their ICE
    // checks and DTLS handshakes at the same time. (Its 4 of 50 without pictures had another cause, tested above: a
    // lossy receiver report that held the peer.)
    const webrtc = loadWebRtc();
    if (!webrtc.ok) throw new Error(webrtc.reason);
    const running = await serve(['--webrtc-port', String(await freeUdpPort()), '--max-viewers-per-address', '0']);
    const base = `http://127.0.0.1:${running.port}`;
    const rxs = await Promise.all(Array.from({ length: 8 }, (_, i) => receiver(webrtc.library, `whep-together-${i}`)));
    try {
      const answers = await Promise.all(
        rxs.map(async (rx) => {
          const res = await fetch(`${base}/whep`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: rx.offer });
          return `${res.status} ${await res.text()}`;
        }),
      );
      for (const answer of answers) expect(answer).toMatch(/^201 v=0/);
      rxs.forEach((rx, i) => rx.pc.setRemoteDescription(answers[i]!.slice(4), 'answer'));
      // Two GOPs each: the join burst, and live pictures after it.
      await Promise.all(rxs.map((rx) => rx.accessUnits(2 * GOP + 1)));
      expect(running.server.plugins['pistream-webrtc'].viewerCount()).toBe(8);
    } finally {
      for (const rx of rxs) rx.close();
      await Promise.all(rxs.map((rx) => rx.released));
      await running.stop();
    }
  }, 90_000);
});
