import { BlockList, SocketAddress, isIP } from 'node:net';

/**
 * Whether an address (as Node reports it, or as found in `X-Forwarded-For`) is one of our reverse proxies.
 * Never throws: anything that is not an IP address is simply not trusted.
 *
 * @example
 * const trust: TrustProxy = trustProxy(['loopback']);
 * trust('::ffff:127.0.0.1'); // true
 */
export type TrustProxy = (address: string) => boolean;

/** What a list entry may be; part of every error message so the one CLI line says what would have worked. */
const ALLOWED = 'an IP address, a CIDR block (10.0.0.0/8), loopback or private';

/** Keyword → blocks. `private` is RFC 1918 plus IPv6 unique-local (RFC 4193); loopback is deliberately apart. */
const KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/**
 * Builds the trust test for `--trust-proxy` (`PISTREAM_TRUST_PROXY`, the plugin's `trustProxy` option).
 *
 * Entries are IPv4/IPv6 addresses, CIDR blocks (`10.0.0.0/8`, `fd00::/8`) and the keywords `loopback`
 * (127.0.0.0/8, ::1) and `private` (10/8, 172.16/12, 192.168/16, fc00::/7), case-insensitive. An entry may itself be
 * a comma list (so the raw flag or variable can be passed as is); blank entries are ignored, and an empty list
 * trusts nobody, which is the safe default: `X-Forwarded-For` is then never read.
 *
 * IPv4 entries also match IPv4-mapped IPv6 peers (`::ffff:127.0.0.1`, what Node reports on a dual-stack socket):
 * `net.BlockList` does that itself. A zone (`fe80::1%eth0`) is ignored when matching.
 *
 * @throws Error for an entry that is none of these. The message names the entry and what is allowed, without a
 * flag name (the caller knows whether it came from `--trust-proxy` or `PISTREAM_TRUST_PROXY`), e.g.
 * `"10.0.0.300" is not an IP address, a CIDR block (10.0.0.0/8), loopback or private`.
 *
 * @example
 * const trust = trustProxy(['loopback', '10.0.0.0/8', 'fd00::/8']);
 * trust('::ffff:127.0.0.1'); // true
 * trust('10.1.2.3');         // true
 * trust('203.0.113.7');      // false
 * trustProxy(['10.0.0.300']); // throws Error('"10.0.0.300" is not an IP address, a CIDR block (10.0.0.0/8), …')
 */
export function trustProxy(list: readonly string[]): TrustProxy {
  const blocks = new BlockList();
  let rules = 0;
  for (const entry of list.flatMap((item) => item.split(','))) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const keyword = KEYWORDS[trimmed.toLowerCase()];
    for (const block of keyword ?? [trimmed]) addBlock(blocks, block, trimmed);
    rules++;
  }
  // Nothing listed: skip the BlockList entirely (and make "trusts nobody" obvious).
  if (rules === 0) return () => false;
  return (address) => {
    // Strings only: the header side hands us whatever it parsed, and a TrustProxy must never throw.
    if (typeof address !== 'string') return false;
    const bare = withoutZone(address);
    const family = isIP(bare);
    if (family === 0) return false;
    return blocks.check(bare, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Adds one address or CIDR block; `entry` is what the user wrote, for the message. */
function addBlock(blocks: BlockList, block: string, entry: string): void {
  const slash = block.indexOf('/');
  const address = slash < 0 ? block : block.slice(0, slash);
  const prefix = slash < 0 ? undefined : block.slice(slash + 1);
  // isIP refuses leading zeros (`010.0.0.1`), which some parsers read as octal: better refused than misread.
  const family = isIP(address);
  if (family === 0) throw new Error(`"${entry}" is not ${ALLOWED}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const max = family === 4 ? 32 : 128;
  if (prefix === undefined) {
    try {
      blocks.addAddress(address, type);
    } catch {
      // e.g. an IPv6 address with a zone, which isIP accepts but a BlockList does not.
      throw new Error(`"${entry}" is not ${ALLOWED}`);
    }
    return;
  }
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(bits >= 0 && bits <= max)) {
    throw new Error(`"${entry}" is not ${ALLOWED} (an ${family === 4 ? 'IPv4' : 'IPv6'} prefix is 0–${max})`);
  }
  try {
    // A base with host bits set (10.0.0.5/8) is masked, as most tools do: the intent is clear.
    blocks.addSubnet(address, bits, type);
  } catch {
    throw new Error(`"${entry}" is not ${ALLOWED}`);
  }
}

/**
 * The address of the client behind a request, for the per-address upgrade limit and for logs.
 *
 * - The peer is not a trusted proxy: the peer, and `X-Forwarded-For` is ignored entirely, since anyone can send it.
 * - The peer is trusted: walk `X-Forwarded-For` from the right, skipping trusted proxies, and return the first
 *   untrusted entry. Each proxy appends the address it saw, so only the right end is vouched for: a client can
 *   prepend fake entries but not append. If every entry is trusted, the left-most (the farthest we can see).
 * - A malformed entry (not an IP address after dropping a port `1.2.3.4:5678` or brackets `[::1]:80`) stops the
 *   walk, and the last good address wins: the peer when there was none. Past garbage nothing is vouched for.
 *
 * Several headers (`string[]`) count as one comma list, in order. The result is canonical (IPv6 lower-case and
 * compressed, no zone) and an IPv4-mapped address is returned as plain IPv4 (`::ffff:10.0.0.1` → `10.0.0.1`), so
 * one client is one key whichever way its address was written. An unknown peer (`undefined`, a closed socket) is
 * `''`. Never throws on header input.
 *
 * @example
 * const trust = trustProxy(['127.0.0.1']);
 * clientAddress('::ffff:127.0.0.1', '203.0.113.7', trust);          // '203.0.113.7' (through our proxy)
 * clientAddress('198.51.100.2', '203.0.113.7', trust);              // '198.51.100.2' (forged header ignored)
 * clientAddress('127.0.0.1', '6.6.6.6, 203.0.113.7', trust);        // '203.0.113.7' (prepended fake skipped)
 * clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trust);
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trust: TrustProxy): string {
  const self = typeof peer === 'string' ? peer : '';
  if (!safeTrust(trust, self)) return canonical(self);
  const header = joinHeaders(forwardedFor);
  // No header (a health check from the proxy host itself, say): the proxy is the client.
  if (header === undefined) return canonical(self);
  let last = self;
  const entries = header.split(',');
  for (let i = entries.length - 1; i >= 0; i--) {
    const address = parseEntry(entries[i]);
    if (address === undefined) break;
    last = address;
    if (!safeTrust(trust, address)) break;
  }
  return canonical(last);
}

/** The header as one comma list; anything else than strings (a hand-built request) counts as no header. */
function joinHeaders(forwardedFor: unknown): string | undefined {
  if (typeof forwardedFor === 'string') return forwardedFor;
  if (!Array.isArray(forwardedFor)) return undefined;
  const headers = forwardedFor.filter((h): h is string => typeof h === 'string');
  return headers.length > 0 ? headers.join(',') : undefined;
}

/** A caller-supplied TrustProxy that throws must not turn a header into a crash: treat it as "not trusted". */
function safeTrust(trust: TrustProxy, address: string): boolean {
  try {
    return trust(address) === true;
  } catch {
    return false;
  }
}

/** One `X-Forwarded-For` entry to a bare IP address, or undefined when it is not one. */
function parseEntry(raw: string): string | undefined {
  const entry = raw.trim();
  // `[v6]` or `[v6]:port`: the only way a port can go with an IPv6 address.
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed) return isIP(bracketed[1]) === 6 && portOk(bracketed[2]) ? bracketed[1] : undefined;
  // `a.b.c.d:port`; a bare IPv6 address also has colons, but no dots before them.
  const withPort = /^([0-9.]+):(\d{1,5})$/.exec(entry);
  if (withPort) return isIP(withPort[1]) === 4 && portOk(withPort[2]) ? withPort[1] : undefined;
  return isIP(entry) !== 0 ? entry : undefined;
}

function portOk(port: string | undefined): boolean {
  return port === undefined || Number(port) <= 65535;
}

function withoutZone(address: string): string {
  const percent = address.indexOf('%');
  return percent < 0 ? address : address.slice(0, percent);
}

/** One spelling per address: `2001:DB8:0::1` → `2001:db8::1`, `::ffff:7f00:1` → `127.0.0.1`. */
function canonical(address: string): string {
  const bare = withoutZone(address);
  const family = isIP(bare);
  if (family !== 6) return family === 4 ? bare : address;
  let text: string;
  try {
    // inet_ntop through SocketAddress: compressed, lower-case, and mapped IPv4 written dotted.
    text = new SocketAddress({ address: bare, family: 'ipv6' }).address;
  } catch {
    return address;
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  return mapped ? mapped[1] : text;
}

/**
 * The host name a client asked for: `X-Forwarded-Host` when the peer is a trusted proxy and sent one (its first
 * entry: the name the browser used), else `Host`. Undefined when there is neither. Never throws on header input.
 * @example
 * requestedHost('127.0.0.1', '127.0.0.1:8082', 'cam.example.com', trustProxy(['loopback'])); // 'cam.example.com'
 * requestedHost('10.0.0.9', 'pi:8082', 'cam.example.com', trustProxy(['loopback'])); // 'pi:8082'
 */
export function requestedHost(peer: string | undefined, host: unknown, forwardedHost: unknown, trust: TrustProxy): string | undefined {
  const forwarded = joinHeaders(forwardedHost)?.split(',')[0]?.trim();
  if (forwarded && safeTrust(trust, typeof peer === 'string' ? peer : '')) return forwarded;
  return typeof host === 'string' ? host : undefined;
}
