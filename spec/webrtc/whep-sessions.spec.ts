import { h264ProfileName, type StreamProfile } from '../../src/webrtc/h264-answer';
import { decideWhepPatch, decideWhepPost, WhepSessions, whepReplies, WHEP_RETRY_AFTER_S } from '../../src/webrtc/whep-sessions';
import { chromiumOffer, offer } from './offers';

const baseline: StreamProfile = { profile: h264ProfileName(0x42, 0xc0), levelIdc: 30, profileLevelId: '42c01e', level1b: false };

describe('WhepSessions', () => {
  it('gives each session an unguessable id, its Location under the endpoint and a quoted ETag', () => {
    const sessions = new WhepSessions<string>({ basePath: '/whep', maxSessions: 10 });
    const a = sessions.add('peer a')!;
    const b = sessions.add('peer b')!;
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 random bits, base64url
    expect(a.id).not.toBe(b.id);
    expect(a.location).toBe(`/whep/${a.id}`);
    expect(a.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(sessions.get(a.id)).toBe(a);
    expect(sessions.size).toBe(2);
  });

  it('finds, removes and forgets sessions', () => {
    const sessions = new WhepSessions<string>({ basePath: '/whep', maxSessions: 10 });
    const a = sessions.add('peer a')!;
    expect(sessions.remove(a.id)).toBe(a);
    expect(sessions.get(a.id)).toBeUndefined();
    expect(sessions.remove(a.id)).toBeUndefined();
    expect([...sessions.sessions()]).toEqual([]);
  });

  it('refuses a session past the limit, and takes one again once a session has gone', () => {
    const sessions = new WhepSessions<number>({ basePath: '/whep', maxSessions: 2 });
    const first = sessions.add(1)!;
    sessions.add(2);
    expect(sessions.full).toBe(true);
    expect(sessions.add(3)).toBeUndefined();
    sessions.remove(first.id);
    expect(sessions.add(3)?.peer).toBe(3);
  });

  it('draws again when an id is taken', () => {
    const ids = ['same', 'etag1', 'same', 'other', 'etag2'];
    const sessions = new WhepSessions<number>({ basePath: '/w', maxSessions: 5, newId: () => ids.shift()! });
    expect(sessions.add(1)!.id).toBe('same');
    expect(sessions.add(2)!).toMatchObject({ id: 'other', location: '/w/other', etag: '"etag2"' });
  });
});

describe('decideWhepPost', () => {
  it('answers a usable offer with the codec choice', () => {
    const decision = decideWhepPost('application/sdp', chromiumOffer, baseline, false);
    expect(decision).toMatchObject({ answer: { mid: '0', payloadType: 108 } });
  });

  it('takes application/sdp with parameters and in any case', () => {
    expect(decideWhepPost('Application/SDP; charset=utf-8', offer(), baseline, false)).toHaveProperty('answer');
  });

  it.each([
    ['no content type', undefined, chromiumOffer, baseline, false, 415],
    ['a JSON body', 'application/json', chromiumOffer, baseline, false, 415],
    ['an unreadable offer', 'application/sdp', 'hello', baseline, false, 400],
    ['no stream yet', 'application/sdp', chromiumOffer, undefined, false, 409],
    ['no room', 'application/sdp', chromiumOffer, baseline, true, 503],
    ['an offer without H.264', 'application/sdp', offer(['a=rtpmap:126 VP8/90000']), baseline, false, 400],
  ])('replies to %s with a %i and a reason', (_label, type, body, stream, full, status) => {
    const decision = decideWhepPost(type, body, stream, full);
    expect('reply' in decision && decision.reply.status).toBe(status);
    if ('reply' in decision) expect(decision.reply.body).toMatch(/\w+/);
  });

  it('reads the offer before asking for the stream: garbage is a 400 even before the stream starts', () => {
    expect(decideWhepPost('application/sdp', 'garbage', undefined, true)).toMatchObject({ reply: { status: 400 } });
  });
});

describe('whepReplies', () => {
  const session = { id: 'abc', location: '/whep/abc', etag: '"e1"', peer: null };

  it('201 carries the answer, its Location and ETag, readable by a page on another origin', () => {
    expect(whepReplies.created(session, 'v=0\r\n')).toEqual({
      status: 201,
      headers: {
        'content-type': 'application/sdp',
        location: '/whep/abc',
        etag: '"e1"',
        'access-control-expose-headers': 'Location, ETag, Accept-Patch, Link, Retry-After',
      },
      body: 'v=0\r\n',
    });
  });

  it('409 and 503 say when to try again', () => {
    expect(whepReplies.noStream().headers['retry-after']).toBe(String(WHEP_RETRY_AFTER_S));
    expect(whepReplies.full(7)).toMatchObject({ status: 503, headers: { 'retry-after': '7' } });
  });

  it('415 names the type it wants', () => {
    expect(whepReplies.unsupportedMediaType('text/plain')).toMatchObject({
      status: 415,
      headers: { 'accept-post': 'application/sdp' },
      body: 'a WHEP offer must be application/sdp, not text/plain',
    });
  });

  it('DELETE of a session is a 200; of an unknown one a 404', () => {
    expect(whepReplies.deleted()).toEqual({ status: 200, headers: {} });
    expect(whepReplies.unknownSession().status).toBe(404);
  });

  it('PATCH is a 405 (no trickle ICE, no ICE restart) on a session, a 404 on an unknown one', () => {
    expect(decideWhepPatch(session)).toMatchObject({ status: 405, headers: { allow: 'OPTIONS, DELETE' } });
    expect(decideWhepPatch(undefined).status).toBe(404);
  });

  it('OPTIONS on the endpoint says POST with application/sdp; CORS origin only when the server allows one', () => {
    const endpoint = whepReplies.options(false);
    expect(endpoint).toMatchObject({ status: 204, headers: { allow: 'OPTIONS, POST', 'accept-post': 'application/sdp' } });
    expect(endpoint.headers['access-control-allow-headers']).toContain('Authorization');
    expect(endpoint.headers).not.toHaveProperty('access-control-allow-origin');
    expect(whepReplies.options(true, 'http://pi.local:8080').headers).toMatchObject({
      allow: 'OPTIONS, DELETE',
      'access-control-allow-origin': 'http://pi.local:8080',
      vary: 'Origin',
    });
  });
});
