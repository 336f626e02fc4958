import { map, startWith, type OperatorFunction } from 'rxjs';
import { mpeg1 } from '../codecs/mpeg1/mpeg1-codec';
import type { MuxedPicture, Picture } from '../picture';
import type { WireFormat } from './wire-format';

/** Bytes in the legacy header: `"jsmp"`, width and height as u16 big-endian. */
export const JSMP_HEADER_SIZE = 8;

function assertDimension(name: string, value: number): void {
  // The header has 16 bits for each; 0 would leave the old client with an empty canvas.
  if (!Number.isInteger(value) || value < 1 || value > 0xffff) {
    throw new RangeError(`jsmp ${name} must be a whole number from 1 to 65535, got ${value}`);
  }
}

/**
 * The first message of the original pistreaming protocol, which the old `jsmpg.js` client reads for the canvas
 * size: ASCII `jsmp`, then width and height as u16 big-endian (8 bytes).
 * @example
 * jsmpHeader(640, 480); // <Buffer 6a 73 6d 70 02 80 01 e0>
 */
export function jsmpHeader(width: number, height: number): Buffer {
  assertDimension('width', width);
  assertDimension('height', height);
  const header = Buffer.allocUnsafe(JSMP_HEADER_SIZE);
  header.write('jsmp', 0, 'latin1');
  header.writeUInt16BE(width, 4);
  header.writeUInt16BE(height, 6);
  return header;
}

/**
 * The legacy framing for one viewer: the `jsmp` header on subscribe, then each picture's raw MPEG-1 bytes. The
 * picture's own Buffer is passed on, not copied, so every viewer sends the same bytes. The viewer's
 * stream should start at a keyframe (the old client waits for a sequence header + I picture anyway).
 * Width and height are checked at once.
 * @example
 * hub.pictures$.pipe(toJsmp(640, 480)).subscribe(bytes => socket.send(bytes));
 */
export function toJsmp(width: number, height: number): OperatorFunction<Picture, Buffer> {
  const header = jsmpHeader(width, height);
  return (source) =>
    source.pipe(
      map((picture) => picture.data),
      startWith(header),
    );
}

/** The last header made, by size: every viewer of one stream gets the same 8 bytes. */
let lastHeader: { width: number; height: number; bytes: Buffer } | undefined;

/**
 * The original pistreaming protocol, at `/legacy` (and on `legacyPort`): a `jsmp` header with the picture size,
 * then raw MPEG-1 pictures. The old `jsmpg.js` client plays it unchanged. Nothing is muxed: `wire` is the
 * picture's own bytes.
 */
export const jsmp: WireFormat = {
  id: 'jsmp',
  label: 'jsmp (original pistreaming)',
  path: '/legacy',
  codecs: [mpeg1.id],
  mux: () => map((picture): MuxedPicture => ({ ...picture, wire: picture.data, format: 'jsmp' })),
  preamble: ({ width, height }) => {
    if (lastHeader?.width !== width || lastHeader.height !== height) lastHeader = { width, height, bytes: jsmpHeader(width, height) };
    return lastHeader.bytes;
  },
};
