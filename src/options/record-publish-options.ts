import { resolve } from 'node:path';
import Joi from 'joi';
import { RECORDABLE } from '../codecs';
import type { Codec, EncoderSettings } from '../codecs/codec';
import { DEFAULTS, LIMITS } from '../defaults';
import {
  canPublish,
  PUBLISH_PROTOCOLS,
  publishableCodecs,
  publishTarget,
  PublishTargetError,
  type PublishAudio,
  type PublishTarget,
  type PublishTargetSpec,
} from '../publish/publish-target';
import { limited } from './allowed-text';
import { PluginOptionsError } from './plugin-options-error';

/**
 * Continuous recording (`--record`): keyframe-aligned segments of the stream as it is (MPEG-TS for MPEG-1,
 * fragmented MP4 for H.264), named after their UTC start, with retention. The camera stays on while recording.
 */
export interface RecordOptions {
  /** The directory (created if missing). */
  readonly dir: string;
  /** A segment is cut at the first keyframe this many ms after its start. Default 60 000. */
  readonly segmentMs?: number;
  /** Delete segments whose footage is older than this many ms. Default: keep any age. */
  readonly keepMs?: number;
  /** Delete the oldest segments while all together take more bytes than this (at least 1 MiB). Default: any size. */
  readonly maxBytes?: number;
  /** fsync the segment being written this often, in ms (a power cut loses at most that). Default 2000; 0: only when it closes. */
  readonly syncMs?: number;
  /** @deprecated Seconds, before every duration was in ms: use `segmentMs` (this is taken as `segmentSeconds * 1000`). */
  readonly segmentSeconds?: number;
  /** @deprecated Use `keepMs`. */
  readonly keepSeconds?: number;
  /** @deprecated Use `syncMs`. */
  readonly syncSeconds?: number;
  /**
   * Delete the oldest segments while the disk has less free than this: bytes, or a percentage of the disk (`'5%'`).
   * Default `'5%'`; 0 turns it off.
   */
  readonly minFree?: number | string;
}

/** Codecs the recorder can write (each names its container: `Codec.recordAs`), by id. */
export const RECORDABLE_CODECS: readonly string[] = RECORDABLE.map((codec) => codec.id);

// dir last: a bad value of another field is named before a missing dir (the CLI says which flag needs --record).
/** The `record` option's schema (defaults applied: `segmentMs`, `syncMs`, `minFree`), every duration in ms. */
export const recordSchema = Joi.object({
  segmentMs: limited(Joi.number().integer().min(LIMITS.recordSegmentMinMs).max(LIMITS.recordSegmentMaxMs).unit('ms')).default(
    DEFAULTS.recordSegmentMs,
  ),
  keepMs: limited(
    Joi.number()
      .integer()
      .min(1)
      .max(100 * 365 * 86_400_000)
      .unit('ms'),
  ),
  maxBytes: Joi.number()
    .integer()
    .min(LIMITS.recordMinBytes)
    .max(Number.MAX_SAFE_INTEGER)
    .messages({ '*': `{{#label}} must be a whole number of bytes, at least ${LIMITS.recordMinBytes} (1 MiB)` }),
  syncMs: limited(Joi.number().integer().min(0).max(3_600_000).unit('ms').meta({ zero: 'only when a segment closes' })).default(
    DEFAULTS.recordSyncMs,
  ),
  minFree: Joi.alternatives(Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER), Joi.string().pattern(/^\d+(\.\d+)?%$/))
    .default(DEFAULTS.recordMinFree)
    .messages({ '*': '{{#label}} must be bytes (500M, 2G) or a percentage of the disk such as 5%' }),
  // Resolved once, here: a relative directory means the one under the working directory at start, wherever
  // it is joined later (/recordings served nothing when it was joined again).
  dir: Joi.string()
    .min(1)
    .required()
    .custom((dir: string) => resolve(dir))
    .messages({ '*': '{{#label}} must be a directory path' }),
});

/** The deprecated names of `record`'s durations, in seconds, and the ms option each stands for. */
const SECONDS_NAMES = { segmentSeconds: 'segmentMs', keepSeconds: 'keepMs', syncSeconds: 'syncMs' } as const;

/**
 * `record` with its deprecated seconds names (`segmentSeconds`, `keepSeconds`, `syncSeconds`) turned into the ms
 * options they stand for, before validation, so older hosts keep working and the schema sees one unit. Giving both
 * names of one option is refused. Anything that is not a plain object is left for the schema to refuse.
 * @example
 * recordInMs({ dir: 'rec', segmentSeconds: 30 }); // { dir: 'rec', segmentMs: 30000 }
 */
export function recordInMs(record: unknown): unknown {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return record;
  const out: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  for (const [old, ms] of Object.entries(SECONDS_NAMES)) {
    if (out[old] === undefined) continue;
    if (out[ms] !== undefined) throw new PluginOptionsError(['record', old], `is ${ms} in seconds: give one of them (${ms} is preferred)`);
    const seconds = out[old];
    delete out[old];
    // A value that is not a number is passed on as it is, for the schema to name.
    out[ms] = typeof seconds === 'number' ? Math.round(seconds * 1000) : seconds;
  }
  return out;
}

// URLs are checked by publishTarget() (see publishTargets() below), whose messages never quote a URL's secrets (joi's would).
/** The `publish` option's schema: strings or `{ url, audio }` (default none). */
export const publishSchema = Joi.array()
  .items(Joi.alternatives(Joi.string(), Joi.object({ url: Joi.string().required(), audio: Joi.string().valid('silent', 'none') })))
  .messages({ '*': '{{#label}} must be a list of URLs (rtmp://, rtmps://, srt://, rtsp://) or objects with url and audio' })
  .default([]);

/** The `publishAudio` option's schema: `silent` or `none`. */
export const publishAudioSchema = Joi.string()
  .valid('silent', 'none')
  .default(DEFAULTS.publishAudio)
  .messages({ '*': '{{#label}} must be silent or none' });

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
