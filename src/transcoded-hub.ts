import { merge, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { EncodeOptions } from './codecs/codec';
import { matchMpeg1Rate } from './codecs/mpeg1/frame-rates';
import { mpeg1 } from './codecs/mpeg1/mpeg1-codec';
import { transcodeToMpeg1 } from './codecs/transcode-mpeg1';
import { DEFAULTS } from './defaults';
import { carries, type WireFormat } from './formats/wire-format';
import type { Frame } from './frame';
import { createHub, type Hub, type HubOptions, type HubStats } from './hub';
import type { Picture } from './picture';

/** What {@link withMpeg1Transcode} needs besides the hub. */
export interface Mpeg1TranscodeOptions {
  /** The MPEG-1 formats to serve through the transcode (e.g. `mpegts` and `jsmp`). */
  readonly formats: readonly WireFormat[];
  /** MPEG-1 settings for the transcoder (bitrate, GOP, threads, ffmpeg). Default: MPEG-1's own defaults. */
  readonly encoder?: Omit<EncodeOptions, 'width' | 'height' | 'fps' | 'counters'>;
  /** How long the transcoder runs on after its last viewer. Default: {@link createHub}'s. */
  readonly graceMs?: number;
  readonly restart?: HubOptions['restart'];
  readonly watchdogMs?: number;
  readonly onRestart?: HubOptions['onRestart'];
  readonly scheduler?: SchedulerLike;
  /** Replaces {@link transcodeToMpeg1} (tests). */
  readonly transcoder?: OperatorFunction<Picture, Picture>;
}

/** A hub that also serves MPEG-1 through a transcode: the transcoder's own hub is `transcode`. */
export interface TranscodingHub extends Hub {
  /** The MPEG-1 hub fed by the transcoder (its stats tell whether it runs). */
  readonly transcode: Hub;
}

/**
 * The hub, plus MPEG-1 for viewers whose player has only MPEG-1 (JSMpeg, the original `jsmpg.js`) while the camera
 * sends another codec (H.264): a second hub whose "source" is this hub's own pictures, encoded by one ffmpeg that
 * decodes them and encodes MPEG-1 ({@link transcodeToMpeg1}). It is an ordinary hub, so the transcoder starts with
 * the first MPEG-1 viewer and stops a grace period after the last, restarts on failure, and replays its GOP to
 * joiners; no second camera: it subscribes to this hub like a viewer. `stream`/`gops` answer each format from the
 * hub that serves it; stats are this hub's, with the transcode's muxed bytes added.
 *
 * @example
 * const hub = withMpeg1Transcode(createHub({ encodedSource: camera, codec: h264, encoder }), { formats: [mpegts, jsmp] });
 * hub.stream('mpegts'); // MPEG-1 in MPEG-TS, transcoded while someone watches it
 */
export function withMpeg1Transcode(hub: Hub, options: Mpeg1TranscodeOptions): TranscodingHub {
  for (const format of options.formats) {
    if (!carries(format, mpeg1.id)) throw new Error(`wire format ${format.id} does not carry MPEG-1: nothing to transcode for it`);
  }
  // MPEG-1 has codes for some rates only (a rate it has none for is written as the default rate's code); JSMpeg
  // ignores the code, and each unit still makes one picture.
  const fps = matchMpeg1Rate(hub.fps, true) ? hub.fps : DEFAULTS.fps;
  const settings = { width: hub.width, height: hub.height, fps, allowNonstandardFps: true, ...options.encoder };
  const transcode = createHub({
    // Coded units are not frames, but the transcoder, not the hub, reads them: the hub only passes them on.
    source: hub.pictures$ as unknown as Observable<Frame>,
    codec: mpeg1,
    encoder: settings,
    encode: (options.transcoder ?? transcodeToMpeg1(settings, hub.codec)) as unknown as OperatorFunction<Frame, Picture>,
    formats: options.formats,
    ...(hub.audio ? { audio: hub.audio } : {}),
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
    ...(options.watchdogMs !== undefined ? { watchdogMs: options.watchdogMs } : {}),
    ...(options.restart ? { restart: options.restart } : {}),
    ...(options.onRestart ? { onRestart: options.onRestart } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  const own = new Set(transcode.formats.map((format) => format.id));
  const serving = (format: WireFormat | string): Hub => (own.has(typeof format === 'string' ? format : format.id) ? transcode : hub);
  const stats = Object.create(hub.stats, {
    wireBytes: { get: () => ({ ...hub.stats.wireBytes, ...transcode.stats.wireBytes }), enumerable: true },
  }) as HubStats;
  return {
    pictures$: hub.pictures$,
    stream: (format) => serving(format).stream(format),
    gops: (format) => serving(format).gops(format),
    sound: (format) => serving(format).sound(format),
    codec: hub.codec,
    formats: [...hub.formats, ...transcode.formats],
    ...(hub.audio ? { audio: hub.audio } : {}),
    restarts$: merge(hub.restarts$, transcode.restarts$),
    stats,
    width: hub.width,
    height: hub.height,
    fps: hub.fps,
    keepAlive: () => hub.keepAlive(),
    close: () => {
      transcode.close();
      hub.close();
    },
    transcode,
  };
}
