import { netnsUnavailable } from '../../bench/net/netns';
import { describeNeeding } from './describe-needing';

let why: string | undefined | null = null;
/** Why links cannot be made here (asked once per test file), or undefined. */
const unavailable = (): string | undefined => (why === null ? (why = netnsUnavailable()) : why);

/**
 * `describe` for suites that put a viewer behind a link (bench/net/netns.ts: network namespaces, veth, tc): runs them
 * where this process may make namespaces (root on Linux), skips them with the reason elsewhere, and fails under
 * `PISTREAM_REQUIRE_NETNS=1` (CI, which runs as root).
 */
export function describeNetns(name: string, fn: () => void): void {
  describeNeeding(
    {
      available: () => unavailable() === undefined,
      requireEnv: 'PISTREAM_REQUIRE_NETNS',
      needs: 'needs network namespaces',
      missing: () => `${unavailable()}: run as root on Linux with iproute2 (ip, tc)`,
      skipNote: unavailable() ?? '',
    },
    name,
    fn,
  );
}
