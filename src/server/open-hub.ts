import { isObservable } from 'rxjs';
import { CODECS } from '../codecs';
import { carries } from '../formats/wire-format';
import { createHub, type Hub } from '../hub';
import { withMpeg1Transcode } from '../transcoded-hub';
import type { ValidPluginOptions } from '../options/plugin-options';
import { checkFfmpeg, checkSource, type CheckedFfmpeg } from '../sources/check-source';
import { openSource } from '../sources/open-source';
import { openAudio, type OpenedAudio } from '../audio/open-audio';
import { DEFAULTS } from '../defaults';
import { resolveFfmpeg } from '../process/ffmpeg-path';

/** What the plugin opened: the hub, and for the startup log the source and the ffmpeg it runs. */
export interface Opened {
  readonly hub: Hub;
  readonly kind: string;
  readonly reasons: readonly string[];
  readonly target?: string;
  readonly ffmpeg?: CheckedFfmpeg;
  /** The camera encodes by itself (the Pi's H.264): no ffmpeg encoder. */
  readonly inCamera?: boolean;
  /** The sound as opened (none with the host's own hub). */
  readonly audio?: OpenedAudio;
}

/**
 * Checks the source and ffmpeg (a missing file, device or camera program, or an ffmpeg that does not run, fails
 * registration with a {@link SourceCheckError} rather than a pipeline that retries forever once someone watches),
 * opens the source, and builds the hub; or takes the host's hub as it is.
 */
export async function hubFor(options: ValidPluginOptions): Promise<Opened> {
  if (options.hub) return { hub: options.hub, kind: 'hub', reasons: [] };
  const encoder = options.encoder!;
  const source = options.source!;
  // Every built-in codec encodes with ffmpeg; a host's own codec may not.
  const encoderFfmpeg = CODECS.includes(options.codec);
  const { ffmpeg } = isObservable(source)
    ? { ffmpeg: encoderFfmpeg ? await checkFfmpeg(encoder.ffmpeg) : undefined }
    : await checkSource(source, { ffmpeg: encoder.ffmpeg, encoder: encoderFfmpeg, codec: options.codec.id });
  const opened = isObservable(source)
    ? { source, encodedSource: undefined, kind: 'observable', reasons: [], fullRange: false, target: undefined }
    : await openSource(source, {
        width: encoder.width,
        height: encoder.height,
        fps: encoder.fps,
        ffmpeg: encoder.ffmpeg,
        codec: options.codec.id,
        ...(encoder.bitrate === undefined ? {} : { bitrate: encoder.bitrate }),
        ...(encoder.gop === undefined ? {} : { gop: encoder.gop }),
      });
  const audio = await openAudio(options.audio, {
    ffmpeg: () => ffmpeg?.path ?? resolveFfmpeg(encoder.ffmpeg).path,
    bitrateKbps: options.audioBitrate,
    restart: { ...DEFAULTS.restart, ...options.restart },
    watchdogMs: options.watchdogMs,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  // Formats of another codec (MPEG-1's, for old players) come from a transcode of this hub's pictures.
  const direct = options.formats.filter((format) => carries(format, options.codec.id));
  const transcoded = options.formats.filter((format) => !carries(format, options.codec.id));
  const own = createHub({
    ...(opened.encodedSource ? { encodedSource: opened.encodedSource } : { source: opened.source! }),
    codec: options.codec,
    encoder: { fullRange: opened.fullRange, ...encoder },
    formats: direct,
    ...(audio.hub ? { audio: audio.hub } : {}),
    graceMs: options.graceMs,
    watchdogMs: options.watchdogMs,
    ...(options.restart ? { restart: options.restart } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  const hub =
    transcoded.length === 0
      ? own
      : withMpeg1Transcode(own, {
          formats: transcoded,
          encoder: { ...(encoder.ffmpeg ? { ffmpeg: encoder.ffmpeg } : {}), ...(encoder.threads ? { threads: encoder.threads } : {}) },
          graceMs: options.graceMs,
          watchdogMs: options.watchdogMs,
          ...(options.restart ? { restart: options.restart } : {}),
          ...(options.scheduler ? { scheduler: options.scheduler } : {}),
        });
  return {
    hub,
    kind: opened.kind,
    reasons: opened.reasons,
    ...(opened.target ? { target: opened.target } : {}),
    ...(ffmpeg ? { ffmpeg } : {}),
    ...(opened.encodedSource ? { inCamera: true } : {}),
    audio,
  };
}
