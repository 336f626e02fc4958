import type { Codec } from './codec';
import { h264 } from './h264/h264-codec';
import { mpeg1 } from './mpeg1/mpeg1-codec';

/** Every codec pistream can encode to. A new codec is one more line here. */
export const CODECS: readonly Codec[] = [mpeg1, h264];

/** The codec called `id`, or undefined. */
export function codecById(id: string): Codec | undefined {
  return CODECS.find((codec) => codec.id === id);
}

/** The codecs a recording can hold (each names its container: `Codec.recordAs`). */
export const RECORDABLE: readonly Codec[] = CODECS.filter((codec) => codec.recordAs !== undefined);

/**
 * Codecs' labels as a person reads a list of them.
 * @example
 * labelList(CODECS); // 'MPEG-1 and H.264'
 */
export function labelList(codecs: readonly Codec[]): string {
  const labels = codecs.map((codec) => codec.label);
  return labels.length <= 1 ? (labels[0] ?? 'nothing') : `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)!}`;
}
