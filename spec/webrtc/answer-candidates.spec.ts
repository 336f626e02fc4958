import { withHostCandidates } from '../../src/webrtc/answer-candidates';

const answer = [
  'v=0',
  'a=group:BUNDLE 0',
  'm=video 8189 UDP/TLS/RTP/SAVPF 108',
  'a=mid:0',
  'a=sendonly',
  'a=candidate:1 1 UDP 2114977791 192.0.2.2 8189 typ host',
  'a=end-of-candidates',
  'm=audio 8189 UDP/TLS/RTP/SAVPF 111',
  'a=mid:1',
  'a=inactive',
  '',
].join('\r\n');

describe('withHostCandidates', () => {
  it('adds a host candidate per announced address on the shared port, before end-of-candidates', () => {
    const out = withHostCandidates(answer, ['203.0.113.7', '2001:db8::7'], 8189).split('\r\n');
    const at = out.indexOf('a=end-of-candidates');
    expect(out.slice(at - 3, at)).toEqual([
      'a=candidate:1 1 UDP 2114977791 192.0.2.2 8189 typ host',
      'a=candidate:announced0 1 UDP 2121609471 203.0.113.7 8189 typ host',
      'a=candidate:announced1 1 UDP 2121609471 2001:db8::7 8189 typ host',
    ]);
    expect(out.filter((l) => l.startsWith('a=candidate:'))).toHaveLength(3);
  });

  it('leaves out addresses already in the answer, and repeats', () => {
    const out = withHostCandidates(answer, ['192.0.2.2', '203.0.113.7', '203.0.113.7'], 8189);
    expect(out.match(/a=candidate:/g)).toHaveLength(2);
  });

  it('is the answer itself without addresses', () => {
    expect(withHostCandidates(answer, [], 8189)).toBe(answer);
  });

  it('adds after the last candidate when there is no end-of-candidates, keeping LF line ends', () => {
    const lf = answer.replace(/\r\n/g, '\n').replace('a=end-of-candidates\n', '');
    const out = withHostCandidates(lf, ['203.0.113.7'], 9000).split('\n');
    expect(out[out.indexOf('a=candidate:1 1 UDP 2114977791 192.0.2.2 8189 typ host') + 1]).toBe(
      'a=candidate:announced0 1 UDP 2121609471 203.0.113.7 9000 typ host',
    );
  });
});
