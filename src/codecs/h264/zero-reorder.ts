import { defer, map, type OperatorFunction } from 'rxjs';
import { NAL_TYPE, START_CODE_4, annexB, isVcl, nalType } from './nal';
import { withZeroReorder } from './sps';
import { findStartCode } from '../common/start-code';

/**
 * Rewrites access units whose SPS does not declare zero reordering (see {@link withZeroReorder}), remembering
 * the answer per distinct SPS: a camera repeats the same SPS before every IDR, so the parsing and re-encoding
 * happen once per configuration, and an access unit whose SPS needs nothing comes back as the same buffer.
 * Only the NAL units before the first slice are looked at (parameter sets precede the slices of their unit), so a
 * P picture costs a few byte compares.
 */
export class ZeroReorderRewriter {
  /** SPS bytes (latin1) → the SPS to send, or `undefined` when it is fine as it is. */
  private readonly cache = new Map<string, Buffer | undefined>();

  /** The access unit (Annex B) with its SPS rewritten, or `au` itself when it needs no change. */
  rewrite(au: Buffer): Buffer {
    const leading = leadingNals(au);
    const spss = leading.filter((nal) => nalType(nal) === NAL_TYPE.sps);
    if (spss.length === 0) return au;
    let changed = false;
    const replaced = new Map<Buffer, Buffer>();
    for (const sps of spss) {
      const fixed = this.fixed(sps);
      if (fixed !== undefined) {
        replaced.set(sps, fixed);
        changed = true;
      }
    }
    if (!changed) return au;
    // Rebuild the leading NALs, then append the rest of the unit untouched (from the first slice's start code).
    const firstSlice = leading.find((nal) => isVcl(nalType(nal)));
    const head = annexB(leading.filter((nal) => nal !== firstSlice).map((nal) => replaced.get(nal) ?? nal));
    if (firstSlice === undefined) return head;
    const tail = au.subarray(firstSlice.byteOffset - au.byteOffset);
    return Buffer.concat([head, START_CODE_4, tail]);
  }

  /** How many distinct SPSs have been looked at. */
  get seen(): number {
    return this.cache.size;
  }

  private fixed(sps: Buffer): Buffer | undefined {
    const key = sps.toString('latin1');
    if (this.cache.has(key)) return this.cache.get(key);
    let out: Buffer | undefined;
    try {
      const rewritten = withZeroReorder(sps);
      out = rewritten === sps ? undefined : rewritten;
    } catch {
      out = undefined; // an SPS we cannot read goes through as it is: the decoder is the judge
    }
    this.cache.set(key, out);
    return out;
  }
}

/** The NAL units of `au` up to and including its first slice (the slice as a view to the end of `au`). */
function leadingNals(au: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let at = -1;
  for (let i = findStartCode(au); ; i = findStartCode(au, i + 3)) {
    if (at >= 0 && isVcl(au[at]! & 0x1f)) {
      nals.push(au.subarray(at));
      return nals;
    }
    const end = i < 0 ? au.length : i;
    if (at >= 0) {
      let last = end;
      while (last > at && au[last - 1] === 0) last--;
      if (last > at) nals.push(au.subarray(at, last));
    }
    if (i < 0) return nals;
    at = i + 3;
  }
}

/**
 * Makes every SPS in a stream of access units declare zero reordering (`max_num_reorder_frames` 0), so that
 * hardware decoders and WebKit output each picture as soon as it is decoded instead of filling their DPB first.
 * For camera streams, which have no B-frames. Works on `Buffer`s or on anything with a `data` buffer (such as
 * {@link AccessUnit}); other fields pass through.
 *
 * @example
 * chunks$.pipe(accessUnits(), ensureZeroReorder()).subscribe(({ data }) => send(data));
 */
export function ensureZeroReorder<T extends Buffer | { readonly data: Buffer }>(): OperatorFunction<T, T> {
  return (source) =>
    defer(() => {
      const rewriter = new ZeroReorderRewriter();
      return source.pipe(
        map((au) => {
          if (Buffer.isBuffer(au)) return rewriter.rewrite(au) as T;
          const data = rewriter.rewrite(au.data);
          return data === au.data ? au : { ...au, data };
        }),
      );
    });
}
