import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateNames } from '../../src/server/certificate-names';
import { machineHostNames } from '../../src/server/host-guard';

describe('certificateNames', () => {
  it('reads the DNS names of a certificate (the test fixture is for localhost)', () => {
    expect(certificateNames(readFileSync(join(__dirname, '..', 'fixtures', 'tls', 'test-only-localhost.crt')))).toEqual(['localhost']);
  });

  it('names nothing for what is not a certificate', () => {
    expect(certificateNames('not a pem')).toEqual([]);
  });
});

describe('machineHostNames', () => {
  it('is the name and its .local (mDNS) form, lower case', () => {
    expect(machineHostNames('RaspberryPi')).toEqual(['raspberrypi', 'raspberrypi.local']);
    expect(machineHostNames('cam.local')).toEqual(['cam.local', 'cam']);
    expect(machineHostNames('')).toEqual([]);
  });
});
