import { availableParallelism } from 'node:os';
import Joi from 'joi';
import { CODECS } from '../codecs';
import { mpeg1 } from '../codecs/mpeg1/mpeg1-codec';
import { DEFAULTS, upgradeBurst } from '../defaults';
import { DEFAULT_SOURCE_KIND, SOURCE_SYNTAX } from '../sources/source-kinds';
import { allowedText, defaultOf, numberLimits } from '../options/allowed-text';
import { HOST_PATTERN } from '../options/host-allowlist';
import { HEADER_TIMEOUT_MS, HOST, MAIN_PORT, PORT } from '../options/listener-options';
import { ROTATION_RULE, TOKEN, UPGRADES_PER_SECOND } from '../options/plugin-options';
import { publishAudioSchema } from '../options/record-publish-options';
import { LOG_LEVELS } from '../options/server-config';
import { durationHelp } from './duration-text';
import type { FlagSpec } from './flag-values';
import {
  boolean,
  BOOLEAN,
  convertedBy,
  duration,
  encoderAllowed,
  fpsText,
  list,
  normalizeOrigin,
  number,
  optionSchema,
  parseByteSize,
  parseSource,
  pluginNumber,
  sizeRange,
  splitPublishUrls,
  token,
} from './flag-values';

/**
 * Encoder threads for `--threads auto`: mpeg1video threads by slices, so more threads cut the time to encode each
 * picture (latency) without holding a frame back; one core is left for the camera process and Node, and beyond
 * four the slices cost more bits than they save time at these sizes.
 * @example
 * autoThreads(4); // 3 on a Pi 3/4/5
 */
export function autoThreads(cpus: number = availableParallelism()): number {
  return Math.min(4, Math.max(1, cpus - 1));
}

export type { FlagSpec, Target } from './flag-values';

export const FLAGS: readonly FlagSpec[] = [
  {
    key: 'source',
    flag: '--source <kind>',
    shown: DEFAULT_SOURCE_KIND,
    target: 'plugin.source',
    help: `where frames come from: ${SOURCE_SYNTAX}; auto tries rpicam, libcamera, raspivid, then /dev/video0, else the test pattern`,
    schema: Joi.string().custom((v: string) => parseSource(v)),
    allowed: SOURCE_SYNTAX,
  },
  {
    key: 'codec',
    flag: '--codec <codec>',
    shown: mpeg1.id,
    target: 'plugin.codec',
    help:
      `video codec: ${CODECS.map((c) => `${c.id} (${c.label}, default bitrate ${c.defaultBitrate} kbit/s, GOP ${c.defaultGop(DEFAULTS.fps)} at ${DEFAULTS.fps} fps)`).join(', ')}; ` +
      "h264 comes from the Pi camera's own encoder (no ffmpeg), or libx264 for the test pattern, V4L2 and files; the page plays it " +
      'through WebCodecs on https or localhost, else through MSE, and browsers with neither get an MPEG-1 transcode',
    schema: Joi.string(),
    allowed: CODECS.map((c) => c.id).join(' or '),
  },
  {
    key: 'width',
    flag: '--width <px>',
    shown: String(DEFAULTS.width),
    target: 'plugin.encoder.width',
    help: `frame width, ${sizeRange} (below 512 the test pattern has no barcode, so the page shows no latency figure)`,
    ...number(encoderAllowed('width')),
  },
  {
    key: 'height',
    flag: '--height <px>',
    shown: String(DEFAULTS.height),
    target: 'plugin.encoder.height',
    help: `frame height, ${sizeRange}`,
    ...number(encoderAllowed('height')),
  },
  {
    key: 'fps',
    flag: '--fps <rate>',
    shown: String(DEFAULTS.fps),
    target: 'plugin.encoder.fps',
    help: `frames per second (24, 29.97 or 30000/1001): ${CODECS.map((c) => `${c.label} ${c.settingsHelp.fps}`).join('; ')}`,
    schema: fpsText,
    allowed: 'a number of frames per second, e.g. 24, 29.97 or 30000/1001',
  },
  {
    key: 'allowNonstandardFps',
    flag: '--allow-nonstandard-fps',
    shown: 'off',
    target: 'plugin.encoder.allowNonstandardFps',
    help:
      'also allow 5, 10, 12 and 15 fps, written with the unofficial MPEG-1 rate codes that ffmpeg uses ' +
      'under -strict unofficial; JSMpeg ignores the code while streaming, other players may not',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'bitrate',
    flag: '--bitrate <kbit/s>',
    shown: CODECS.map((c) => `${c.defaultBitrate} (${c.label})`).join(', '),
    target: 'plugin.encoder.bitrate',
    help: 'target bitrate in kbit/s (not with --quality)',
    ...number(encoderAllowed('bitrate')),
  },
  {
    key: 'quality',
    flag: '--quality <q>',
    shown: 'off',
    target: 'plugin.encoder.quality',
    help: `fixed quality instead of a bitrate (not with --bitrate), lower is better and bigger: ${CODECS.map((c) => `${c.label} ${c.settingsHelp.quality}`).join(', ')}`,
    ...number(
      `a whole number (${CODECS.map((c) => {
        const { min, max } = numberLimits(c.settings.extract('quality'));
        return `${c.label}: ${min} to ${max}`;
      }).join('; ')})`,
    ),
  },
  {
    key: 'gop',
    flag: '--gop <frames>',
    shown: 'fps, rounded (one keyframe a second)',
    target: 'plugin.encoder.gop',
    help: 'pictures from one keyframe to the next; new viewers start at once from the cached GOP, so longer costs only recovery time after loss',
    ...number(encoderAllowed('gop')),
  },
  {
    key: 'threads',
    flag: '--threads <n|auto>',
    shown: `auto (${autoThreads()} here)`,
    target: 'plugin.encoder.threads',
    help: 'encoder threads; mpeg1video threads by slices, so more threads encode each picture sooner and add no delay; auto leaves one core for the camera and Node, at most 4',
    // A pattern, not valid('auto'): joi skips custom() for a value that valid() allows, which left 'auto' as text.
    schema: Joi.alternatives(
      Joi.number(),
      Joi.string()
        .pattern(/^auto$/)
        .custom(() => autoThreads()),
    ),
    allowed: `auto or ${encoderAllowed('threads')}`,
  },
  {
    key: 'hflip',
    flag: '--hflip',
    shown: 'off',
    target: 'plugin.source.hflip',
    help: 'mirror left–right',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'vflip',
    flag: '--vflip',
    shown: 'off',
    target: 'plugin.source.vflip',
    help: 'mirror top–bottom',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'rotation',
    flag: '--rotation <0|180>',
    shown: '0',
    target: 'plugin.source.rotation',
    help: "turn the picture; the camera can only flip, so 90 and 270 belong in the page's CSS",
    ...number(ROTATION_RULE),
  },
  // The listener's flags: no plugin judges them, so their schemas (listener-options.ts) check the values here.
  {
    key: 'port',
    flag: '--port <port>',
    shown: String(defaultOf(MAIN_PORT)),
    target: 'port',
    help: 'HTTP and WebSocket port (0: any free port)',
    schema: PORT,
    allowed: allowedText(PORT),
  },
  {
    key: 'host',
    flag: '--host <address>',
    shown: String(defaultOf(HOST)),
    target: 'host',
    help: 'address to listen on (0.0.0.0: every interface)',
    schema: Joi.string().hostname(),
    allowed: 'a host name or an IP address',
  },
  {
    key: 'legacyPort',
    flag: '--legacy-port <port>',
    help: 'also serve the original pistreaming protocol on this port, at any path (the original used 8084)',
    ...pluginNumber('plugin.legacyListener.port'),
  },
  {
    key: 'ffmpeg',
    flag: '--ffmpeg <path>',
    shown: 'ffmpeg on PATH, else the bundled one',
    target: 'plugin.encoder.ffmpeg',
    help: 'the ffmpeg binary to run',
    schema: Joi.string().min(1),
    allowed: encoderAllowed('ffmpeg'),
  },
  {
    key: 'alwaysOn',
    flag: '--always-on',
    shown: 'off',
    target: 'plugin.alwaysOn',
    help: 'start the camera at startup and keep it running, rather than on the first viewer',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'grace',
    flag: '--grace <seconds>',
    target: 'plugin.graceMs',
    help: `how long the camera keeps running after the last viewer leaves (${durationHelp('s')})`,
    ...duration('s', optionSchema('plugin.graceMs')),
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    shown: DEFAULTS.logLevel,
    target: 'logLevel',
    help: LOG_LEVELS.join(', '),
    schema: Joi.string().valid(...LOG_LEVELS),
    allowed: LOG_LEVELS.join(', '),
  },
  {
    key: 'allowOrigin',
    flag: '--allow-origin <origin>',
    shown: "none (only the page's own)",
    repeatable: true,
    target: 'plugin.allowOrigins',
    help: 'also let pages from this origin (e.g. https://example.com) open the streams; repeat it or give a comma list; * allows any site',
    schema: list.custom((v: string[]) => v.map(normalizeOrigin)),
    allowed: 'origins like https://example.com (comma-separated) or *',
  },
  {
    key: 'allowedHosts',
    flag: '--allowed-hosts <names>',
    shown: `${DEFAULTS.allowedHosts.join(', ')}, IP addresses, this machine's name and NAME.local, the TLS certificate's names`,
    repeatable: true,
    target: 'plugin.allowedHosts',
    help: 'also answer to these host names (cam.example.com, *.example.com; repeat it or give a comma list); requests naming any other host get 403 (DNS rebinding); * answers to any',
    schema: list.custom((v: string[]) => {
      const bad = v.find((name) => !HOST_PATTERN.test(name));
      if (bad !== undefined) throw new Error(`not a host name: ${bad}`);
      return v;
    }),
    allowed: 'host names such as cam.example.com or *.example.com (comma-separated), or *',
  },
  {
    key: 'frameAncestors',
    flag: '--frame-ancestors <sources>',
    shown: String(defaultOf(optionSchema('plugin.frameAncestors'))),
    target: 'plugin.frameAncestors',
    help: 'who may show the page in a frame (CSP frame-ancestors), e.g. "\'self\' http://homeassistant.local:8123" for a Home Assistant iframe card',
    schema: Joi.string(),
    allowed: allowedText(optionSchema('plugin.frameAncestors')),
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy <addresses>',
    shown: 'none',
    repeatable: true,
    target: 'plugin.trustProxy',
    help: 'reverse proxies (addresses, CIDR blocks, loopback, private) whose X-Forwarded-For names the client, for the per-address limit and logs',
    schema: list,
    allowed: 'addresses, CIDR blocks (10.0.0.0/8), loopback or private, comma-separated',
  },
  {
    key: 'auth',
    flag: '--auth <user:password>',
    shown: 'off',
    help: 'require HTTP Basic auth with this user and password for the page, the streams, /healthz and /metrics',
    schema: Joi.string().pattern(/^[^:]+:.+$/),
    allowed: 'user:password (a user name without ":" and a password)',
    secret: (v) => (!v.includes(':') ? 'has no ":"' : v.startsWith(':') ? 'has no user name before ":"' : 'has no password after ":"'),
  },
  {
    key: 'authFile',
    flag: '--auth-file <path>',
    shown: 'off',
    help: 'require HTTP Basic auth with the users of this file of user:scrypt$SALT$KEY lines (see README, Security)',
    schema: Joi.string().min(1),
    allowed: 'a path to a file of user:scrypt$SALT$KEY lines',
  },
  {
    key: 'token',
    flag: '--token <token>',
    shown: 'off',
    help: 'require this token (?token=… in the page URL, or Authorization: Bearer …); prefer the variable, which ps does not show',
    schema: TOKEN,
    allowed: allowedText(TOKEN),
    secret: (v) => (v.length < token.min! ? `has fewer than ${token.min} characters` : `has more than ${token.max} characters`),
  },
  {
    key: 'publicHealth',
    flag: '--public-health',
    shown: 'off',
    target: 'plugin.publicHealth',
    help: 'leave /healthz and /metrics open to anyone when --auth, --auth-file or --token is set',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'tlsCert',
    flag: '--tls-cert <path>',
    shown: 'off',
    help: 'serve https and wss with this certificate (PEM, chain included); needs --tls-key',
    schema: Joi.string().min(1),
    allowed: 'a path to a PEM certificate',
  },
  {
    key: 'tlsKey',
    flag: '--tls-key <path>',
    shown: 'off',
    help: 'the private key (PEM) of --tls-cert',
    schema: Joi.string().min(1),
    allowed: 'a path to a PEM private key',
  },
  {
    key: 'maxViewers',
    flag: '--max-viewers <n>',
    help: 'most viewers at once, legacy listener included; more are closed with 1013 (try again later)',
    ...pluginNumber('plugin.maxViewers'),
  },
  {
    key: 'maxViewersPerAddress',
    flag: '--max-viewers-per-address <n>',
    help: 'most viewers at once from one address, over every stream and player; more are closed with 1013; 0: no cap',
    ...pluginNumber('plugin.maxViewersPerAddress'),
  },
  {
    key: 'headerTimeout',
    flag: '--header-timeout <seconds>',
    help: `how long a client may take to send its request headers before it is cut off (slow-header attacks; ${durationHelp('s')})`,
    ...duration('s', HEADER_TIMEOUT_MS, true),
  },
  {
    key: 'upgradeRate',
    flag: '--upgrade-rate <per-second>',
    shown: String((defaultOf(optionSchema('plugin.upgradeRate')) as { perSecond: number }).perSecond),
    help: `WebSocket connections per second allowed from one address, in bursts of up to ${upgradeBurst(1)}× that; beyond, 429; 0: no limit`,
    // 0 is the flag's word for upgradeRate: false, so it is checked here: the plugin never sees a 0 rate.
    schema: Joi.number().min(0).max(numberLimits(UPGRADES_PER_SECOND).max!),
    allowed: `a number from 0 to ${numberLimits(UPGRADES_PER_SECOND).max}`,
  },
  {
    key: 'webrtc',
    flag: '--webrtc <on|off>',
    shown: 'on with --codec h264 where this machine has a WebRTC build',
    target: 'plugin.webrtc.enabled',
    help: 'serve WebRTC viewers (WHEP at /whep: UDP, for phones and Wi-Fi); off, or on to be warned when it cannot be',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'webrtcPort',
    flag: '--webrtc-port <port>',
    help: 'the one UDP port every WebRTC viewer shares: open it in the firewall',
    ...pluginNumber('plugin.webrtc.port'),
  },
  {
    key: 'webrtcAddress',
    flag: '--webrtc-address <addresses>',
    shown: "none (the machine's own addresses)",
    repeatable: true,
    target: 'plugin.webrtc.addresses',
    help: 'also offer WebRTC viewers these IP addresses (a NAT or Docker host that forwards --webrtc-port); repeat it or give a comma list',
    schema: list,
    allowed: 'IP addresses such as 203.0.113.7 (comma-separated)',
  },
  {
    key: 'stun',
    flag: '--stun <url>',
    shown: 'none',
    repeatable: true,
    target: 'plugin.webrtc.stun',
    help: 'ask this STUN server (stun:host:port) for the public address to offer WebRTC viewers; a LAN needs none',
    schema: list,
    allowed: 'STUN URLs such as stun:stun.example.com:3478 (comma-separated)',
  },
  {
    key: 'maxLag',
    flag: '--max-lag <ms>',
    target: 'plugin.maxLagMs',
    help:
      'a viewer whose page has left a picture unacknowledged this long skips pictures until it catches up, then resumes at a keyframe; ' +
      `one slow that way for ${Number(defaultOf(optionSchema('plugin.stuckMs'))) / 1000} s is closed (1008) and reconnects; 0: no bound (${durationHelp('ms')})`,
    ...duration('ms', optionSchema('plugin.maxLagMs')),
  },
  {
    key: 'highWaterMark',
    flag: '--high-water-mark <bytes>',
    help: "unsent bytes on a viewer's socket above which it skips pictures (judges clients that cannot ack, such as the original jsmpg.js)",
    ...pluginNumber('plugin.highWaterMark'),
    shown: `${String(defaultOf(optionSchema('plugin.highWaterMark')))} (${Number(defaultOf(optionSchema('plugin.highWaterMark'))) / 1024} KiB)`,
  },
  {
    key: 'record',
    flag: '--record <dir>',
    shown: 'off',
    target: 'plugin.record.dir',
    help: 'record the stream as it is (no second encode) into this directory, in segments cut at keyframes: MPEG-TS for MPEG-1, fragmented MP4 for H.264; keeps the camera on; listed at /recordings',
    schema: Joi.string().min(1),
    allowed: 'a directory path',
  },
  {
    key: 'recordSegment',
    flag: '--record-segment <seconds>',
    target: 'plugin.record.segmentMs',
    help: `length of a recording segment: each is cut at the first keyframe after this long (${durationHelp('s')})`,
    ...duration('s', optionSchema('plugin.record.segmentMs')),
  },
  {
    key: 'recordKeep',
    flag: '--record-keep <duration>',
    target: 'plugin.record.keepMs',
    help: 'delete recordings older than this, oldest first: seconds, or with a unit: 30m, 12h, 7d, 2w',
    ...duration('s', optionSchema('plugin.record.keepMs')),
    shown: 'forever',
    allowed: 'a duration such as 3600, 90m, 12h, 7d or 2w',
  },
  {
    key: 'recordMaxSize',
    flag: '--record-max-size <bytes>',
    shown: 'no limit',
    target: 'plugin.record.maxBytes',
    help: 'delete the oldest recordings while all of them take more than this: bytes, or with a unit: 500M, 20G (powers of 1024)',
    schema: convertedBy(parseByteSize),
    allowed: 'a size such as 1073741824, 500M or 20G, at least 1M',
  },
  {
    key: 'recordSync',
    flag: '--record-sync <seconds>',
    target: 'plugin.record.syncMs',
    help: `fsync the segment being written this often, so a power cut loses at most that much; 0: only when a segment closes (${durationHelp('s')})`,
    ...duration('s', optionSchema('plugin.record.syncMs')),
  },
  {
    key: 'recordMinFree',
    flag: '--record-min-free <size|percent>',
    shown: String(defaultOf(optionSchema('plugin.record.minFree'))),
    target: 'plugin.record.minFree',
    help: 'delete the oldest recordings while the disk has less free than this, before it fills: a percentage of the disk (5%) or a size (2G); 0: off',
    schema: Joi.alternatives(
      Joi.string()
        .pattern(/^\s*\d+(\.\d+)?\s*%\s*$/)
        .custom((v: string) => v.replace(/\s/g, '')),
      convertedBy(parseByteSize),
    ),
    allowed: 'a percentage of the disk such as 5%, or a size such as 2G',
  },
  {
    // No target: put in place by the parser, so a refused URL is reported without its secrets (see fromPluginError).
    key: 'publish',
    flag: '--publish <url>',
    shown: 'off',
    repeatable: true,
    help:
      'also publish the stream to a media server (repeat it, or a comma list): rtmp:// or rtmps:// (FLV: H.264 as it is, plus silent AAC), ' +
      'srt:// (MPEG-TS; needs an ffmpeg with SRT), rtsp:// (push over TCP); all but srt:// need --codec h264; keeps the camera on, ' +
      `GOP at most ${DEFAULTS.publishMaxGopSeconds} s; logs show the URL without its key (prefer the variable: ps shows flags)`,
    schema: Joi.string().custom((v: string) => splitPublishUrls(v)),
    allowed: 'URLs such as rtmp://host/app/key (comma-separated)',
    secret: () => 'is not a list of URLs',
  },
  {
    key: 'publishAudio',
    flag: '--publish-audio <audio>',
    shown: String(defaultOf(publishAudioSchema)),
    target: 'plugin.publishAudio',
    help: 'the audio track of --publish targets: silent (silent AAC: YouTube and others refuse video without audio) or none',
    schema: Joi.string(),
    allowed: allowedText(publishAudioSchema),
  },
];

/** `legacyPort` → `--legacy-port`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `legacyPort` → `PISTREAM_LEGACY_PORT`. */
export function envName(key: string): string {
  return `PISTREAM_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * The schema of the flags' text, one key per flag, each failing with "<flag> must be …". It converts (numbers,
 * booleans, `source` into a {@link SourceSpec}); what values are allowed is checked afterwards, by the plugin.
 * @example
 * configSchema.validate({ port: '70000' }).error?.message; // 'port must be a whole number from 0 to 65535'
 */
export const configSchema: Joi.ObjectSchema = Joi.object(
  Object.fromEntries(FLAGS.map((spec) => [spec.key, spec.schema.messages({ '*': `{{#label}} must be ${spec.allowed}` })])),
).prefs({ errors: { wrap: { label: false } } });
