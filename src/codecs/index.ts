import type { Codec } from './codec';
import { h264 } from './h264/h264-codec';
import { mpeg1 } from './mpeg1/mpeg1-codec';

/** Every codec pistream can encode to. A new codec is one more line here. */
export const CODECS: readonly Codec[] = [mpeg1, h264];

/** The codec called `id`, or undefined. */
export function codecById(id: string): Codec | undefined {
  return CODECS.find((codec) => codec.id === id);
}
