import { Gauge, type Registry } from 'prom-client';
import type { PeerStats } from '../webrtc/peer-session';
import { addRunningTotal } from './running-total';
import { WHEP_NO_PICTURE_MS } from './whep-watch';

/** One WebRTC viewer as the metrics see it: a label that names it without giving its session away, and its stats. */
export interface MeasuredPeer {
  /** A number counted per endpoint (`"3"`): the session id would let a reader of /metrics end the session. */
  readonly viewer: string;
  stats(): PeerStats;
  /** Whether it has gone without pictures too long while the stream made them (`whep-watch.ts`). */
  withoutPictures(): boolean;
}

/** The WebRTC viewers now, and the totals of those that left. */
export interface MeasuredPeers {
  peers(): Iterable<MeasuredPeer>;
  departed(): { readonly keyframeRequests: number; readonly nackedPackets: number };
}

/** A gauge with one sample per live viewer, set at scrape time. */
function perViewer(registry: Registry, name: string, help: string, peers: MeasuredPeers, read: (stats: PeerStats) => number | undefined) {
  new Gauge({
    name,
    help,
    labelNames: ['viewer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const peer of peers.peers()) {
        const value = read(peer.stats());
        if (value !== undefined) this.set({ viewer: peer.viewer }, value);
      }
    },
  });
}

/**
 * The WebRTC viewers' metrics, read at scrape time: how many, each one's packet loss and round trip from its last
 * RTCP receiver report, and the keyframe requests (PLI/FIR) and NACKed packets over all of them, past and present.
 * @example
 * addWebRtcMetrics(core.reports.metrics, { peers: () => live, departed: () => totals });
 */
export function addWebRtcMetrics(registry: Registry, peers: MeasuredPeers): void {
  const sum = (key: 'keyframeRequests' | 'nackedPackets'): number => {
    let total = peers.departed()[key];
    for (const peer of peers.peers()) total += peer.stats()[key];
    return total;
  };
  new Gauge({
    name: 'pistream_webrtc_viewers',
    help: 'WebRTC (WHEP) viewers now (also counted in /healthz viewers)',
    registers: [registry],
    collect() {
      this.set([...peers.peers()].length);
    },
  });
  new Gauge({
    name: 'pistream_webrtc_viewers_without_pictures',
    help: `WebRTC viewers that have had no picture for ${WHEP_NO_PICTURE_MS / 1000} s while the stream made pictures (never connected, media not open, or held back)`,
    registers: [registry],
    collect() {
      this.set([...peers.peers()].filter((peer) => peer.withoutPictures()).length);
    },
  });
  perViewer(
    registry,
    'pistream_webrtc_viewer_packet_loss_ratio',
    "Share of RTP packets lost, from the viewer's last RTCP receiver report (0..1)",
    peers,
    (stats) => stats.fractionLost,
  );
  perViewer(
    registry,
    'pistream_webrtc_viewer_rtt_seconds',
    'Round trip to the viewer, from its last RTCP receiver report (LSR/DLSR)',
    peers,
    (stats) => (stats.rttMs === undefined ? undefined : stats.rttMs / 1000),
  );
  addRunningTotal(
    registry,
    { name: 'pistream_webrtc_keyframe_requests_total', help: 'Keyframe requests (RTCP PLI/FIR) from WebRTC viewers' },
    () => [[{}, sum('keyframeRequests')]],
  );
  addRunningTotal(
    registry,
    { name: 'pistream_webrtc_nacked_packets_total', help: 'RTP packets WebRTC viewers asked again for (RTCP NACK)' },
    () => [[{}, sum('nackedPackets')]],
  );
}
