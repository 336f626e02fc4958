import { createSocket } from 'node:dgram';
import { NAL_TYPE, nalType, nalUnits } from '../../src/codecs/h264/nal';
import { chooseH264Answer, streamProfile, type H264AnswerChoice } from '../../src/webrtc/h264-answer';
import { cleanupWebRtc, loadWebRtc, PeerSession, type WebRtcLibrary } from '../../src/webrtc/peer-session';
import { holdSharedPort, sharedPortReleased, udpPortFree } from '../../src/webrtc/shared-port';
import { PLAYOUT_DELAY_URI } from '../../src/webrtc/playout-delay';
import { readSdpOffer } from '../../src/webrtc/sdp-offer';
import { x264Packets } from '../helpers/h264-streams';
import { depacketizeH264, receiver, type Receiver, type ReceiverOptions } from './rtp-receiver';
import { freeUdpPort } from './udp-port';

describe('loadWebRtc', () => {
  it('gives node-datachannel where it has a build', () => {
    const webrtc = loadWebRtc();
    expect(webrtc.ok && typeof webrtc.library.PeerConnection).toBe('function');
  });

  it('gives a one-line reason, never an exception, where loading fails', () => {
    const webrtc = loadWebRtc(() => {
      throw new Error('Unsupported platform/architecture: linux-arm\n    at Object.<anonymous> (index.cjs:1:1)');
    });
    expect(webrtc).toEqual({
      ok: false,
      reason: `WebRTC is not available on ${process.platform}/${process.arch}: Unsupported platform/architecture: linux-arm`,
    });
  });
});

describe('PeerSession over loopback (node-datachannel on both ends)', () => {
  const FPS = 24;
  let library: WebRtcLibrary;
  let units: Buffer[];
  const opened: { close(): void; released: Promise<void> }[] = [];
  const released: Promise<void>[] = [];

  beforeAll(async () => {
    const webrtc = loadWebRtc();
    if (!webrtc.ok) throw new Error(webrtc.reason);
    library = webrtc.library;
    // Two GOPs of a real libx264 stream, one access unit per element, SPS + PPS before each IDR.
    units = await x264Packets({ frames: 2 * 12, gop: 12, width: 320, height: 240, fps: FPS });
  });

  afterEach(() => {
    for (const thing of opened.splice(0)) {
      released.push(thing.released);
      thing.close();
    }
  });

  afterAll(async () => {
    // libdatachannel's threads keep the process alive until cleanup(), which must wait for every connection closed.
    await Promise.all(released);
    if (library) cleanupWebRtc(library);
  });

  async function connect(
    name: string,
    port: number,
    options: ReceiverOptions = {},
  ): Promise<{ peer: PeerSession; rx: Receiver; choice: H264AnswerChoice }> {
    const rx = await receiver(library, name, options);
    opened.push(rx);
    const offer = readSdpOffer(rx.offer);
    const stream = streamProfile(nalUnits(units[0]!).find((n) => nalType(n) === NAL_TYPE.sps)!);
    if (!offer.ok || !stream.ok) throw new Error('offer or SPS unreadable');
    const choice = chooseH264Answer(offer.value, stream.value);
    if (!choice.ok) throw new Error(choice.reason);
    const peer = await PeerSession.answer(library, rx.offer, choice.value, { port });
    opened.push(peer);
    const open = new Promise<void>((resolve) => peer.onOpen(resolve));
    rx.pc.setRemoteDescription(peer.answerSdp, 'answer');
    await open;
    return { peer, rx, choice: choice.value };
  }

  it('sends the access units as RTP to two peers that share one UDP port', async () => {
    const port = await freeUdpPort();
    const a = await connect('receiver-a', port);
    const b = await connect('receiver-b', port);
    for (const { peer } of [a, b]) {
      const candidates = peer.answerSdp.split('\r\n').filter((line) => line.startsWith('a=candidate:'));
      expect(candidates.length).toBeGreaterThan(0);
      for (const candidate of candidates) expect(candidate).toMatch(new RegExp(`^a=candidate:\\S+ 1 UDP \\d+ \\S+ ${port} typ host$`));
    }
    expect(a.peer.answerSdp).toContain(`a=fmtp:${a.choice.payloadType} ${a.choice.fmtp}`);
    expect(await udpPortFree(port)).toBe(false);

    // Sent from the second unit on: a peer must skip it, since a decoder can only start at the keyframe.
    expect(a.peer.sendAccessUnit(units[1]!, 1000)).toBe(false);
    units.forEach((unit, i) => {
      for (const { peer } of [a, b]) expect(peer.sendAccessUnit(unit, 5000 + (i * 1000) / FPS)).toBe(true);
    });
    await Promise.all([a.rx.accessUnits(units.length), b.rx.accessUnits(units.length)]);

    const sentNals = units.flatMap((unit) => nalUnits(unit));
    for (const { rx, choice, peer } of [a, b]) {
      expect(depacketizeH264(rx.packets).map((n) => n.toString('hex'))).toEqual(sentNals.map((n) => n.toString('hex')));
      expect(new Set(rx.packets.map((p) => p.payloadType))).toEqual(new Set([choice.payloadType]));
      expect(new Set(rx.packets.map((p) => p.ssrc)).size).toBe(1);
      // One RTP timestamp per access unit, 90 kHz / 24 fps apart.
      const stamps = [...new Set(rx.packets.map((p) => p.timestamp))];
      expect(stamps).toHaveLength(units.length);
      expect(stamps.slice(1).map((t, i) => (t - stamps[i]! + 2 ** 32) % 2 ** 32)).toEqual(Array(units.length - 1).fill(3750));
      expect(peer.stats()).toMatchObject({
        state: 'connected',
        accessUnitsSent: units.length,
        bytesSent: units.reduce((n, u) => n + u.length, 0),
        keyframeRequests: 0,
      });
    }
  });

  it('asks the receiver to render at once (playout delay min 0, max 0) on every packet when its offer has the extension', async () => {
    const port = await freeUdpPort();
    const id = 5;
    const withIt = await connect('receiver-delay', port, { extmaps: [`a=extmap:${id} ${PLAYOUT_DELAY_URI}`] });
    const without = await connect('receiver-plain', port);
    expect(withIt.peer.answerSdp).toContain(`a=extmap:${id} ${PLAYOUT_DELAY_URI}`);
    expect(without.peer.answerSdp).not.toContain(PLAYOUT_DELAY_URI);
    units.forEach((unit, i) => {
      for (const { peer } of [withIt, without]) peer.sendAccessUnit(unit, 5000 + (i * 1000) / FPS);
    });
    await Promise.all([withIt.rx.accessUnits(units.length), without.rx.accessUnits(units.length)]);
    // 12 bits of min then 12 of max, in 10 ms units: 0 and 0 (libdatachannel's offer is not Firefox's).
    expect(new Set(withIt.rx.packets.map((p) => p.extensions.get(id)?.toString('hex')))).toEqual(new Set(['000000']));
    expect(without.rx.packets.every((p) => p.extensions.size === 0)).toBe(true);
  });

  it('reports keyframe requests (PLI) from the peer', async () => {
    const { peer, rx } = await connect('receiver-pli', await freeUdpPort());
    const requested = new Promise<void>((resolve) => peer.onKeyframeRequest(resolve));
    // Asking before the receiving track is open would throw inside libdatachannel and abort the process.
    await rx.opened;
    expect(rx.track.requestKeyframe()).toBe(true);
    await requested;
    expect(peer.stats().keyframeRequests).toBe(1);
  });

  it("reads the round trip and loss from the receiver's reports", async () => {
    const { peer } = await connect('receiver-rr', await freeUdpPort());
    // At the stream's own rate, as a camera sends, until the receiver has answered one of our sender reports (about
    // one a second of stream time); a machine too busy to get there fails by the test's timeout, not a count.
    for (let i = 0; peer.stats().rttMs === undefined && peer.stats().state !== 'closed'; i++) {
      peer.sendAccessUnit(units[i % units.length]!, (i * 1000) / FPS);
      await new Promise((resolve) => setTimeout(resolve, 1000 / FPS));
    }
    // What the mechanism guarantees is that these come from the receiver's report: a round trip, and loss as a
    // fraction and a count. How much a loaded machine's loopback UDP drops (it has dropped a third) is not ours.
    const stats = peer.stats();
    expect(stats.rttMs).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(stats.rttMs)).toBe(true);
    expect(stats.fractionLost).toBeGreaterThanOrEqual(0);
    expect(stats.fractionLost).toBeLessThanOrEqual(1);
    expect(Number.isInteger(stats.packetsLost)).toBe(true);
    expect(stats.packetsLost).toBeGreaterThanOrEqual(0);
  });

  it('frees the shared UDP port when the last session closes, and says it closed', async () => {
    const port = await freeUdpPort();
    const a = await connect('receiver-c', port);
    const b = await connect('receiver-d', port);
    const closed = jest.fn();
    a.peer.onClosed(closed);
    a.peer.close();
    expect(closed).toHaveBeenCalledWith('closed');
    expect(a.peer.sendAccessUnit(units[0]!, 0)).toBe(false);
    expect(a.peer.stats().state).toBe('closed');
    expect(await udpPortFree(port)).toBe(false); // b still uses it
    b.peer.close();
    // Let go on libdatachannel's thread some time after the last connection closed, and nobody is told.
    expect(await sharedPortReleased(port, 5000)).toBe(true);
  });

  it('holds the shared port past the last session (holdSharedPort), and lets go of it when closed', async () => {
    const port = await freeUdpPort();
    const hold = await holdSharedPort(library, port);
    opened.push(hold);
    expect(hold.held).toBe(true);
    const a = await connect('receiver-h', port);
    a.peer.close();
    await a.peer.released;
    // libjuice's socket stays open with the hold: the next session joins it rather than binding the port again.
    expect(await udpPortFree(port)).toBe(false);
    const b = await connect('receiver-i', port);
    expect(b.peer.open).toBe(true);
    b.peer.close();
    hold.close();
    expect(hold.held).toBe(false);
    await hold.released;
    expect(await sharedPortReleased(port, 5000)).toBe(true);
  });

  it('a hold renews its connection (libjuice gives up on an idle one after about 40 s) without ever letting go of the port', async () => {
    const port = await freeUdpPort();
    const hold = await holdSharedPort(library, port, { renewMs: 100 });
    opened.push(hold);
    // Each renewal joins the socket before the connection it replaces lets go: never a moment with the port free.
    for (let look = 0; look < 20; look++) {
      expect(await udpPortFree(port)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(hold.held).toBe(true);
    const a = await connect('receiver-j', port);
    expect(a.peer.open).toBe(true);
    a.peer.close();
    hold.close();
    await hold.released;
    expect(await sharedPortReleased(port, 5000)).toBe(true);
  });

  it('a hold rejects, having closed what it opened, when the port is taken by another program', async () => {
    const socket = createSocket('udp4');
    const port = await new Promise<number>((resolve) => socket.bind(0, () => resolve(socket.address().port)));
    try {
      await expect(holdSharedPort(library, port)).rejects.toThrow(new RegExp(`UDP port ${port} cannot be bound: .*gather`, 'i'));
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });

  it('rejects, having closed what it opened, when the port is taken by another program', async () => {
    const socket = createSocket('udp4');
    const port = await new Promise<number>((resolve) => socket.bind(0, () => resolve(socket.address().port)));
    try {
      const rx = await receiver(library, 'receiver-e');
      opened.push(rx);
      const offer = readSdpOffer(rx.offer);
      const stream = streamProfile(nalUnits(units[0]!).find((n) => nalType(n) === NAL_TYPE.sps)!);
      if (!offer.ok || !stream.ok) throw new Error('offer or SPS unreadable');
      const choice = chooseH264Answer(offer.value, stream.value);
      if (!choice.ok) throw new Error(choice.reason);
      await expect(PeerSession.answer(library, rx.offer, choice.value, { port })).rejects.toThrow(/ICE|candidates|gather/i);
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });
});
