import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** An offer Chromium 156 made for one recvonly video transceiver (recorded with the WebRTC spike's page). */
export const chromiumOffer = readFileSync(join(__dirname, '../fixtures/webrtc/chromium-156-offer.sdp'), 'utf8');

/** Firefox's one H.264 format. */
export const FIREFOX_H264 = [
  'a=rtpmap:126 H264/90000',
  'a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1',
];

/**
 * A small offer in the shape Firefox and WHEP players send: audio (mid 0) + video (mid 1), both recvonly, bundled,
 * with these H.264 lines in its video section in its video section and these session-level lines.
 */
export function offer(video: readonly string[] = FIREFOX_H264, extra: readonly string[] = []): string {
  return [
    'v=0',
    'o=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0',
    's=-',
    't=0 0',
    `a=fingerprint:sha-256 ${Array(32).fill('AB').join(':')}`,
    'a=group:BUNDLE 0 1',
    'a=ice-options:trickle',
    ...extra,
    'm=audio 9 UDP/TLS/RTP/SAVPF 109',
    'c=IN IP4 0.0.0.0',
    'a=recvonly',
    'a=mid:0',
    'a=ice-ufrag:u1',
    'a=ice-pwd:p1',
    'a=rtpmap:109 opus/48000/2',
    'm=video 9 UDP/TLS/RTP/SAVPF 126 97',
    'c=IN IP4 0.0.0.0',
    'a=recvonly',
    'a=mid:1',
    'a=ice-ufrag:u1',
    'a=ice-pwd:p1',
    'a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
    'a=rtcp-fb:* ccm fir',
    'a=rtcp-fb:126 nack',
    'a=rtcp-fb:126 nack pli',
    ...video,
    '',
  ].join('\r\n');
}
