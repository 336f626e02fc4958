/**
 * How long a WebRTC viewer may go without a picture, while the stream makes them, before the operator is told (a
 * warning in the log, `pistream_webrtc_viewers_without_pictures` in /metrics): a session answered but never connected,
 * a connection whose media never opened, or pictures held back. Several GOPs at any usual `--gop`.
 */
export const WHEP_NO_PICTURE_MS = 10_000;

/** How often the sessions are looked at. */
export const WHEP_WATCH_EVERY_MS = 2000;

/** What the watch remembers of one viewer. */
export interface PictureWatch {
  /** Pictures sent to it so far, and the stream's count of pictures made, when it last got one (or joined). */
  readonly sent: number;
  readonly made: number;
  /** When it last got a picture, or joined (ms). */
  readonly since: number;
  /** Whether it has been reported without pictures (and not yet as getting them again). */
  readonly stalled: boolean;
}

/** What changed at one look: it has gone without pictures too long, or it gets them again after that. */
export type PictureWatchChange = 'stalled' | 'flowing';

/**
 * The watch of a viewer that joined at `now`, when the stream had made `made` pictures.
 * @example
 * let watch = startPictureWatch(hub.stats.pictures, Date.now());
 */
export function startPictureWatch(made: number, now: number): PictureWatch {
  return { sent: 0, made, since: now, stalled: false };
}

/**
 * One look at a viewer: `sent` pictures sent to it so far, `made` by the stream so far. It is stalled once it has
 * had none for `limitMs` while the stream made some (a stream that makes none, such as a camera restarting, stalls
 * no viewer); it flows again with its next picture. Pure.
 * @example
 * const { watch, change } = lookAtPictures(previous, peer.stats().accessUnitsSent, hub.stats.pictures, Date.now());
 * if (change === 'stalled') log.warn('no picture for 10 s');
 */
export function lookAtPictures(
  previous: PictureWatch,
  sent: number,
  made: number,
  now: number,
  limitMs = WHEP_NO_PICTURE_MS,
): { readonly watch: PictureWatch; readonly change?: PictureWatchChange } {
  if (sent > previous.sent) {
    const watch = { sent, made, since: now, stalled: false };
    return previous.stalled ? { watch, change: 'flowing' } : { watch };
  }
  if (previous.stalled || made <= previous.made || now - previous.since < limitMs) return { watch: previous };
  return { watch: { ...previous, stalled: true }, change: 'stalled' };
}
