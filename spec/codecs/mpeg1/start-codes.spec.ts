import { describePicture, findStartCode, START_CODE } from '../../../src/codecs/mpeg1/start-codes';
import { gopHeader, keyPicture, pictureHeader, pPicture, sequenceHeader, slice } from '../../helpers/mpeg1-fixtures';

const bytes = (...b: number[]): Buffer => Buffer.from(b);

describe('findStartCode', () => {
  it('finds a prefix at the very start', () => {
    expect(findStartCode(bytes(0, 0, 1, 0xb3, 0x28))).toBe(0);
  });

  it('finds a prefix that ends the buffer (its code byte not yet there)', () => {
    expect(findStartCode(bytes(0x55, 0x66, 0, 0, 1))).toBe(2);
    expect(findStartCode(bytes(0, 0, 1))).toBe(0);
  });

  it('finds a complete start code at the very end', () => {
    expect(findStartCode(bytes(0x55, 0, 0, 1, 0xb7))).toBe(1);
  });

  it('does not report partial prefixes', () => {
    expect(findStartCode(bytes())).toBe(-1);
    expect(findStartCode(bytes(0))).toBe(-1);
    expect(findStartCode(bytes(0, 0))).toBe(-1);
    expect(findStartCode(bytes(0x55, 0, 0))).toBe(-1);
    expect(findStartCode(bytes(0x55, 0, 1))).toBe(-1);
    expect(findStartCode(bytes(0, 1, 0, 1, 0x55, 1))).toBe(-1);
  });

  it('finds a prefix after a longer run of zeros', () => {
    expect(findStartCode(bytes(0, 0, 0, 0, 0, 1, 0xb3))).toBe(3);
  });

  it('starts at `from`, and treats a negative `from` as 0', () => {
    const buf = bytes(0, 0, 1, 0x00, 0x55, 0, 0, 1, 0x01);
    expect(findStartCode(buf, 1)).toBe(5);
    expect(findStartCode(buf, 5)).toBe(5);
    expect(findStartCode(buf, 6)).toBe(-1);
    expect(findStartCode(buf, -4)).toBe(0);
  });

  it('agrees with a naive scan at every offset of a mixed buffer', () => {
    const buf = Buffer.concat([keyPicture(), bytes(0, 0, 0, 1, 1, 0, 1, 0, 0), pPicture(), bytes(0, 0)]);
    const naive = (from: number): number => {
      for (let i = Math.max(0, from); i + 2 < buf.length; i++) if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) return i;
      return -1;
    };
    for (let from = 0; from <= buf.length; from++) expect(findStartCode(buf, from)).toBe(naive(from));
  });
});

describe('describePicture', () => {
  it('reads an I picture with a sequence header as a keyframe with its size', () => {
    const data = keyPicture(640, 480);
    expect(describePicture(data)).toEqual({ type: 'I', keyframe: true, pictureOffset: 20, width: 640, height: 480 });
  });

  it('reads odd sizes from the 12-bit fields', () => {
    expect(describePicture(keyPicture(4094, 2))).toMatchObject({ width: 4094, height: 2 });
    expect(describePicture(keyPicture(352, 288))).toMatchObject({ width: 352, height: 288 });
  });

  it('reads a P picture, which is no keyframe and carries no size', () => {
    expect(describePicture(pPicture())).toEqual({ type: 'P', keyframe: false, pictureOffset: 0 });
  });

  it('calls an I picture without a sequence header no keyframe', () => {
    const data = Buffer.concat([gopHeader(), pictureHeader('I'), slice()]);
    expect(describePicture(data)).toEqual({ type: 'I', keyframe: false, pictureOffset: 8 });
  });

  it('reads B and D types', () => {
    expect(describePicture(pictureHeader('B'))?.type).toBe('B');
    expect(describePicture(pictureHeader('D'))?.type).toBe('D');
  });

  it('returns undefined for truncated input', () => {
    const data = keyPicture();
    const pictureAt = data.indexOf(pictureHeader('I'));
    // Cut anywhere before the byte that holds picture_coding_type.
    for (let end = 0; end <= pictureAt + 5; end++) expect(describePicture(data.subarray(0, end))).toBeUndefined();
    expect(describePicture(data.subarray(0, pictureAt + 6))).toMatchObject({ type: 'I', keyframe: true });
  });

  it('returns undefined when a slice comes before any picture header, or there is none', () => {
    expect(describePicture(Buffer.concat([sequenceHeader(), slice(), pictureHeader('I')]))).toBeUndefined();
    expect(describePicture(Buffer.concat([sequenceHeader(), gopHeader()]))).toBeUndefined();
    expect(describePicture(Buffer.alloc(0))).toBeUndefined();
  });

  it('returns undefined for a forbidden picture_coding_type', () => {
    const data = Buffer.from(pictureHeader('I'));
    data[5] = (data[5]! & ~0x38) | (0 << 3);
    expect(describePicture(data)).toBeUndefined();
    data[5] = (data[5]! & ~0x38) | (7 << 3);
    expect(describePicture(data)).toBeUndefined();
  });

  it('knows the start code values', () => {
    expect(START_CODE).toMatchObject({ picture: 0x00, sequenceHeader: 0xb3, group: 0xb8, sequenceEnd: 0xb7 });
  });
});
