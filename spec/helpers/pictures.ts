import { map } from 'rxjs';
import type { Mpeg1Picture, PictureType } from '../../src/codecs/mpeg1/mpeg1-picture';
import type { WireFormat } from '../../src/formats/wire-format';
import type { MuxedPicture, Picture } from '../../src/picture';
import { keyPicture, pPicture } from './mpeg1-fixtures';

/** Capture time of picture `seq` in fixtures: a fixed epoch plus 1/24 s per picture (nothing reads the wall clock). */
const EPOCH_MS = 1_700_000_000_000;

/**
 * A Picture fixture: an `I` picture is a keyframe (sequence + GOP header + I, as ffmpeg writes it), anything else
 * is a P picture's bytes with the given type.
 *
 * @example
 * pic('I', 0); // keyframe, seq 0
 * pic('P', 1);
 */
export function pic(type: PictureType, seq: number): Mpeg1Picture {
  const keyframe = type === 'I';
  return {
    data: keyframe ? keyPicture() : pPicture(seq % 1024),
    codec: 'mpeg1',
    type,
    keyframe,
    seq,
    capturedAt: EPOCH_MS + Math.round((seq * 1000) / 24),
    width: 640,
    height: 480,
  };
}

/**
 * Marble values for pictures, one per letter: **upper case is a keyframe (I), lower case a P picture**, and `seq`
 * is the letter's place in `letters`. So `pictures('AbcDe')` reads like the marble `-A-b-c-D-e-`.
 *
 * @example
 * const v = pictures('AbcDe');
 * cold('-A-b-c-D-e-', v);
 */
export function pictures(letters: string): Record<string, Picture> {
  const values: Record<string, Picture> = {};
  [...letters].forEach((letter, seq) => {
    values[letter] = pic(letter === letter.toUpperCase() ? 'I' : 'P', seq);
  });
  return values;
}

/** What the test format's mux adds to every picture: one blank TS packet (the real muxers are tested elsewhere). */
export function withWire<P extends Picture>(picture: P): MuxedPicture<P> {
  return { ...picture, wire: Buffer.alloc(188), format: 'test' };
}

/** `withWire` over a whole marble value map. */
export function muxedValues(values: Record<string, Picture>): Record<string, MuxedPicture> {
  return Object.fromEntries(Object.entries(values).map(([k, p]) => [k, withWire(p)]));
}

/** A stand-in wire format (`test`, at `/test`) whose mux is {@link withWire}: for specs of the hub and viewers. */
export const testFormat: WireFormat = {
  id: 'test',
  label: 'test',
  path: '/test',
  codecs: ['mpeg1'],
  mux: () => map(withWire),
};
