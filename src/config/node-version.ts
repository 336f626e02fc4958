/**
 * Why this Node.js cannot run pistream, as the one line the CLI prints, or undefined when it can. `engines` is the
 * package's `engines.node` (`>=20`, `>=20.6.0`): the one place the minimum is written.
 *
 * @example
 * nodeVersionProblem('18.19.0', '>=20'); // 'needs Node.js 20 or later; this is Node.js 18.19.0 (…)'
 */
export function nodeVersionProblem(running: string, engines: string): string | undefined {
  const match = /^\s*>=\s*(\d+(?:\.\d+){0,2})\s*$/.exec(engines);
  if (!match) throw new Error(`engines.node must read ">=MAJOR[.MINOR[.PATCH]]", got ${JSON.stringify(engines)}`);
  const needed = match[1]!;
  const parts = (version: string): number[] => version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const have = parts(running);
  const want = parts(needed);
  for (let i = 0; i < want.length; i++) {
    if ((have[i] ?? 0) > want[i]!) return undefined;
    if ((have[i] ?? 0) < want[i]!) {
      return `needs Node.js ${needed} or later; this is Node.js ${running} (the README's "Node.js on a Raspberry Pi" says how to get it)`;
    }
  }
  return undefined;
}
