import type { NetworkInterfaceInfo } from 'node:os';
import { pageUrls, type Interfaces } from '../../src/server/page-urls';

const info = (address: string, more: Partial<NetworkInterfaceInfo> = {}): NetworkInterfaceInfo =>
  ({
    address,
    family: address.includes(':') ? 'IPv6' : 'IPv4',
    internal: false,
    netmask: '',
    mac: '',
    cidr: null,
    ...more,
  }) as NetworkInterfaceInfo;

const PI: Interfaces = {
  lo: [info('127.0.0.1', { internal: true }), info('::1', { internal: true })],
  eth0: [info('192.168.1.20'), info('fe80::1a2b:3cff:fe4d:5e6f', { scopeid: 2 } as Partial<NetworkInterfaceInfo>), info('2001:db8::20')],
  wlan0: [info('10.0.0.7'), info('192.168.1.20')],
};

describe('pageUrls', () => {
  it('on every IPv4 interface: localhost first, then each LAN address once, never 0.0.0.0', () => {
    expect(pageUrls('http', '0.0.0.0', 8082, PI)).toEqual(['http://localhost:8082/', 'http://192.168.1.20:8082/', 'http://10.0.0.7:8082/']);
  });

  it('on every interface of both families: the IPv6 ones too, bracketed, but not link-local ones (a browser needs a zone for those)', () => {
    expect(pageUrls('https', '::', 8443, PI)).toEqual([
      'https://localhost:8443/',
      'https://192.168.1.20:8443/',
      'https://[2001:db8::20]:8443/',
      'https://10.0.0.7:8443/',
    ]);
  });

  it('on one address: that address only', () => {
    expect(pageUrls('http', '127.0.0.1', 8082, PI)).toEqual(['http://127.0.0.1:8082/']);
    expect(pageUrls('http', '::1', 8082, PI)).toEqual(['http://[::1]:8082/']);
    expect(pageUrls('http', 'cam.example', 80, PI)).toEqual(['http://cam.example:80/']);
  });

  it('on a machine with no network but loopback: localhost', () => {
    expect(pageUrls('http', '0.0.0.0', 8082, { lo: PI.lo })).toEqual(['http://localhost:8082/']);
  });
});
