import fc from 'fast-check';
import { hostAllowlist, hostName } from '../../src/options/host-allowlist';

describe('hostName', () => {
  it.each([
    ['Cam.Local.:8082', 'cam.local'],
    ['cam', 'cam'],
    ['[::1]:8082', '::1'],
    ['192.168.1.20:8082', '192.168.1.20'],
  ])('%s names %s', (host, name) => {
    expect(hostName(host)).toBe(name);
  });

  it.each(['a b', '[::1', 'x:y:z', 'evil.test:99999999', 'localhost:99999', '', '*.example.com', '[not-v6]'])('%j is no host', (host) => {
    expect(hostName(host)).toBeUndefined();
  });
});

describe('hostAllowlist', () => {
  const hosts = hostAllowlist(['localhost', '*.example.com', 'Pi.']);

  it('answers to listed names, any port, in any case, with or without a trailing dot', () => {
    expect(hosts.allows('localhost:8082')).toBe(true);
    expect(hosts.allows('PI:8082')).toBe(true);
    expect(hosts.allows('pi.')).toBe(true);
  });

  it('*.example.com takes names under it, not example.com itself nor a name that merely ends alike', () => {
    expect(hosts.allows('cam.example.com')).toBe(true);
    expect(hosts.allows('a.b.example.com:443')).toBe(true);
    expect(hosts.allows('example.com')).toBe(false);
    expect(hosts.allows('evilexample.com')).toBe(false);
  });

  it('refuses any other name, and what is not a host at all', () => {
    expect(hosts.allows('evil.test:8082')).toBe(false);
    expect(hosts.allows('localhost.evil.test')).toBe(false);
    expect(hosts.allows('a b')).toBe(false);
  });

  it('always answers to IP literals (a rebinding page can only send its own name) and to no Host (not a browser)', () => {
    expect(hosts.allows('10.0.0.5:8082')).toBe(true);
    expect(hosts.allows('[fe80::1]')).toBe(true);
    expect(hosts.allows(undefined)).toBe(true);
  });

  it('* turns the check off', () => {
    const any = hostAllowlist(['*']);
    expect(any.any).toBe(true);
    expect(any.allows('evil.test')).toBe(true);
  });

  it('never throws, and refuses every name outside the list (property)', () => {
    fc.assert(
      fc.property(fc.string(), (host) => {
        const allowed = hosts.allows(host);
        const name = hostName(host);
        if (allowed)
          expect(
            name === undefined
              ? false
              : name === 'localhost' || name === 'pi' || name.endsWith('.example.com') || /^[\d.:a-f]+$/.test(name),
          ).toBe(true);
      }),
    );
  });
});
