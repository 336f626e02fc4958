import { defer, mergeMap, type OperatorFunction } from 'rxjs';

const HEADER_END = Buffer.from('\r\n\r\n');
/** A header block much longer than this is not the framing we expect. */
const MAX_HEADER = 4096;

/**
 * Parser for a `multipart/x-mixed-replace` byte stream as ffmpeg's `mpjpeg` muxer writes it: each part is
 * `--boundary\r\nContent-type: …\r\nContent-length: N\r\n\r\n` + N bytes + `\r\n`. The length is what makes it
 * worth having: a part is complete the moment its N bytes are in, so a coded picture is handed on without
 * waiting for the next one to begin (MPEG-1 has no picture length: a start-code splitter would learn of a
 * picture's end a whole frame later).
 */
export class MultipartParser {
  private head: Buffer = Buffer.alloc(0);
  private bodyLength = -1;
  private body: Buffer[] = [];
  private bodyHave = 0;

  /** Feeds one chunk; returns the parts it completed, in order (subarrays of the chunk where possible). */
  push(chunk: Buffer): Buffer[] {
    const parts: Buffer[] = [];
    let rest = chunk;
    while (rest.length > 0) {
      if (this.bodyLength < 0) {
        rest = this.readHeader(rest);
        continue;
      }
      const need = this.bodyLength - this.bodyHave;
      if (this.body.length === 0 && rest.length >= need) {
        // Whole part within this chunk: no copy.
        parts.push(rest.subarray(0, need));
        rest = rest.subarray(need);
        this.bodyLength = -1;
        continue;
      }
      const take = rest.subarray(0, Math.min(need, rest.length));
      this.body.push(take);
      this.bodyHave += take.length;
      rest = rest.subarray(take.length);
      if (this.bodyHave === this.bodyLength) {
        parts.push(Buffer.concat(this.body, this.bodyLength));
        this.body = [];
        this.bodyHave = 0;
        this.bodyLength = -1;
      }
    }
    return parts;
  }

  /** True when no part is half-read (a clean end of stream). */
  get idle(): boolean {
    return this.bodyLength < 0 && this.head.toString('latin1').trim() === '';
  }

  /** Consumes header bytes from `chunk`; returns what is left after the header (or empty when still in it). */
  private readHeader(chunk: Buffer): Buffer {
    const joined = this.head.length > 0 ? Buffer.concat([this.head, chunk]) : chunk;
    const end = joined.indexOf(HEADER_END);
    if (end < 0) {
      if (joined.length > MAX_HEADER) throw new Error('multipart framing: no end of part header within 4 KiB');
      this.head = Buffer.from(joined);
      return Buffer.alloc(0);
    }
    const header = joined.toString('latin1', 0, end);
    const match = /content-length:\s*(\d+)/i.exec(header);
    if (!match) throw new Error(`multipart framing: part header without Content-length: ${JSON.stringify(header)}`);
    this.bodyLength = Number(match[1]);
    this.head = Buffer.alloc(0);
    return joined.subarray(end + HEADER_END.length);
  }
}

/**
 * Splits a multipart byte stream (ffmpeg `-f mpjpeg`) into its parts, each emitted as soon as its last byte
 * arrives. Chunk boundaries may fall anywhere.
 *
 * @example
 * fromChildProcess(ffmpeg, [..., '-f', 'mpjpeg', 'pipe:1']).pipe(multipartParts()).subscribe((part) => …);
 */
export function multipartParts(): OperatorFunction<Buffer, Buffer> {
  return (source) =>
    defer(() => {
      const parser = new MultipartParser();
      return source.pipe(mergeMap((chunk) => parser.push(chunk)));
    });
}
