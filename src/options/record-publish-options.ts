import { resolve } from 'node:path';
import Joi from 'joi';
import { CODECS } from '../codecs';
import type { Codec, EncoderSettings } from '../codecs/codec';
import { DEFAULTS, LIMITS } from '../defaults';
import { canPublish, PUBLISH_PROTOCOLS, publishableCodecs, publishTarget, PublishTargetError, type PublishAudio, type PublishTarget, type PublishTargetSpec } from '../publish/publish-target';
import { PluginOptionsError } from './plugin-options-error';

/**
 * Continuous recording (`--record`): keyframe-aligned segments of the stream as it is (MPEG-TS for MPEG-1,
 * fragmented MP4 for H.264), named after their UTC start, with retention. The camera stays on while recording.
 */
export interface RecordOptions {
  /** The directory (created if missing). */
  readonly dir: string;
  /** A segment is cut at the first keyframe this many seconds after its start. Default 60. */
  readonly segmentSeconds?: number;
  /** Delete segments whose footage is older than this many seconds. Default: keep any age. */
  readonly keepSeconds?: number;
  /** Delete the oldest segments while all together take more bytes than this (at least 1 MiB). Default: any size. */
  readonly maxBytes?: number;
  /** fsync the segment being written this often, in seconds (a power cut loses at most that). Default 2; 0: only when it closes. */
  readonly syncSeconds?: number;
  /**
   * Delete the oldest segments while the disk has less free than this: bytes, or a percentage of the disk (`'5%'`).
   * Default `'5%'`; 0 turns it off.
   */
  readonly minFree?: number | string;
}

/** Codecs the recorder can write (each names its container: `Codec.recordAs`), by id. */
export const RECORDABLE_CODECS: readonly string[] = CODECS.filter((codec) => codec.recordAs !== undefined).map((codec) => codec.id);

// dir last: a bad value of another field is named before a missing dir (the CLI says which flag needs --record).
/** The `record` option's schema (defaults applied: `segmentSeconds`). */
export const recordSchema = Joi.object({
  segmentSeconds: Joi.number().min(LIMITS.recordSegmentMinSeconds).max(LIMITS.recordSegmentMaxSeconds).default(DEFAULTS.recordSegmentSeconds)
    .messages({ '*': `{{#label}} must be a number of seconds from ${LIMITS.recordSegmentMinSeconds} to ${LIMITS.recordSegmentMaxSeconds}` }),
  keepSeconds: Joi.number().positive().max(100 * 365 * 86_400).messages({ '*': '{{#label}} must be a positive number of seconds' }),
  maxBytes: Joi.number().integer().min(LIMITS.recordMinBytes).max(Number.MAX_SAFE_INTEGER)
    .messages({ '*': `{{#label}} must be a whole number of bytes, at least ${LIMITS.recordMinBytes} (1 MiB)` }),
  syncSeconds: Joi.number().min(0).max(3600).default(DEFAULTS.recordSyncMs / 1000)
    .messages({ '*': '{{#label}} must be a number of seconds from 0 (only when a segment closes) to 3600' }),
  minFree: Joi.alternatives(Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER), Joi.string().pattern(/^\d+(\.\d+)?%$/))
    .default(DEFAULTS.recordMinFree)
    .messages({ '*': '{{#label}} must be bytes (500M, 2G) or a percentage of the disk such as 5%' }),
  // Resolved once, here: a relative directory means the one under the working directory at start, wherever
  // it is joined later (/recordings served nothing when it was joined again).
  dir: Joi.string().min(1).required().custom((dir: string) => resolve(dir)).messages({ '*': '{{#label}} must be a directory path' }),
});

// URLs are checked by publishTarget() (see publishTargets() below), whose messages never quote a URL's secrets (joi's would).
/** The `publish` option's schema: strings or `{ url, audio }` (default none). */
export const publishSchema = Joi.array().items(Joi.alternatives(Joi.string(), Joi.object({ url: Joi.string().required(), audio: Joi.string().valid('silent', 'none') })))
  .messages({ '*': '{{#label}} must be a list of URLs (rtmp://, rtmps://, srt://, rtsp://) or objects with url and audio' })
  .default([]);

/** The `publishAudio` option's schema: `silent` or `none`. */
export const publishAudioSchema = Joi.string().valid('silent', 'none').default(DEFAULTS.publishAudio).messages({ '*': '{{#label}} must be silent or none' });

/**
 * The publish targets, checked: each URL (messages show only its redacted form), each protocol against the codec
 * (FLV and RTSP here carry H.264 only; SRT's MPEG-TS also MPEG-1), and, while publishing, a GOP of at most
 * `DEFAULTS.publishMaxGopSeconds` (engines want a keyframe every 2 s).
 */
export function publishTargets(
  specs: readonly (string | PublishTargetSpec)[],
  audio: PublishAudio,
  served: Codec,
  codec: Codec,
  encoder: EncoderSettings | undefined,
): PublishTarget[] {
  const targets = specs.map((spec, i) => {
    let target: PublishTarget;
    try {
      target = publishTarget(spec, audio);
    } catch (err) {
      if (err instanceof PublishTargetError) throw new PluginOptionsError(['publish', i], `${err.label} ${err.problem}`);
      throw err;
    }
    if (!canPublish(served, target.protocol)) {
      const carriers = PUBLISH_PROTOCOLS.filter((protocol) => canPublish(served, protocol)).map((protocol) => `${protocol}://`);
      throw new PluginOptionsError(
        ['publish', i],
        `${target.label}: ${target.protocol}:// needs codec ${publishableCodecs(target.protocol).join(' or ')} (the codec is ${served.label}); ` +
          (carriers.length > 0 ? `only ${carriers.join(', ')} carries ${served.label} as it is` : `no target carries ${served.label}`),
      );
    }
    return target;
  });
  if (targets.length > 0 && encoder) {
    const max = Math.floor(DEFAULTS.publishMaxGopSeconds * encoder.fps);
    const gop = encoder.gop ?? codec.defaultGop(encoder.fps);
    if (gop > max) {
      throw new PluginOptionsError(
        ['encoder', 'gop'],
        `must be at most ${max} frames while publishing (a keyframe every ${DEFAULTS.publishMaxGopSeconds} s at ${Number(encoder.fps.toFixed(3))} fps: ` +
          'Twitch and other engines want 2 s, YouTube at most 4)',
      );
    }
  }
  return targets;
}
