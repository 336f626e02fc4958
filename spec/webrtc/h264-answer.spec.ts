import fc from 'fast-check';
import { NAL_TYPE, nalType, nalUnits } from '../../src/codecs/h264/nal';
import { opus } from '../../src/audio/opus';
import { chooseH264Answer, h264ProfileName, streamProfile, type StreamProfile } from '../../src/webrtc/h264-answer';
import { readSdpOffer, type SdpOffer } from '../../src/webrtc/sdp-offer';
import { x264Stream } from '../helpers/h264-streams';
import { chromiumOffer, offer } from './offers';

/** A stream profile as an SPS with this profile-level-id would give it. */
function profile(plid: string): StreamProfile {
  const [idc, flags, level] = [0, 2, 4].map((i) => parseInt(plid.slice(i, i + 2), 16)) as [number, number, number];
  return { profile: h264ProfileName(idc, flags), levelIdc: level, profileLevelId: plid, level1b: false };
}

function read(text: string): SdpOffer {
  const result = readSdpOffer(text);
  if (!result.ok) throw new Error(result.reason);
  return result.value;
}

const NO_ICE = 'the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)';
const NO_FINGERPRINT = 'the offer has no well-formed DTLS fingerprint (a=fingerprint: a hash and its digest)';
const h264 = (pt: number, fmtp: string): string[] => [`a=rtpmap:${pt} H264/90000`, `a=fmtp:${pt} ${fmtp}`];

describe('h264ProfileName', () => {
  it.each([
    [0x42, 0xe0, 'constrained-baseline'],
    [0x42, 0xc0, 'constrained-baseline'],
    [0x42, 0x40, 'constrained-baseline'],
    [0x42, 0x00, 'baseline'],
    [0x42, 0x80, 'baseline'],
    [0x4d, 0x80, 'constrained-baseline'],
    [0x4d, 0x00, 'main'],
    [0x4d, 0x40, 'main'],
    [0x58, 0xc0, 'constrained-baseline'],
    [0x58, 0x80, 'baseline'],
    [0x58, 0x00, 'extended'],
    [0x64, 0x00, 'high'],
    [0x64, 0x0c, 'constrained-high'],
    [0x7a, 0x00, 'idc-122'],
  ])('profile_idc %i with constraint flags %i is %s', (idc, flags, name) => {
    expect(h264ProfileName(idc, flags)).toBe(name);
  });
});

describe('streamProfile', () => {
  // ultrafast turns CABAC and 8x8 transforms off, and libx264 then writes the least profile the stream needs.
  const firstSps = async (profileName: string, tools: string): Promise<Buffer> =>
    nalUnits(await x264Stream({ frames: 1, profile: profileName, extra: ['-x264-params', tools] })).find(
      (n) => nalType(n) === NAL_TYPE.sps,
    )!;

  it.each([
    ['baseline', 'cabac=0', 'constrained-baseline', /^42c0/],
    ['main', 'cabac=1', 'main', /^4d40/],
    ['high', 'cabac=1:8x8dct=1', 'high', /^6400/],
  ])('reads a libx264 %s SPS (%s) as %s', async (x264Profile, tools, name, plid) => {
    const read = streamProfile(await firstSps(x264Profile, tools));
    expect(read).toMatchObject({ ok: true, value: { profile: name, levelIdc: 13 } });
    if (read.ok) expect(read.value.profileLevelId).toMatch(plid);
  });

  it('refuses what is no SPS, with a reason', () => {
    expect(streamProfile(Buffer.from([0x68, 0xce, 0x38, 0x80]))).toEqual({
      ok: false,
      reason: "the stream's SPS cannot be read: not an SPS NAL unit (type 8)",
    });
  });
});

describe('chooseH264Answer', () => {
  it('answers a Chromium offer for a constrained-baseline stream on its 42e01f payload type', () => {
    expect(chooseH264Answer(read(chromiumOffer), profile('42c01e'))).toEqual({
      ok: true,
      value: {
        mid: '0',
        payloadType: 108,
        fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01e',
        profileLevelId: '42c01e',
        rtcpFb: ['goog-remb', 'transport-cc', 'ccm fir', 'nack', 'nack pli'],
        playoutDelayExtensionId: 5,
        // Render at once (playout-delay.ts): Chromium timed pictures by its arrival estimate with max 10 ms.
        playoutDelay: { min: 0, max: 0 },
        refused: [],
      },
    });
  });

  it("answers a Chromium offer for a main stream on its 4d001f payload type, and refuses a high one (Debian's Chromium offers no 64)", () => {
    const chromium = read(chromiumOffer);
    expect(chooseH264Answer(chromium, profile('4d401f'))).toMatchObject({ ok: true, value: { payloadType: 116 } });
    expect(chooseH264Answer(chromium, profile('640028'))).toEqual({
      ok: false,
      reason:
        "the offer's H.264 (profile-level-id 42001f, 42e01f, 4d001f, f4001f) cannot take the stream's profile high, profile-level-id 640028",
    });
  });

  it('answers the video section of an audio + video offer and refuses the audio', () => {
    const choice = chooseH264Answer(read(offer()), profile('42c01e'));
    expect(choice).toMatchObject({
      ok: true,
      value: {
        mid: '1',
        payloadType: 126,
        playoutDelayExtensionId: 3,
        // The offer is Firefox's (o=mozilla...THIS_IS_SDPARTA): it froze on 0/0, so max 10 ms.
        playoutDelay: { min: 0, max: 1 },
        // With a format of its own to name: an m= line without one is not SDP, and Chromium refuses the answer.
        refused: [{ mid: '0', kind: 'audio', format: { payloadType: 109, rtpmap: 'opus/48000/2' } }],
      },
    });
    // With its first offered format: Chromium cannot parse an answer's media line without one.
    if (choice.ok) expect(choice.value.refused[0]?.format).toEqual({ payloadType: 109, rtpmap: 'opus/48000/2' });
  });

  it('with sound, answers a receiving bundled audio section that offers opus/48000/2 on its payload type', () => {
    const choice = chooseH264Answer(read(offer()), profile('42c01e'), opus.rtp);
    expect(choice).toMatchObject({ ok: true, value: { mid: '1', audio: { mid: '0', payloadType: 109 }, refused: [] } });
    if (choice.ok) expect(choice.value.audio?.fmtp).toMatch(/minptime=10/);
  });

  it.each([
    ['sends only', (text: string) => text.replace('a=recvonly\r\na=mid:0', 'a=sendonly\r\na=mid:0')],
    ['is turned off (port 0)', (text: string) => text.replace('m=audio 9 ', 'm=audio 0 ')],
    ['is not bundled', (text: string) => text.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 1')],
    ['offers no Opus', (text: string) => text.replace('a=rtpmap:109 opus/48000/2', 'a=rtpmap:109 PCMU/8000')],
    ['offers Opus at another clock', (text: string) => text.replace('a=rtpmap:109 opus/48000/2', 'a=rtpmap:109 opus/16000/2')],
  ])('with sound, refuses (inactive) an audio section that %s, and answers the video', (_why, change) => {
    const choice = chooseH264Answer(read(change(offer())), profile('42c01e'), opus.rtp);
    expect(choice.ok).toBe(true);
    if (!choice.ok) return;
    expect(choice.value.audio).toBeUndefined();
    expect(choice.value.mid).toBe('1');
  });

  it("names a refused section's first offered format as its a=rtpmap says it, else none", () => {
    const sections = [
      'm=audio 9 UDP/TLS/RTP/SAVPF 0 111',
      'a=mid:a',
      'a=ice-ufrag:u1',
      'a=ice-pwd:p1',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:111 opus/48000/2',
      'm=audio 9 UDP/TLS/RTP/SAVPF 8',
      'a=mid:b',
      'a=ice-ufrag:u1',
      'a=ice-pwd:p1',
      'a=rtpmap:8 PCMA/8000',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=mid:c',
      'a=ice-ufrag:u1',
      'a=ice-pwd:p1',
    ];
    const text = offer()
      .replace('m=audio 9', `${sections.join('\r\n')}\r\nm=audio 9`)
      .replace('BUNDLE 0 1', 'BUNDLE a b c 0 1');
    const choice = chooseH264Answer(read(text), profile('42c01e'));
    expect(choice.ok ? choice.value.refused : choice.reason).toEqual([
      { mid: 'a', kind: 'audio', format: { payloadType: 0, rtpmap: 'PCMU/8000' } },
      { mid: 'b', kind: 'audio', format: { payloadType: 8, rtpmap: 'PCMA/8000' } },
      { mid: 'c', kind: 'video' },
      { mid: '0', kind: 'audio', format: { payloadType: 109, rtpmap: 'opus/48000/2' } },
    ]);
  });

  it('prefers a payload type whose level covers the stream, then one that allows level asymmetry', () => {
    const both = offer(
      [
        ...h264(96, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'),
        ...h264(98, 'packetization-mode=1;profile-level-id=42e028'),
      ].concat('a=rtcp-fb:98 nack'),
    );
    expect(chooseH264Answer(read(both.replace('126 97', '96 98')), profile('42c028'))).toMatchObject({
      ok: true,
      value: { payloadType: 98 },
    });
    const lowOnly = offer(h264(126, 'packetization-mode=1;profile-level-id=42e01f'));
    expect(chooseH264Answer(read(lowOnly), profile('42c01f'))).toMatchObject({
      ok: true,
      value: { payloadType: 126, fmtp: 'packetization-mode=1;profile-level-id=42c01f' },
    });
    expect(chooseH264Answer(read(lowOnly), profile('42c028'))).toEqual({
      ok: false,
      reason:
        "the offer's H.264 (profile-level-id 42e01f) cannot take the stream's level_idc 40 (and no level-asymmetry-allowed), profile-level-id 42c028",
    });
  });

  it.each([
    [
      'a high stream for a constrained-baseline offer',
      offer(),
      profile('640028'),
      "the offer's H.264 (profile-level-id 42e01f) cannot take the stream's profile high, profile-level-id 640028",
    ],
    [
      'only packetization-mode 0',
      offer(h264(126, 'profile-level-id=42e01f;packetization-mode=0')),
      profile('42c01e'),
      'the offer has no H.264 with packetization-mode=1',
    ],
    ['no H.264', offer(['a=rtpmap:126 VP8/90000']), profile('42c01e'), 'the offer has no H.264 for video (the stream is H.264)'],
    [
      'a send-only video',
      offer().replace(/a=recvonly\r\na=mid:1/, 'a=sendonly\r\na=mid:1'),
      profile('42c01e'),
      'the offer does not receive video (it must be recvonly or sendrecv)',
    ],
    ['no video', offer().split('m=video')[0]!, profile('42c01e'), 'the offer has no video section'],
    ['a video section turned off', offer().replace('m=video 9', 'm=video 0'), profile('42c01e'), 'the offer has no video section'],
    ['a video section without a mid', offer().replace('a=mid:1\r\n', ''), profile('42c01e'), "the offer's video section has no a=mid"],
    [
      'a video section out of the bundle',
      offer().replace('BUNDLE 0 1', 'BUNDLE 0'),
      profile('42c01e'),
      "the offer must bundle its sections (a=group:BUNDLE with the video's mid)",
    ],
    ['no ICE credentials', offer().replace(/a=ice-ufrag:u1\r\n/g, ''), profile('42c01e'), NO_ICE],
    ['an ICE user but no password', offer().replace(/a=ice-pwd:p1\r\n/g, ''), profile('42c01e'), NO_ICE],
    ['no fingerprint', offer().replace(/a=fingerprint:.*\r\n/, ''), profile('42c01e'), NO_FINGERPRINT],
    ['a fingerprint too short for its hash', offer().replace(/(a=fingerprint:sha-256 )\S+/, '$1AA:BB'), profile('42c01e'), NO_FINGERPRINT],
    ['a fingerprint of an unknown hash', offer().replace('sha-256', 'sha-999'), profile('42c01e'), NO_FINGERPRINT],
    ['a fingerprint that is no hex', offer().replace(/(a=fingerprint:sha-256 )AB/, '$1ZZ'), profile('42c01e'), NO_FINGERPRINT],
  ])('refuses %s, with a reason', (_label, text, stream, reason) => {
    expect(chooseH264Answer(read(text), stream)).toEqual({ ok: false, reason });
  });
});

describe('reading and answering any body (property)', () => {
  const sdpLine = fc.oneof(
    fc.constantFrom(
      'v=0',
      'a=group:BUNDLE 0 1',
      'a=ice-ufrag:x',
      'a=fingerprint:sha-256 00',
      'a=recvonly',
      'a=sendrecv',
      'a=inactive',
      'a=mid:0',
      'a=mid:1',
      'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=rtpmap:111 opus/48000/2',
      'a=group:BUNDLE 0 1',
      'm=video 0 RTP/AVP 96',
      'a=rtpmap:96 H264/90000',
      'a=rtpmap:97 H264/90000',
      'a=fmtp:96 packetization-mode=1;profile-level-id=42e01f',
      'a=fmtp:97 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=zz',
      'a=fmtp:96',
      'a=rtcp-fb:96 nack pli',
      'a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
      'm=',
      'a=rtpmap:',
      'a=fmtp:999 x',
    ),
    fc.string({ maxLength: 40 }).map((s) => `a=${s}`),
    fc.string({ maxLength: 40 }),
  );
  const body = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.array(sdpLine, { maxLength: 30 }).map((lines) => ['v=0', ...lines].join('\r\n')),
    fc
      .tuple(fc.nat(chromiumOffer.length), fc.string({ maxLength: 20 }))
      .map(([at, junk]) => chromiumOffer.slice(0, at) + junk + chromiumOffer.slice(at + 7)),
  );
  const stream = fc.constantFrom(profile('42c01e'), profile('4d401f'), profile('640028'), profile('42c00d'));

  it('never throws: every body is either a choice on an offered H.264 mode-1 payload type (and, with sound, Opus) or a reason', () => {
    fc.assert(
      fc.property(body, stream, fc.boolean(), (text, streamProfileValue, withSound) => {
        const read = readSdpOffer(text);
        if (!read.ok) return read.reason.length > 0;
        const choice = chooseH264Answer(read.value, streamProfileValue, withSound ? opus.rtp : undefined);
        if (!choice.ok) return choice.reason.length > 0;
        // Sound only with sound, only on an offered Opus of another section, never also refused.
        const audio = choice.value.audio;
        if (audio) {
          const offered = read.value.media.find((m) => m.mid === audio.mid && m.kind === 'audio');
          const opusFormat = offered?.formats.find((f) => f.payloadType === audio.payloadType);
          if (!withSound || audio.mid === choice.value.mid || opusFormat?.codec.toLowerCase() !== 'opus') return false;
          if (choice.value.refused.some((r) => r.mid === audio.mid)) return false;
        }
        const section = read.value.media.find((m) => m.mid === choice.value.mid && m.kind === 'video')!;
        const format = section.formats.find((f) => f.payloadType === choice.value.payloadType);
        return (
          format?.codec.toUpperCase() === 'H264' &&
          format.fmtp['packetization-mode'] === '1' &&
          choice.value.fmtp.endsWith(`profile-level-id=${streamProfileValue.profileLevelId}`)
        );
      }),
      { numRuns: 2000 },
    );
  });
});
