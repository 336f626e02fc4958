import Joi from 'joi';
import { isObservable, type Observable, type SchedulerLike } from 'rxjs';
import type { Codec, EncoderSettings } from '../codecs/codec';
import { CODECS, codecById, labelList, RECORDABLE } from '../codecs';
import { DEFAULTS, upgradeBurst } from '../defaults';
import { FORMATS, formatById, formatsFor } from '../formats';
import { jsmp } from '../formats/jsmp';
import type { WireFormat } from '../formats/wire-format';
import type { Frame } from '../frame';
import type { Hub, HubOptions } from '../hub';
import type { SourceSpec } from '../sources/open-source';
import { SOURCE_KIND_IDS } from '../sources/source-kinds';
import type { PublishAudio, PublishTarget, PublishTargetSpec } from '../publish/publish-target';
import type { AuthOptions } from './auth-users';
import { trustProxy } from './client-address';
import { HOST_PATTERN } from './host-allowlist';
import { limited } from './allowed-text';
import { PluginOptionsError } from './plugin-options-error';
import { audioBitrateSchema, audioSchema, type AudioOptions } from './audio-options';
import { webRtcSchema, type ValidWebRtcOptions, type WebRtcOptions } from './webrtc-options';
import { HEADER_TIMEOUT_MS, PORT } from './listener-options';
import {
  publishAudioSchema,
  publishSchema,
  publishTargets,
  RECORDABLE_CODECS,
  recordInMs,
  recordSchema,
  type RecordOptions,
} from './record-publish-options';

/** A second listener speaking only the original pistreaming protocol (`jsmp`) at any path, like the original's 8084. */
export interface LegacyListenerOptions {
  /** Its port (0: any free one). */
  readonly port: number;
  /** Address to listen on. Default: the hapi server's own. */
  readonly host?: string;
  /** Serve wss with this certificate chain and key (PEM), as the main listener does with TLS. */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string };
  /** How long a client may take to send its request headers. Default 10 000 ms. */
  readonly headerTimeoutMs?: number;
}

/** The options of the hapi plugin: everything a pistream server is, apart from the listener's port and TLS. */
export interface PistreamPluginOptions extends AudioOptions {
  /**
   * The frames to stream: any `Observable<Frame>` your app already has, or a source to open (`{ kind: 'auto' }`,
   * `{ kind: 'test' }`, `{ kind: 'rpicam', hflip: true }`, `{ kind: 'v4l2', device }`, …). Give `source` or `hub`.
   */
  readonly source?: Observable<Frame> | SourceSpec;
  /** An existing hub to serve (then `source`, `codec`, `encoder`, `graceMs`, `restart`, `watchdogMs` are not used). */
  readonly hub?: Hub;
  /** The codec, by id (`'mpeg1'`) or as a value. Default `'mpeg1'`. */
  readonly codec?: string | Codec;
  /** Encoder settings: frame size and rate (required with `source`), bitrate or quality, GOP, threads, ffmpeg. */
  readonly encoder?: EncoderSettings;
  /**
   * The wire formats to serve, by id. Default: every format the codec's hub can serve: `mpegts` and `jsmp` for
   * MPEG-1; `h264` and `fmp4` for H.264, and `mpegts` and `jsmp` through an MPEG-1 transcode made on demand.
   */
  readonly formats?: readonly string[];
  /** How long (ms) the camera keeps running after the last viewer leaves. Default 5000. */
  readonly graceMs?: number;
  /** Restart policy after a pipeline failure (see `HubOptions.restart`). */
  readonly restart?: HubOptions['restart'];
  /** No picture for this long (ms) while running counts as a failure. Default 5000. */
  readonly watchdogMs?: number;
  /** Run the camera and encoder from server start, not only while someone watches. */
  readonly alwaysOn?: boolean;
  /** Unsent bytes above which a viewer counts as slow and skips pictures. Default 512 KiB. */
  readonly highWaterMark?: number;
  /**
   * A viewer whose page acks (ours does) and has left a picture unacknowledged for longer than this many ms skips
   * pictures until it catches up, then resumes at a keyframe. Default 500; 0: judge by `highWaterMark` only.
   */
  readonly maxLagMs?: number;
  /** A viewer that stays slow this many ms is closed with 1008 "too slow" (the page reconnects). Default 10 000; 0: never. */
  readonly stuckMs?: number;
  /** Most viewers at once, over every listener; more are closed with 1013. Default 100. */
  readonly maxViewers?: number;
  /** Most viewers at once from one client address, over every stream path and player; more get 1013. Default 10; 0: no cap. */
  readonly maxViewersPerAddress?: number;
  /** WebSocket ping interval in ms; a viewer silent for two is dropped. Default 15 000; 0 turns it off. */
  readonly heartbeatMs?: number;
  /** Origins (besides the page's own) whose pages may open the streams, e.g. an embedding site; `'*'`: any. */
  readonly allowOrigins?: readonly string[];
  /**
   * Host names the server answers to besides its defaults (localhost names, IP addresses, this machine's name and
   * `<name>.local`, a TLS certificate's names given by `startServer`): `cam.example.com`, `*.example.com`, or `'*'`
   * for any (the check off). Requests and upgrades to the plugin's paths naming another host get 403 before
   * routing, and a WebSocket's `Origin` must name one of them (or be in `allowOrigins`): DNS rebinding.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * The CSP `frame-ancestors` sources of every response: who may show the page in a frame, e.g.
   * `"'self' http://homeassistant.local:8123"`. Default `'self'` (only pistream's own pages).
   */
  readonly frameAncestors?: string;
  /**
   * Reverse proxies (addresses, CIDR blocks, `loopback`, `private`) whose `X-Forwarded-For` names the client, for
   * the per-address upgrade limit and the logs. Default none: the peer is the client.
   */
  readonly trustProxy?: readonly string[];
  /** Also serve the original protocol on a listener of its own (like the original's port 8084). */
  readonly legacyListener?: LegacyListenerOptions;
  /** Serve the viewer page and its assets. Default true. */
  readonly pages?: boolean;
  /**
   * Credentials for the page, the streams, `/healthz` and `/metrics`: Basic `users` (user → password or scrypt
   * hash) and/or a `token` (`?token=` or `Authorization: Bearer`). 401 before any byte. Absent: open to anyone.
   */
  readonly auth?: AuthOptions;
  /** Leave `/healthz` and `/metrics` open when `auth` is set (for a monitor that has no credentials). */
  readonly publicHealth?: boolean;
  /** WebSocket upgrades allowed per client address: `perSecond` sustained, `burst` at once; beyond, 429. `false`: no limit. Default 5/s, burst 20. */
  readonly upgradeRate?: { readonly perSecond: number; readonly burst: number } | false;
  /** Record the stream to a directory, with retention (see {@link RecordOptions}); `/recordings` lists and serves it. */
  readonly record?: RecordOptions;
  /**
   * Publish the stream to media servers (`--publish`): `rtmp://`/`rtmps://` (FLV, H.264 copied + silent AAC),
   * `srt://` (MPEG-TS; H.264, or MPEG-1 as it is; needs an ffmpeg with SRT), `rtsp://` (push over TCP). One
   * supervised ffmpeg per target; the camera stays on. URLs may hold credentials: only redacted forms are shown.
   */
  readonly publish?: readonly (string | PublishTargetSpec)[];
  /** The audio of targets that do not say: `silent` (a silent AAC track, the default) or `none`. */
  readonly publishAudio?: PublishAudio;
  /** WebRTC viewers at `/whep` (see {@link WebRtcOptions}): on by default for H.264 where the machine has a build. */
  readonly webrtc?: WebRtcOptions;
  /** Clock and timers for the hub, viewers, heartbeat and shutdown (a TestScheduler in tests). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** The options after validation: defaults applied, the codec and formats resolved to values. */
export interface ValidPluginOptions extends Required<
  Omit<
    PistreamPluginOptions,
    | 'source'
    | 'hub'
    | 'codec'
    | 'encoder'
    | 'formats'
    | 'auth'
    | 'legacyListener'
    | 'restart'
    | 'scheduler'
    | 'record'
    | 'publish'
    | 'webrtc'
    | 'audio'
  >
> {
  readonly audio: NonNullable<AudioOptions['audio']>;
  readonly webrtc: ValidWebRtcOptions;
  /** The checked publish targets (none: `[]`). */
  readonly publish: readonly PublishTarget[];
  readonly source?: Observable<Frame> | SourceSpec;
  readonly hub?: Hub;
  readonly codec: Codec;
  readonly encoder?: EncoderSettings;
  readonly formats: readonly WireFormat[];
  readonly auth?: AuthOptions;
  readonly legacyListener?: LegacyListenerOptions;
  readonly restart?: HubOptions['restart'];
  readonly scheduler?: SchedulerLike;
  readonly record?: Omit<RecordOptions, 'segmentSeconds' | 'keepSeconds' | 'syncSeconds'> & {
    readonly segmentMs: number;
    readonly syncMs: number;
    readonly minFree: number | string;
  };
}

const observable = Joi.any().custom((value: unknown) => {
  if (!isObservable(value)) throw new Error('must be an Observable');
  return value;
});

/** A duration option: whole ms from 0 to `max` (every duration of the options is in ms). */
const ms = (max: number) => Joi.number().integer().min(0).max(max).unit('ms');

/** `upgradeRate.perSecond` (`--upgrade-rate`, where 0 turns the limit off). */
export const UPGRADES_PER_SECOND = Joi.number().positive().max(10_000);

/** What `source.rotation` (`--rotation`) allows, and why. */
export const ROTATION_RULE = "0 or 180 (the camera can only flip; to turn the picture by 90°, rotate it in the page's CSS)";

/** A credential token (`auth.token`, `--token`). */
export const TOKEN = limited(Joi.string().min(8).max(512).unit('token'));

/** The schema of the plugin's options: every option's limits, values and default are written here (and read by the CLI). */
export const pluginSchema = Joi.object({
  // An Observable is taken as it is; anything else must be a source spec, so its errors name the bad field.
  source: Joi.alternatives().conditional(observable, {
    then: observable,
    otherwise: Joi.object({
      kind: Joi.string()
        .valid(...SOURCE_KIND_IDS)
        .required()
        .messages({ '*': `{{#label}} must be ${SOURCE_KIND_IDS.join(', ')}` }),
      device: Joi.string(),
      path: Joi.string(),
      hflip: Joi.boolean(),
      vflip: Joi.boolean(),
      rotation: Joi.number()
        .valid(0, 180)
        .messages({ '*': `{{#label}} must be ${ROTATION_RULE}` }),
    }).messages({ 'object.base': '{{#label}} must be an Observable of frames or a source spec with a kind' }),
  }),
  hub: Joi.object({ pictures$: observable.required(), stream: Joi.function().required() }).unknown(),
  codec: Joi.alternatives(
    Joi.string().valid(...CODECS.map((c) => c.id)),
    Joi.object({ id: Joi.string().required(), encode: Joi.function().required(), settings: Joi.object().schema() }).unknown(),
  )
    .messages({ '*': `{{#label}} must be ${CODECS.map((c) => c.id).join(' or ')}, or a Codec value` })
    .default('mpeg1'),
  // Checked below by the codec's own schema, which knows its rates and ranges.
  encoder: Joi.object().unknown().when('source', { is: Joi.exist(), then: Joi.required() }),
  formats: Joi.array()
    .items(Joi.string().valid(...FORMATS.map((f) => f.id)))
    .min(1)
    .messages({ '*': `{{#label}} must be a list of wire format ids: ${FORMATS.map((f) => f.id).join(', ')}` }),
  graceMs: limited(ms(86_400_000)).default(DEFAULTS.graceMs),
  restart: Joi.object({ initialDelayMs: limited(ms(3_600_000)), maxDelayMs: limited(ms(3_600_000)), healthyMs: limited(ms(86_400_000)) }),
  watchdogMs: limited(Joi.number().integer().min(1).max(86_400_000).unit('ms')).default(DEFAULTS.watchdogMs),
  alwaysOn: Joi.boolean().default(false),
  highWaterMark: limited(
    Joi.number()
      .integer()
      .min(1024)
      .max(1 << 30)
      .unit('bytes'),
  ).default(DEFAULTS.highWaterMark),
  maxLagMs: limited(ms(60_000)).default(DEFAULTS.maxLagMs),
  stuckMs: limited(ms(3_600_000).meta({ zero: 'never' })).default(DEFAULTS.stuckMs),
  maxViewers: limited(Joi.number().integer().min(1).max(100_000)).default(DEFAULTS.maxViewers),
  maxViewersPerAddress: limited(Joi.number().integer().min(0).max(100_000).meta({ zero: 'no cap' })).default(DEFAULTS.maxViewersPerAddress),
  heartbeatMs: limited(ms(3_600_000).meta({ zero: 'off' })).default(DEFAULTS.heartbeatMs),
  allowOrigins: Joi.array().items(Joi.string()).default([]),
  frameAncestors: Joi.string()
    .trim()
    .pattern(/^[^;,\r\n]+$/)
    .default(DEFAULTS.frameAncestors)
    .messages({ '*': "{{#label}} must be CSP sources separated by spaces, such as 'self' https://ha.example (no ; or ,)" }),
  allowedHosts: Joi.array()
    .items(Joi.string().pattern(HOST_PATTERN))
    .default([])
    .messages({ '*': '{{#label}} must be host names such as cam.example.com or *.example.com, or *' }),
  trustProxy: Joi.array()
    .items(Joi.string())
    .custom((list: string[]) => {
      trustProxy(list); // throws with the bad entry named
      return list;
    })
    .messages({ 'any.custom': '{{#label}} entry {{#error.message}}' })
    .default([]),
  legacyListener: Joi.object({
    port: PORT.required(),
    host: Joi.string(),
    tls: Joi.object({
      cert: Joi.alternatives(Joi.binary(), Joi.string()).required(),
      key: Joi.alternatives(Joi.binary(), Joi.string()).required(),
    }),
    headerTimeoutMs: HEADER_TIMEOUT_MS,
  }),
  pages: Joi.boolean().default(true),
  auth: Joi.object({
    users: Joi.object().pattern(
      Joi.string()
        .min(1)
        .pattern(/^[^:]*$/),
      Joi.string(),
    ),
    // 8 to 512 characters: a shorter token is guessed within the login throttle's budget in days, and a longer one
    // no longer fits in a URL or a header line every proxy passes on. The CLI's --token reads this rule.
    token: TOKEN,
  })
    .or('users', 'token')
    .messages({ 'object.missing': '{{#label}} needs users or a token' }),
  publicHealth: Joi.boolean().default(false),
  upgradeRate: Joi.alternatives(
    Joi.object({ perSecond: UPGRADES_PER_SECOND.required(), burst: Joi.number().integer().min(1).required() }),
    Joi.valid(false),
  ).default({ perSecond: DEFAULTS.upgradeRatePerSecond, burst: upgradeBurst(DEFAULTS.upgradeRatePerSecond) }),
  record: recordSchema,
  publish: publishSchema,
  publishAudio: publishAudioSchema,
  webrtc: webRtcSchema,
  audio: audioSchema,
  audioBitrate: audioBitrateSchema,
  scheduler: Joi.object({ now: Joi.function().required(), schedule: Joi.function().required() }).unknown(),
})
  .xor('source', 'hub')
  .messages({ 'object.missing': 'needs either source or hub', 'object.xor': 'takes source or hub, not both' })
  .prefs({ errors: { wrap: { label: false } } });

/** Splits joi's "label must be …" into the path and the problem. */
function optionsError(error: Joi.ValidationError, prefix: readonly (string | number)[] = []): PluginOptionsError {
  const detail = error.details[0]!;
  const label = String(detail.context?.label ?? '');
  const problem = label && detail.message.startsWith(label) ? detail.message.slice(label.length).trim() : detail.message;
  return new PluginOptionsError([...prefix, ...detail.path], problem);
}

/**
 * The one validator of what the plugin accepts: applies the defaults, resolves the codec and formats, and checks
 * the encoder settings with the codec's schema. Throws {@link PluginOptionsError} naming the option.
 * @example
 * validatePluginOptions({ source: { kind: 'test' }, encoder: { width: 640, height: 480, fps: 29.97 } }).encoder?.fps; // 30000/1001
 */
/** What the schema hands back (defaults applied) before the codec, formats, encoder and targets become values. */
type SchemaOutput = Omit<ValidPluginOptions, 'codec' | 'formats' | 'encoder' | 'publish'> & {
  readonly codec: string | Codec;
  readonly encoder?: object;
  readonly formats?: string[];
  readonly publish: (string | PublishTargetSpec)[];
  readonly publishAudio: PublishAudio;
};

export function validatePluginOptions(raw: PistreamPluginOptions): ValidPluginOptions {
  const given = raw?.record === undefined ? raw : { ...raw, record: recordInMs(raw.record) as RecordOptions };
  const result = pluginSchema.validate(given ?? {}, { abortEarly: true }) as Joi.ValidationResult<SchemaOutput>;
  if (result.error) throw optionsError(result.error);
  const value = result.value;
  const codec: Codec = typeof value.codec === 'string' ? codecById(value.codec)! : value.codec;
  let encoder: EncoderSettings | undefined;
  if (value.encoder !== undefined) {
    const checked = codec.settings.validate(value.encoder, { abortEarly: true, errors: { wrap: { label: false } } });
    if (checked.error) throw optionsError(checked.error, ['encoder']);
    encoder = checked.value as EncoderSettings;
  }
  const available = raw.hub?.formats ?? formatsFor(codec.id);
  const formats = value.formats ? value.formats.map((id) => formatById(id)!) : available;
  const served = raw.hub?.codec ?? codec;
  const servable = raw.hub?.formats ?? formatsFor(served.id);
  for (const format of formats) {
    if (!servable.includes(format)) {
      throw new PluginOptionsError(['formats'], `cannot include ${format.id}: it does not carry ${served.label}`);
    }
  }
  // The legacy listener speaks only the original protocol.
  if (value.legacyListener && !formats.some((format) => format.id === 'jsmp')) {
    throw new PluginOptionsError(
      ['legacyListener', 'port'],
      servable.includes(jsmp)
        ? 'needs the jsmp format among formats (it serves only the original protocol)'
        : `serves the original protocol, which carries MPEG-1 only: use codec mpeg1 with it (the codec is ${served.label})`,
    );
  }
  if (value.record && !RECORDABLE_CODECS.includes(served.id)) {
    throw new PluginOptionsError(['record', 'dir'], `records ${labelList(RECORDABLE)} only (the codec is ${served.label})`);
  }
  const publish = publishTargets(value.publish, value.publishAudio, served, codec, encoder);
  // Joi hands back a shallow copy of an object it validated: keep the caller's own hub, source and scheduler.
  return {
    ...(value as Omit<SchemaOutput, 'codec' | 'formats' | 'encoder' | 'publish'>),
    publish,
    hub: raw.hub,
    source: raw.source,
    audio: isObservable(raw.audio) ? raw.audio : value.audio,
    scheduler: raw.scheduler,
    codec,
    formats,
    ...(encoder ? { encoder } : {}),
  };
}
