/** The file extensions the recorder writes: MPEG-TS for MPEG-1 (and H.264 without fMP4), fragmented MP4 for H.264. */
export type SegmentExtension = 'ts' | 'mp4';

const NAME = /^pistream-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z\.(ts|mp4)$/;

/**
 * A segment's file name from its start (the capture time of its first picture, ms since the epoch), in UTC, with
 * no characters a file system or URL would object to (no colons): sorting the names sorts by start.
 * @example
 * segmentName(Date.UTC(2025, 0, 14, 9, 30, 12, 345), 'ts'); // 'pistream-20250114T093012.345Z.ts'
 */
export function segmentName(startMs: number, ext: SegmentExtension): string {
  const iso = new Date(startMs).toISOString(); // 2025-01-14T09:30:12.345Z
  return `pistream-${iso.slice(0, 10).replace(/-/g, '')}T${iso.slice(11, 19).replace(/:/g, '')}${iso.slice(19)}.${ext}`;
}

/**
 * The start (ms since the epoch) and extension of a name the recorder makes, or undefined for any other name: the
 * one gate for names from outside (URLs), so only names of this exact shape, that a real UTC time gives back
 * character for character, ever reach the file system. Nothing else (`..`, slashes, NUL, other files in the
 * directory) passes.
 * @example
 * parseSegmentName('pistream-20250114T093012.345Z.ts'); // { startMs: 1736847012345, ext: 'ts' }
 * parseSegmentName('../etc/passwd'); // undefined
 */
export function parseSegmentName(name: string): { readonly startMs: number; readonly ext: SegmentExtension } | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms, ext] = m;
  const startMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms));
  // Date.UTC rolls month 13 or second 61 over into a valid time: such a name is not one we would have written.
  if (!Number.isFinite(startMs) || startMs < 0 || segmentName(startMs, ext as SegmentExtension) !== name) return undefined;
  return { startMs, ext: ext as SegmentExtension };
}
