// The WebRTC fan-out bench's viewers (bench/webrtc-fanout.ts), in a process of their own so that their CPU (DTLS,
// SRTP decryption, ICE for every peer) is not counted as the server's: N receive-only node-datachannel peers pulled
// over WHEP, each counting the pictures (RTP packets with the marker bit: ends of access units) it receives.
// Driven over IPC: { join: n } → { joined, failed }, { window: 'start' | 'stop' } → { counts, seconds, silent },
// { leave } → exit. `silent`: how each viewer that got no picture in the window stands (its connection, ICE, track).
// Known of these receivers (libdatachannel 0.24's RtcpReceivingSession): a receiver report goes out only in answer to
// the server's sender report, and when the first RTP sequence number is below 3000 the first report counts every
// number below it as lost (e.g. 93 % for a first number of 2437): the server then drops that viewer to the next
// keyframe once, at its join, before the window.
import nodeDataChannel, { type PeerConnection, type Track } from 'node-datachannel';
import { addTrack, cleanupWebRtc } from '../src/webrtc/peer-session';

interface Viewer {
  readonly pc: PeerConnection;
  readonly track: Track;
  location?: string;
  pictures: number;
}

const endpoint = process.argv[2]!;
const viewers: Viewer[] = [];
const failures: string[] = [];

/** A recvonly peer whose offer (without candidates: the server learns ours from its checks) is ready to POST. */
async function offerer(name: string): Promise<{ viewer: Viewer; offer: string }> {
  const pc = new nodeDataChannel.PeerConnection(name, { iceServers: [] });
  const video = new nodeDataChannel.Video('0', 'RecvOnly');
  video.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
  const track = addTrack(pc, video);
  // Receiver reports, as a browser sends them (the server reads loss and RTT from them).
  track.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
  const viewer: Viewer = { pc, track, pictures: 0 };
  track.onMessage((message) => {
    const packet = message as Buffer;
    // RTP (not RTCP: 200–207 in the second byte with the marker bit) with the marker bit: the last of a picture.
    if (packet.length > 12 && packet[1]! & 0x80 && (packet[1]! < 200 || packet[1]! > 207)) viewer.pictures++;
  });
  pc.setLocalDescription();
  await new Promise<void>((resolve) => {
    if (pc.gatheringState() === 'complete') resolve();
    pc.onGatheringStateChange((state) => state === 'complete' && resolve());
  });
  return { viewer, offer: pc.localDescription()!.sdp.replace(/^a=candidate:.*\r?\n/gm, '') };
}

async function join(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { viewer, offer } = await offerer(`bench-viewer-${viewers.length}`);
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
    if (res.status !== 201) {
      failures.push(`${res.status} ${await res.text()}`);
      viewer.pc.close();
      continue;
    }
    viewer.location = new URL(res.headers.get('location')!, endpoint).href;
    viewer.pc.setRemoteDescription(await res.text(), 'answer');
    viewers.push(viewer);
  }
}

let windowStart = 0n;
const counts0: number[] = [];

process.on('message', (message: { join?: number; window?: 'start' | 'stop'; leave?: true }) => {
  void (async () => {
    if (message.join !== undefined) {
      await join(message.join);
      process.send!({ joined: viewers.length, failed: failures.splice(0) });
    } else if (message.window === 'start') {
      windowStart = process.hrtime.bigint();
      counts0.splice(0, counts0.length, ...viewers.map((v) => v.pictures));
      process.send!({ started: true });
    } else if (message.window === 'stop') {
      const seconds = Number(process.hrtime.bigint() - windowStart) / 1e9;
      const counts = viewers.map((v, i) => v.pictures - (counts0[i] ?? 0));
      const silent = viewers
        .filter((_v, i) => counts[i] === 0)
        .map((v) => `${v.pc.state()}/ICE ${v.pc.iceState()}/track ${v.track.isOpen() ? 'open' : 'not open'}`);
      process.send!({ counts, seconds, silent });
    } else if (message.leave) {
      const joined = viewers.filter((v) => v.location !== undefined);
      await Promise.all(joined.map((v) => fetch(v.location!, { method: 'DELETE' }).catch(() => undefined)));
      for (const v of viewers) v.pc.close();
      // libdatachannel's threads keep the process up until cleanup(), which must wait for the connections to close.
      setTimeout(() => {
        cleanupWebRtc(nodeDataChannel);
        process.exit(0);
      }, 1000);
    }
  })();
});
process.send!({ ready: true });
