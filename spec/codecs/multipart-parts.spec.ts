import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { MultipartParser, multipartParts } from '../../src/codecs/multipart-parts';
import { testScheduler } from '../helpers/test-scheduler';

/** One part as ffmpeg's mpjpeg muxer frames it. */
function framed(body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  return Buffer.concat([
    Buffer.from(`--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: ${b.length}\r\n\r\n`, 'latin1'),
    b,
    Buffer.from('\r\n', 'latin1'),
  ]);
}

/** A copy of `bytes` in its own (never pooled) ArrayBuffer, so `.buffer` identity means "no copy was made". */
function ownBuffer(bytes: Buffer): Buffer {
  const own = Buffer.alloc(bytes.length);
  bytes.copy(own);
  return own;
}

/** Feeds `chunks` to a fresh parser; returns every part. */
function parse(chunks: Buffer[]): Buffer[] {
  const parser = new MultipartParser();
  return chunks.flatMap((c) => parser.push(c));
}

const A = framed('alpha');
const B = framed('a body with \r\n\r\n and --ffmpeg inside');
const C = framed('c');

describe('multipartParts (marbles)', () => {
  const values = {
    a: A,
    h: A.subarray(0, 20), // inside a's header
    t: A.subarray(20), // the rest of a
    b: B,
    w: Buffer.concat([A, B, C]), // three parts in one chunk
  };
  const parts = { x: Buffer.from('alpha'), y: Buffer.from(B.subarray(B.indexOf('a body'), B.length - 2)), z: Buffer.from('c') };

  it('never: emits nothing, stays subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('-');
      expectObservable(source.pipe(multipartParts())).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('empty: completes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Buffer>('|');
      expectObservable(source.pipe(multipartParts())).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('values: emits each part the moment its last byte arrives', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-h--t-b-w-----|', values);
      expectObservable(source.pipe(multipartParts())).toBe('----x-y-(xyz)-|', parts);
      expectSubscriptions(source.subscriptions).toBe('^-------------!');
    });
  });

  it('error: passes the source error on', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', values, new Error('pipe broke'));
      expectObservable(source.pipe(multipartParts())).toBe('-x-#', parts, new Error('pipe broke'));
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('errors on bad framing and unsubscribes from the source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-j-b-|', { ...values, j: Buffer.from('--ffmpeg\r\nContent-type: x\r\n\r\n') });
      expectObservable(source.pipe(multipartParts())).toBe(
        '-x-#',
        parts,
        // The previous part's trailing CRLF is part of this header block.
        new Error('multipart framing: part header without Content-length: "\\r\\n--ffmpeg\\r\\nContent-type: x"'),
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('never-ending: keeps emitting parts of a source that never completes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-', values);
      expectObservable(source.pipe(multipartParts())).toBe('-x-y-', parts);
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('early unsubscribe: unsubscribes from the source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-a-|', values);
      expectObservable(source.pipe(multipartParts()), '^--!').toBe('-x-', parts);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('has a parser per subscription', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // A subscriber that joins mid-header would not see the part the first one does.
      const source = cold('-h-t-|', values);
      const parts$ = source.pipe(multipartParts());
      expectObservable(parts$).toBe('---x-|', parts);
      expectObservable(parts$).toBe('---x-|', parts);
    });
  });
});

describe('MultipartParser', () => {
  it('reads a header split at every offset', () => {
    const headerLength = A.indexOf('alpha');
    for (let at = 1; at <= headerLength; at++) {
      expect(parse([A.subarray(0, at), A.subarray(at), C]).map(String)).toEqual(['alpha', 'c']);
    }
  });

  it('reads a body split at every offset', () => {
    const start = B.indexOf('a body');
    const body = B.subarray(start, B.length - 2).toString();
    for (let at = start; at <= B.length; at++) {
      expect(parse([B.subarray(0, at), B.subarray(at), A]).map(String)).toEqual([body, 'alpha']);
    }
  });

  it('reads a part fed one byte at a time', () => {
    const bytes = Buffer.concat([A, B, C]);
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(parse(chunks).map(String)).toEqual(['alpha', B.subarray(B.indexOf('a body'), B.length - 2).toString(), 'c']);
  });

  it('hands out parts inside one chunk as subarrays of it, without copying', () => {
    const chunk = ownBuffer(Buffer.concat([A, B, C]));
    const parts = new MultipartParser().push(chunk);
    expect(parts.map(String)).toEqual(['alpha', B.subarray(B.indexOf('a body'), B.length - 2).toString(), 'c']);
    for (const part of parts) expect(part.buffer).toBe(chunk.buffer);
    expect(parts[0]!.byteOffset).toBe(chunk.byteOffset + A.indexOf('alpha'));
  });

  it('reads a binary body with any bytes, as long as Content-length says', () => {
    const body = Buffer.from([0, 0, 1, 0xb3, 13, 10, 13, 10, 0xff]);
    expect(parse([framed(body)])).toEqual([body]);
  });

  it('accepts the header names in any case', () => {
    const part = Buffer.from('--b\r\ncontent-type: video/mpeg\r\nCONTENT-LENGTH:3\r\n\r\nxyz\r\n');
    expect(parse([part]).map(String)).toEqual(['xyz']);
  });

  it('errors clearly on a header without Content-length', () => {
    expect(() => parse([Buffer.from('--ffmpeg\r\nContent-type: image/jpeg\r\n\r\nbody\r\n')])).toThrow(
      'multipart framing: part header without Content-length: "--ffmpeg\\r\\nContent-type: image/jpeg"',
    );
  });

  it('errors when no header end comes within 4 KiB', () => {
    const parser = new MultipartParser();
    expect(() => {
      for (let i = 0; i < 10; i++) parser.push(Buffer.alloc(1000, 'x'));
    }).toThrow('multipart framing: no end of part header within 4 KiB');
  });

  it('is idle between parts and not inside one', () => {
    const parser = new MultipartParser();
    expect(parser.idle).toBe(true);
    parser.push(A.subarray(0, 10));
    expect(parser.idle).toBe(false);
    parser.push(A.subarray(10, A.length - 4));
    expect(parser.idle).toBe(false);
    parser.push(A.subarray(A.length - 4));
    expect(parser.idle).toBe(true);
  });

  it('gives the same parts however the stream is chunked (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (bodies, cuts) => {
          const expected = bodies.map((b) => Buffer.from(b));
          const stream = Buffer.concat(expected.map(framed));
          const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
          const chunks = [0, ...at].map((start, i) => stream.subarray(start, at[i] ?? stream.length));
          expect(parse(chunks)).toEqual(expected);
        },
      ),
    );
  });

  it('works as an operator over a real chunked stream', async () => {
    const stream = Buffer.concat([A, B, C]);
    const chunks = [stream.subarray(0, 7), stream.subarray(7, 50), stream.subarray(50)];
    const parts = await lastValueFrom(from(chunks).pipe(multipartParts(), toArray()));
    expect(parts.map(String)).toEqual(['alpha', B.subarray(B.indexOf('a body'), B.length - 2).toString(), 'c']);
  });
});
