import fc from 'fast-check';
import { clientAddress, trustProxy, type TrustProxy } from '../../src/options/client-address';

const ALLOWED = 'is not an IP address, a CIDR block (10.0.0.0/8), loopback or private';

describe('trustProxy (the --trust-proxy list)', () => {
  it.each<[string[], string, boolean]>([
    // keywords
    [['loopback'], '127.0.0.1', true],
    [['loopback'], '127.255.0.9', true],
    [['loopback'], '::1', true],
    [['loopback'], '::ffff:127.0.0.1', true],
    [['loopback'], '128.0.0.1', false],
    [['loopback'], '10.0.0.1', false],
    [['LoopBack'], '127.0.0.1', true],
    [['private'], '10.1.2.3', true],
    [['private'], '172.16.0.1', true],
    [['private'], '172.31.255.255', true],
    [['private'], '172.32.0.1', false],
    [['private'], '172.15.255.255', false],
    [['private'], '192.168.1.10', true],
    [['private'], '192.169.0.1', false],
    [['private'], 'fd12:3456::1', true],
    [['private'], 'fc00::1', true],
    [['private'], 'fe80::1', false],
    [['private'], '::ffff:192.168.0.2', true],
    [['private'], '127.0.0.1', false], // loopback is its own keyword
    [['private'], '::1', false],
    // plain addresses
    [['127.0.0.1'], '127.0.0.1', true],
    [['127.0.0.1'], '127.0.0.2', false],
    [['127.0.0.1'], '::ffff:127.0.0.1', true],
    [['127.0.0.1'], '::ffff:7f00:1', true], // the same mapped address, written in hex
    [['::1'], '::1', true],
    [['::1'], '0:0:0:0:0:0:0:1', true],
    [['2001:db8::1'], '2001:DB8:0:0::1', true],
    // CIDR blocks
    [['10.0.0.0/8'], '10.200.3.4', true],
    [['10.0.0.0/8'], '11.0.0.1', false],
    [['10.0.0.0/8'], '::ffff:10.9.9.9', true],
    [['192.0.2.0/24'], '192.0.2.255', true],
    [['192.0.2.0/24'], '192.0.3.0', false],
    [['10.0.0.5/8'], '10.9.9.9', true], // host bits in the base are masked
    [['0.0.0.0/0'], '203.0.113.7', true],
    [['fd00::/8'], 'fd00:1::2', true],
    [['fd00::/8'], 'fe00::1', false],
    [['2001:db8::/32'], '2001:db8:ffff::1', true],
    [['2001:db8::/32'], '2001:db9::1', false],
    // several entries, comma lists, blanks
    [['10.0.0.1', '::1'], '::1', true],
    [['10.0.0.1,  ::1 '], '::1', true],
    [['10.0.0.1, 192.0.2.0/24'], '192.0.2.7', true],
    [['', ' '], '127.0.0.1', false],
    [[], '127.0.0.1', false],
    [[], '::1', false],
    // what the trust test is handed that is not an address
    [['loopback'], '', false],
    [['loopback'], 'localhost', false],
    [['loopback'], '127.0.0.1:80', false],
    [['loopback'], '[::1]', false],
  ])('%j trusts %s: %s', (list, address, trusted) => {
    expect(trustProxy(list)(address)).toBe(trusted);
  });

  it('matches a peer with an IPv6 zone by its address', () => {
    expect(trustProxy(['fe80::/10'])('fe80::1%eth0')).toBe(true);
  });

  it.each<[string, string]>([
    ['10.0.0.300', `"10.0.0.300" ${ALLOWED}`],
    ['localhost', `"localhost" ${ALLOWED}`],
    ['010.0.0.1', `"010.0.0.1" ${ALLOWED}`],
    ['10.0.0.0/33', `"10.0.0.0/33" ${ALLOWED} (an IPv4 prefix is 0–32)`],
    ['fd00::/129', `"fd00::/129" ${ALLOWED} (an IPv6 prefix is 0–128)`],
    ['10.0.0.0/', `"10.0.0.0/" ${ALLOWED} (an IPv4 prefix is 0–32)`],
    ['10.0.0.0/8/8', `"10.0.0.0/8/8" ${ALLOWED} (an IPv4 prefix is 0–32)`],
    ['10.0.0.0/-1', `"10.0.0.0/-1" ${ALLOWED} (an IPv4 prefix is 0–32)`],
    ['10.0.0.0/x', `"10.0.0.0/x" ${ALLOWED} (an IPv4 prefix is 0–32)`],
    ['/8', `"/8" ${ALLOWED}`],
    ['loopback/8', `"loopback/8" ${ALLOWED}`],
    ['10.0.0.1:80', `"10.0.0.1:80" ${ALLOWED}`],
    ['[::1]', `"[::1]" ${ALLOWED}`],
    ['*', `"*" ${ALLOWED}`],
  ])('refuses %j with one line naming it and what is allowed', (entry, message) => {
    expect(() => trustProxy([entry])).toThrow(new Error(message));
  });

  it('names the bad entry of a list, trimmed', () => {
    expect(() => trustProxy(['loopback', ' 10.0.0.0/8 , nope '])).toThrow(`"nope" ${ALLOWED}`);
  });

  it('gives messages of one line, fit for "--trust-proxy: …"', () => {
    expect(() => trustProxy(['10.0.0.300'])).toThrow(
      /^"10\.0\.0\.300" is not an IP address, a CIDR block \(10\.0\.0\.0\/8\), loopback or private$/,
    );
  });
});

describe('clientAddress', () => {
  const trust = trustProxy(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

  describe('an untrusted peer: X-Forwarded-For is ignored (anyone can send it)', () => {
    it.each<[string | undefined, string | string[] | undefined, string]>([
      ['203.0.113.7', undefined, '203.0.113.7'],
      ['203.0.113.7', '198.51.100.1', '203.0.113.7'], // forged
      ['203.0.113.7', '127.0.0.1', '203.0.113.7'], // forged to look like the proxy
      ['203.0.113.7', ['1.1.1.1', '2.2.2.2'], '203.0.113.7'],
      ['203.0.113.7', 'garbage', '203.0.113.7'],
      ['::ffff:203.0.113.7', '1.1.1.1', '203.0.113.7'], // dual-stack socket: normalised
      ['2001:DB8::7', '1.1.1.1', '2001:db8::7'],
      [undefined, '1.1.1.1', ''], // socket already closed: no address, header still ignored
      ['', '1.1.1.1', ''],
    ])('peer %j, header %j → %j', (peer, header, expected) => {
      expect(clientAddress(peer, header, trust)).toBe(expected);
    });

    it('with an empty list nobody is trusted, the proxy included', () => {
      expect(clientAddress('127.0.0.1', '203.0.113.7', trustProxy([]))).toBe('127.0.0.1');
    });
  });

  describe('a trusted peer: the right-most untrusted entry', () => {
    it.each<[string, string | string[] | undefined, string]>([
      ['127.0.0.1', '203.0.113.7', '203.0.113.7'],
      ['::ffff:127.0.0.1', '203.0.113.7', '203.0.113.7'], // Node's dual-stack spelling of the proxy
      ['127.0.0.1', undefined, '127.0.0.1'], // the proxy itself (a health check)
      ['::ffff:127.0.0.1', undefined, '127.0.0.1'],
      // spoofing: the client prepends, our proxy appends what it saw
      ['127.0.0.1', '6.6.6.6, 203.0.113.7', '203.0.113.7'],
      ['127.0.0.1', '127.0.0.1, 203.0.113.7', '203.0.113.7'], // a fake "proxy" on the left changes nothing
      ['127.0.0.1', '10.0.0.1, 6.6.6.6, 203.0.113.7', '203.0.113.7'],
      // chains of proxies: trusted hops on the right are skipped
      ['127.0.0.1', '203.0.113.7, 10.0.0.2', '203.0.113.7'],
      ['127.0.0.1', '203.0.113.7, 10.0.0.2, 10.0.0.3', '203.0.113.7'],
      ['127.0.0.1', '6.6.6.6, 203.0.113.7, 10.0.0.2, fd00::9', '203.0.113.7'],
      ['127.0.0.1', '203.0.113.7, 198.51.100.4, 10.0.0.2', '198.51.100.4'], // an untrusted hop is the client
      // every entry trusted: the left-most
      ['127.0.0.1', '10.0.0.1, 10.0.0.2', '10.0.0.1'],
      ['127.0.0.1', '127.0.0.1', '127.0.0.1'],
      // several headers are one list, in order
      ['127.0.0.1', ['6.6.6.6', '203.0.113.7'], '203.0.113.7'],
      ['127.0.0.1', ['203.0.113.7', '10.0.0.2'], '203.0.113.7'],
      ['127.0.0.1', ['6.6.6.6, 7.7.7.7', '203.0.113.7, 10.0.0.2'], '203.0.113.7'],
      ['127.0.0.1', [], '127.0.0.1'],
      // ports and brackets
      ['127.0.0.1', '203.0.113.7:5678', '203.0.113.7'],
      ['127.0.0.1', '[2001:db8::1]:443', '2001:db8::1'],
      ['127.0.0.1', '[2001:db8::1]', '2001:db8::1'],
      ['127.0.0.1', '203.0.113.7, 10.0.0.2:8080', '203.0.113.7'],
      ['127.0.0.1', '203.0.113.7, [fd00::2]:80', '203.0.113.7'],
      // normalised spellings
      ['127.0.0.1', '::ffff:203.0.113.7', '203.0.113.7'],
      ['127.0.0.1', '::FFFF:cb00:7107', '203.0.113.7'],
      ['127.0.0.1', '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['127.0.0.1', '  203.0.113.7  ', '203.0.113.7'],
      ['127.0.0.1', '203.0.113.7,10.0.0.2', '203.0.113.7'],
      // a mapped trusted hop is still trusted
      ['127.0.0.1', '203.0.113.7, ::ffff:10.0.0.2', '203.0.113.7'],
    ])('peer %j, header %j → %j', (peer, header, expected) => {
      expect(clientAddress(peer, header, trust)).toBe(expected);
    });
  });

  describe('malformed entries stop the walk: the last good address wins', () => {
    it.each<[string | string[], string]>([
      ['garbage', '127.0.0.1'],
      ['', '127.0.0.1'],
      ['   ', '127.0.0.1'],
      ['unknown', '127.0.0.1'],
      ['203.0.113.7, garbage', '127.0.0.1'], // nothing good to the right of the garbage: the peer
      ['garbage, 203.0.113.7', '203.0.113.7'], // untrusted before the garbage is reached
      ['garbage, 10.0.0.2', '10.0.0.2'], // trusted hop, then garbage: the last good one
      ['203.0.113.7, garbage, 10.0.0.2', '10.0.0.2'], // nothing left of the garbage is believed
      ['203.0.113.7,, 10.0.0.2', '10.0.0.2'], // an empty entry is malformed too
      ['203.0.113.7, 10.0.0.2,', '127.0.0.1'],
      ['1.2.3.4:99999', '127.0.0.1'], // no such port
      ['1.2.3.4:', '127.0.0.1'],
      ['1.2.3.4:port', '127.0.0.1'],
      ['[1.2.3.4]:80', '127.0.0.1'], // brackets are for IPv6
      ['[::1', '127.0.0.1'],
      ['2001:db8::1:443', '2001:db8::1:443'], // a valid IPv6 address, not one with a port
      ['"203.0.113.7"', '127.0.0.1'], // Forwarded-style quoting is not X-Forwarded-For
      ['for=203.0.113.7', '127.0.0.1'],
      ['010.0.0.1', '127.0.0.1'], // leading zeros: octal to some, refused
      ['203.0.113.7\r\nX-Evil: 1', '127.0.0.1'],
      ['127.0.0.1 203.0.113.7', '127.0.0.1'],
      [['garbage', '203.0.113.7'], '203.0.113.7'],
    ])('header %j → %j', (header, expected) => {
      expect(clientAddress('127.0.0.1', header, trust)).toBe(expected);
    });

    it('does not throw on whatever a hand-built request carries', () => {
      const weird = [null, 42, {}, ['1.1.1.1', 7], [undefined]] as unknown as (string | string[] | undefined)[];
      for (const header of weird) expect(() => clientAddress('127.0.0.1', header, trust)).not.toThrow();
      expect(clientAddress('127.0.0.1', ['203.0.113.7', 7] as unknown as string[], trust)).toBe('203.0.113.7');
      expect(clientAddress('127.0.0.1', null as unknown as undefined, trust)).toBe('127.0.0.1');
    });

    it('treats a trust test that throws as "not trusted"', () => {
      const broken: TrustProxy = () => {
        throw new Error('boom');
      };
      expect(clientAddress('127.0.0.1', '203.0.113.7', broken)).toBe('127.0.0.1');
    });
  });

  describe('properties', () => {
    const ipv4 = fc.ipV4();
    const ipv6 = fc.ipV6();
    const address = fc.oneof(
      ipv4,
      ipv6,
      ipv4.map((a) => `::ffff:${a}`),
    );
    /** Trusted addresses drawn from the test list, so that chains of proxies come up often. */
    const proxy = fc.oneof(
      fc.constant('127.0.0.1'),
      fc.constant('::ffff:127.0.0.1'),
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `10.${a}.${b}.${c}`),
      fc.nat(0xffff).map((n) => `fd00::${n.toString(16)}`),
    );
    const hop = fc.oneof(address, proxy);
    const junk = fc.oneof(fc.string(), fc.constantFrom(',', ', ,', '[', ']:', ':80', '%', '::ffff:', '1.2.3.4:'));

    it('for an untrusted peer the result is always the peer, whatever the header', () => {
      fc.assert(
        fc.property(
          address.filter((a) => !trust(a)),
          fc.oneof(
            fc.constant(undefined),
            fc.string(),
            fc.array(fc.oneof(hop, junk)).map((l) => l.join(', ')),
          ),
          (peer, header) => clientAddress(peer, header, trust) === clientAddress(peer, undefined, trust),
        ),
      );
    });

    it('the result is never a trusted proxy unless the peer and every entry are', () => {
      fc.assert(
        fc.property(proxy, fc.array(hop, { maxLength: 8 }), (peer, hops) => {
          const result = clientAddress(peer, hops.join(', '), trust);
          return !trust(result) || hops.every((h) => trust(h));
        }),
      );
    });

    it('the result is the peer or one of the entries', () => {
      fc.assert(
        fc.property(proxy, fc.array(hop, { maxLength: 8 }), (peer, hops) => {
          const result = clientAddress(peer, hops.join(','), trust);
          const seen = [peer, ...hops].map((a) => clientAddress(a, undefined, trustProxy([])));
          return seen.includes(result);
        }),
      );
    });

    it('whatever a client prepends changes nothing once an untrusted hop is on the right', () => {
      fc.assert(
        fc.property(
          proxy,
          fc.array(fc.oneof(hop, junk), { maxLength: 6 }),
          address.filter((a) => !trust(a)),
          fc.array(proxy, { maxLength: 4 }),
          (peer, forged, client, proxies) => {
            const honest = [client, ...proxies].join(', ');
            const spoofed = [...forged, honest].join(', ');
            const result = clientAddress(peer, spoofed, trust);
            return result === clientAddress(peer, honest, trust) && result === clientAddress(client, undefined, trust);
          },
        ),
      );
    });

    it('never throws on header input', () => {
      fc.assert(
        fc.property(
          fc.option(fc.string(), { nil: undefined }),
          fc.oneof(fc.constant(undefined), fc.string(), fc.array(fc.string())),
          (peer, header) => typeof clientAddress(peer, header, trust) === 'string',
        ),
      );
    });
  });
});
