import { fmp4 } from './fmp4';
import { h264Units } from './h264-units';
import { jsmp } from './jsmp';
import { mpegts } from './mpegts';
import { carries, type WireFormat } from './wire-format';

/** Every wire format pistream can serve. A new format is one more line here. */
export const FORMATS: readonly WireFormat[] = [mpegts, jsmp, h264Units, fmp4];

/**
 * Codecs whose hubs also serve MPEG-1's formats (`/stream`, `/legacy`) to old players, through a transcode started
 * on demand (`withMpeg1Transcode`).
 */
export const TRANSCODED_TO_MPEG1: readonly string[] = ['h264'];

/** The formats a hub of `codec` can serve: those that carry it, and MPEG-1's through the transcode where there is one. */
export function formatsFor(codec: string): readonly WireFormat[] {
  return FORMATS.filter((format) => carries(format, codec) || (TRANSCODED_TO_MPEG1.includes(codec) && carries(format, 'mpeg1')));
}

/** The format called `id`, or undefined. */
export function formatById(id: string): WireFormat | undefined {
  return FORMATS.find((format) => format.id === id);
}
