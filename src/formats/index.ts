import { codecById } from '../codecs';
import type { Codec } from '../codecs/codec';
import { mpeg1 } from '../codecs/mpeg1/mpeg1-codec';
import { fmp4, fmp4Sound } from './fmp4';
import { h264Units } from './h264-units';
import { jsmp } from './jsmp';
import { mpegts } from './mpegts';
import { soundAlone } from './sound-alone';
import { carries, type WireFormat } from './wire-format';

/** Every wire format pistream can serve. A new format is one more line here. */
export const FORMATS: readonly WireFormat[] = [mpegts, jsmp, h264Units, fmp4, fmp4Sound, soundAlone];

/**
 * The formats a hub of `codec` (by value, or by id in the codec registry) can serve: those that carry it, and
 * MPEG-1's through the on-demand transcode where the codec has one (`Codec.mpeg1Transcode`).
 * @example
 * formatsFor('h264').map((f) => f.id); // ['mpegts', 'jsmp', 'h264', 'fmp4', 'fmp4-sound', 'sound']
 */
export function formatsFor(codec: string | Codec): readonly WireFormat[] {
  const id = typeof codec === 'string' ? codec : codec.id;
  const transcoded = (typeof codec === 'string' ? codecById(codec) : codec)?.mpeg1Transcode === true;
  return FORMATS.filter((format) => carries(format, id) || (transcoded && carries(format, mpeg1.id)));
}

/** The format called `id`, or undefined. */
export function formatById(id: string): WireFormat | undefined {
  return FORMATS.find((format) => format.id === id);
}
