import { fmp4 } from './fmp4';
import { h264Units } from './h264-units';
import { jsmp } from './jsmp';
import { mpegts } from './mpegts';
import type { WireFormat } from './wire-format';

/** Every wire format pistream can serve. A new format is one more line here. */
export const FORMATS: readonly WireFormat[] = [mpegts, jsmp, h264Units, fmp4];

/** The format called `id`, or undefined. */
export function formatById(id: string): WireFormat | undefined {
  return FORMATS.find((format) => format.id === id);
}
