/**
 * Extra host candidates in an answer: the addresses a peer should try besides the ones the machine sees on its own
 * interfaces (the public address of a NAT that forwards the port, the host's address when running in Docker).
 * Every peer shares one UDP port, so any address that reaches that port reaches every session.
 */

/** ICE priority (RFC 8445 §5.1.2.1) of a host candidate announced by hand: below the interfaces' own ones. */
const ANNOUNCED_PRIORITY = (126 << 24) | (30_000 << 8) | 255;

/**
 * `answerSdp` with one `a=candidate` host line per address of `addresses` not already in it, on `port`, in each
 * media section that carries candidates (before its `a=end-of-candidates`). Line endings are kept.
 * @example
 * withHostCandidates(answer, ['203.0.113.7'], 8189);
 * // … a=candidate:announced0 1 UDP 2121609471 203.0.113.7 8189 typ host …
 */
export function withHostCandidates(answerSdp: string, addresses: readonly string[], port: number): string {
  if (addresses.length === 0) return answerSdp;
  const eol = answerSdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = answerSdp.split(eol);
  const known = new Set(lines.filter((l) => l.startsWith('a=candidate:')).map((l) => l.split(' ')[4]));
  const extra = addresses
    .filter((address, i) => !known.has(address) && addresses.indexOf(address) === i)
    .map((address, i) => `a=candidate:announced${i} 1 UDP ${ANNOUNCED_PRIORITY >>> 0} ${address} ${port} typ host`);
  if (extra.length === 0) return answerSdp;
  const out: string[] = [];
  let sectionHasCandidates = false;
  let added = false;
  for (const line of lines) {
    if (line.startsWith('m=')) sectionHasCandidates = false;
    if (line.startsWith('a=candidate:')) sectionHasCandidates = true;
    if (line === 'a=end-of-candidates' && sectionHasCandidates) {
      out.push(...extra);
      added = true;
    }
    out.push(line);
  }
  if (!added) {
    // No end-of-candidates marker: after the last candidate line.
    const last = out.map((l) => l.startsWith('a=candidate:')).lastIndexOf(true);
    if (last >= 0) out.splice(last + 1, 0, ...extra);
  }
  return out.join(eol);
}
