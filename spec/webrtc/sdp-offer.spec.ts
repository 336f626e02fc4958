import { expandFeedbackWildcards, MAX_OFFER_BYTES, readSdpOffer, type SdpOffer } from '../../src/webrtc/sdp-offer';
import { chromiumOffer, offer } from './offers';

function read(text: string): SdpOffer {
  const result = readSdpOffer(text);
  if (!result.ok) throw new Error(`unexpected rejection: ${result.reason}`);
  return result.value;
}

describe('readSdpOffer', () => {
  it('reads what answering needs from a Chromium offer', () => {
    const parsed = read(chromiumOffer);
    expect(parsed.bundle).toEqual(['0']);
    expect(parsed.hasIceCredentials).toBe(true);
    expect(parsed.hasFingerprint).toBe(true);
    expect(parsed.media).toHaveLength(1);
    const video = parsed.media[0]!;
    expect(video).toMatchObject({ kind: 'video', mid: '0', direction: 'recvonly', port: 9, protocol: 'UDP/TLS/RTP/SAVPF' });
    const h264 = video.formats.filter((f) => f.codec === 'H264');
    expect(h264.slice(0, 5).map((f) => f.payloadType)).toEqual([102, 104, 108, 114, 116]);
    const pt108 = video.formats.find((f) => f.payloadType === 108)!;
    expect(pt108).toEqual({
      payloadType: 108,
      codec: 'H264',
      clockRate: 90000,
      fmtp: { 'level-asymmetry-allowed': '1', 'packetization-mode': '1', 'profile-level-id': '42e01f' },
      rtcpFb: ['goog-remb', 'transport-cc', 'ccm fir', 'nack', 'nack pli'],
    });
    expect(video.extensions).toContainEqual({ id: 5, uri: 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay' });
  });

  it("keeps the offer's order of payload types, and leaves out those without an rtpmap", () => {
    const video = read(offer()).media[1]!;
    expect(video.formats.map((f) => f.payloadType)).toEqual([126]);
    expect(video.formats[0]!.rtcpFb).toEqual(['ccm fir', 'nack', 'nack pli']);
  });

  it("reads the origin line's user name, which names the offering stack", () => {
    expect(read(offer()).originUser).toBe('mozilla...THIS_IS_SDPARTA-99.0');
    expect(read(chromiumOffer).originUser).toBe('-');
  });

  it('takes the session-level direction and ICE credentials where a section has none', () => {
    const text = [
      'v=0',
      'o=- 1 1 IN IP4 0.0.0.0',
      's=-',
      't=0 0',
      'a=sendonly',
      'a=ice-ufrag:x',
      'a=ice-pwd:y',
      `a=fingerprint:sha-1 ${Array(20).fill('0f').join(':')}`,
      'm=video 9 RTP/SAVPF 96',
      'a=mid:v',
      'a=rtpmap:96 H264/90000',
      '',
    ].join('\n');
    const parsed = read(text);
    expect(parsed.media[0]!.direction).toBe('sendonly');
    expect(parsed.hasIceCredentials).toBe(true);
    expect(parsed.hasFingerprint).toBe(true);
  });

  it('says ICE credentials are missing when one section has none and the session neither', () => {
    const text = offer().replace('a=mid:1\r\na=ice-ufrag:u1', 'a=mid:1');
    expect(read(text).hasIceCredentials).toBe(false);
  });

  it.each([
    ['an empty body', '', 'the offer is empty'],
    ['a word', 'hello', 'the offer is not an SDP body (it must start with v=0)'],
    ['a session without media', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n', 'the offer has no media section'],
    ['a media line without a port', 'v=0\r\nm=video x RTP/SAVPF 96\r\n', 'the offer has a malformed media line: "m=video x RTP/SAVPF 96"'],
    ['a line without =', 'v=0\r\nnot a line\r\n', 'the offer has a line that is not type=value: "not a line"'],
    ['a body over the limit', 'v=0\r\n' + 'a=x\r\n'.repeat(MAX_OFFER_BYTES / 4), `the offer is larger than ${MAX_OFFER_BYTES} bytes`],
  ])('refuses %s with a reason', (_label, text, reason) => {
    expect(readSdpOffer(text)).toEqual({ ok: false, reason });
  });
});

describe('expandFeedbackWildcards (libdatachannel refuses a=rtcp-fb:*, RFC 4585 allows it)', () => {
  it('writes a wildcard once for each payload type of its own section, and keeps every other line', () => {
    const text = [
      'v=0',
      'a=rtcp-fb:* nack',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=rtcp-fb:* transport-cc',
      'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
      'a=rtcp-fb:*   ccm fir  ',
      'a=rtcp-fb:96 nack',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'a=rtcp-fb:* nack',
      '',
    ].join('\r\n');
    expect(expandFeedbackWildcards(text).split('\r\n')).toEqual([
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=rtcp-fb:111 transport-cc',
      'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
      'a=rtcp-fb:96 ccm fir',
      'a=rtcp-fb:97 ccm fir',
      'a=rtcp-fb:96 nack',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      '',
    ]);
  });

  it('leaves an offer without wildcards as it was, byte for byte, whatever its line ends', () => {
    expect(expandFeedbackWildcards(chromiumOffer)).toBe(chromiumOffer);
    const lf = chromiumOffer.replace(/\r\n/g, '\n');
    expect(expandFeedbackWildcards(lf)).toBe(lf);
  });

  it('reads the same formats and feedback before and after', () => {
    const before = read(offer());
    expect(offer()).toContain('a=rtcp-fb:* ccm fir');
    expect(read(expandFeedbackWildcards(offer()))).toEqual(before);
  });
});
