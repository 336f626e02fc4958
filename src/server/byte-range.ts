import type { Server } from '@hapi/hapi';

/** One satisfiable range, both ends inclusive (`bytes=0-499` is `{ first: 0, last: 499 }`). */
export interface ByteRange {
  readonly first: number;
  readonly last: number;
}

/** What a `Range` header asks of a representation of a known length (RFC 9110 §14.1.2–14.2). */
export type RangeRequest =
  /** Not a byte range we can read (another unit, bad syntax, a last before a first): the header is ignored. */
  | { readonly kind: 'ignore' }
  /** Ranges, but none inside the representation: 416. */
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'ranges'; readonly ranges: readonly ByteRange[] };

const SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/;

/** Resolves one `byte-range-spec` against `length`; null when it cannot be read, undefined when unsatisfiable. */
function resolveSpec(spec: string, length: number): ByteRange | null | undefined {
  const m = SPEC.exec(spec);
  if (!m) return null;
  if (m[3] !== undefined) {
    // A suffix longer than the representation means all of it (§14.1.2); a zero suffix selects nothing.
    const suffix = Number(m[3]);
    return suffix > 0 && length > 0 ? { first: Math.max(0, length - suffix), last: length - 1 } : undefined;
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < first) return null;
  return first < length ? { first, last: Math.min(last, length - 1) } : undefined;
}

/**
 * Reads a `Range` header for a representation of `length` bytes, per RFC 9110: any number of ranges, suffix
 * ranges longer than the representation clamped to all of it, unreadable headers ignored. Pure; never throws.
 * @example
 * parseRange('bytes=-99999999', 1200); // { kind: 'ranges', ranges: [{ first: 0, last: 1199 }] }
 * parseRange('bytes=5000-', 1200); // { kind: 'unsatisfiable' }
 * parseRange('items=0-1', 1200); // { kind: 'ignore' }
 */
export function parseRange(header: string, length: number): RangeRequest {
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: 'ignore' };
  const specs = m[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) return { kind: 'ignore' };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const range = resolveSpec(spec, length);
    if (range === null) return { kind: 'ignore' };
    if (range) ranges.push(range);
  }
  return ranges.length > 0 ? { kind: 'ranges', ranges } : { kind: 'unsatisfiable' };
}

/**
 * The `Range` header to hand on to inert (whose parser, @hapi/ammo, makes a negative start of a suffix longer than
 * the file, which became a 500): every range spelt out as `first-last`, or undefined to drop the header (serve the
 * whole representation), or a header inert answers 416 to.
 */
export function rangeForInert(header: string, length: number): string | undefined {
  const request = parseRange(header, length);
  if (request.kind === 'ignore') return undefined;
  if (request.kind === 'unsatisfiable') return `bytes=${length}-`;
  return `bytes=${request.ranges.map((r) => `${r.first}-${r.last}`).join(',')}`;
}

/**
 * Rewrites the `Range` of each request to the plugin's routes once its response's length is known (inert has
 * stat'ed the file by `onPreResponse`, and reads the header only when it streams), with {@link rangeForInert}.
 */
export function addRangeNormalizer(server: Server): void {
  server.ext(
    'onPreResponse',
    (request, h) => {
      const header = request.headers.range;
      const response = request.response;
      if (typeof header !== 'string' || 'isBoom' in response) return h.continue;
      const length = Number(response.headers['content-length']);
      if (!Number.isSafeInteger(length)) return h.continue;
      const normalized = rangeForInert(header, length);
      if (normalized === undefined) delete request.headers.range;
      else request.headers.range = normalized;
      return h.continue;
    },
    { sandbox: 'plugin' },
  );
}
