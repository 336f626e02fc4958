import { X509Certificate } from 'node:crypto';
import { HOST_PATTERN } from '../options/host-allowlist';

/**
 * The host names a TLS certificate is for (its DNS subject alternative names, else its subject's common name): the
 * names browsers reach this server by without a warning, so the host allowlist takes them by default. A chain's
 * first certificate is the server's; a PEM that cannot be read names nothing.
 * @example
 * certificateNames(readFileSync('cam.pem')); // ['cam.example.com', '*.cam.example.com']
 */
export function certificateNames(pem: Buffer | string): string[] {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return [];
  }
  const dns = (cert.subjectAltName ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  // A common name is often a label ("My camera"), not a host: only names that are host names count.
  return (dns.length > 0 ? dns : cn ? [cn] : []).filter((name) => HOST_PATTERN.test(name));
}
