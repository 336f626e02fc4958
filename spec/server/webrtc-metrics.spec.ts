import { Registry } from 'prom-client';
import { addWebRtcMetrics, type MeasuredPeer } from '../../src/server/webrtc-metrics';
import type { PeerStats } from '../../src/webrtc/peer-session';

const stats = (over: Partial<PeerStats>): PeerStats => ({
  state: 'connected',
  mediaOpen: true,
  accessUnitsSent: 0,
  audioPacketsSent: 0,
  bytesSent: 0,
  keyframeRequests: 0,
  nackedPackets: 0,
  ...over,
});

describe('addWebRtcMetrics', () => {
  it('reports the viewers, the loss and round trip of each once a report said them, and totals over past and present', async () => {
    const registry = new Registry();
    let live: MeasuredPeer[] = [
      {
        viewer: '1',
        stats: () => stats({ fractionLost: 0.25, rttMs: 12, keyframeRequests: 2, nackedPackets: 5 }),
        withoutPictures: () => false,
      },
      { viewer: '2', stats: () => stats({ keyframeRequests: 1, mediaOpen: false }), withoutPictures: () => true },
    ];
    const departed = { keyframeRequests: 3, nackedPackets: 1 };
    addWebRtcMetrics(registry, { peers: () => live, departed: () => departed });
    const text = await registry.metrics();
    expect(text).toMatch(/^pistream_webrtc_viewers 2$/m);
    expect(text).toMatch(/^pistream_webrtc_viewers_without_pictures 1$/m);
    expect(text).toMatch(/^pistream_webrtc_viewer_packet_loss_ratio\{viewer="1"\} 0\.25$/m);
    expect(text).toMatch(/^pistream_webrtc_viewer_rtt_seconds\{viewer="1"\} 0\.012$/m);
    // No receiver report yet: no sample, rather than a made-up 0.
    expect(text).not.toMatch(/viewer="2"/);
    expect(text).toMatch(/^pistream_webrtc_keyframe_requests_total 6$/m);
    expect(text).toMatch(/^pistream_webrtc_nacked_packets_total 6$/m);

    // Viewer 1 leaves, its counts going to the departed totals: no sample of its own, the totals do not go back.
    live = [live[1]!];
    departed.keyframeRequests += 2;
    departed.nackedPackets += 5;
    const after = await registry.metrics();
    expect(after).toMatch(/^pistream_webrtc_viewers 1$/m);
    expect(after).toMatch(/^pistream_webrtc_viewers_without_pictures 1$/m);
    expect(after).not.toMatch(/viewer="1"/);
    expect(after).toMatch(/^pistream_webrtc_keyframe_requests_total 6$/m);
  });
});
