import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import Joi from 'joi';

import { parseAuthFile, type AuthOptions } from './server/auth';

import type { SourceSpec } from './sources/open-source';

export type { SourceSpec };

/** How the encoder spends bits: a target bitrate, or a fixed quantiser (`-q:v`, 2 best … 31 worst). */
export type RateControl =
  | { readonly mode: 'bitrate'; readonly kbps: number }
  | { readonly mode: 'quality'; readonly quantiser: number };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Everything `startServer` needs, validated, with defaults applied and derived values ready for use. */
export interface PistreamConfig {
  readonly source: SourceSpec;
  readonly width: number;
  readonly height: number;
  /** Frames per second, exact (`--fps 29.97` gives 30000/1001). */
  readonly fps: number;
  /** The same rate as ffmpeg wants it for `-framerate`: `'24'`, `'30000/1001'`. */
  readonly frameRate: string;
  /** Whether ffmpeg's unofficial MPEG-1 rate codes (5, 10, 12, 15 fps) were allowed. */
  readonly allowNonstandardFps: boolean;
  readonly rate: RateControl;
  /** Pictures per GOP (`-g`): how often a keyframe comes. Default: one a second. */
  readonly gop: number;
  /** Encoder slice threads (`-threads`). */
  readonly threads: number;
  readonly hflip: boolean;
  readonly vflip: boolean;
  readonly rotation: 0 | 180;
  readonly port: number;
  readonly host: string;
  /** A second listener speaking the original pistreaming protocol at `/` (absent: none). */
  readonly legacyPort?: number;
  /** An explicit ffmpeg binary (absent: find one with `resolveFfmpeg`). */
  readonly ffmpeg?: string;
  /** Start the camera at startup rather than on the first viewer. */
  readonly alwaysOn: boolean;
  /** Seconds the camera keeps running after the last viewer leaves. */
  readonly grace: number;
  readonly graceMs: number;
  readonly logLevel: LogLevel;
  /** Origins (besides the page's own) whose pages may open the streams; `'*'`: any. */
  readonly allowOrigins: readonly string[];
  /** Basic users and/or a token that every page, stream and (unless `publicHealth`) health request must carry. */
  readonly auth?: AuthOptions;
  /** Leave `/healthz` and `/metrics` open when auth is on. */
  readonly publicHealth: boolean;
  /** Serve https and wss with this certificate chain and key (PEM), read at startup. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Most viewers at once, over the main and legacy listeners together. */
  readonly maxViewers: number;
  /** How long a client may take to send a request's headers before it is cut off (slow-header attacks). */
  readonly headerTimeoutMs: number;
  /** WebSocket upgrades per second allowed per client address (burst: 4× this); 0: no limit. */
  readonly upgradeRate: number;
  /** A viewer whose acks show it this many ms behind skips pictures until it catches up; 0: no bound. */
  readonly maxLagMs: number;
  /** Unsent bytes on a viewer's socket above which it skips pictures (for clients that do not ack). */
  readonly highWaterMark: number;
}

/**
 * A bad flag or environment variable. The message is one line that names it and says what is allowed; the CLI
 * prints it and exits with {@link ConfigError.exitCode}.
 */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** What the command line asked for: run with a config, or print some text (help, version) and exit 0. */
export type CommandLine =
  | { readonly action: 'run'; readonly config: PistreamConfig }
  | { readonly action: 'help' | 'version'; readonly text: string };

/** The package's version, read at run time so it works from `src/` (ts-node) and from `dist/` alike. */
export const version: string = (
  JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;

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

/** MPEG-1's picture_rate codes 1–8, exact. */
const STANDARD_RATES: readonly (readonly [number, number])[] = [
  [24000, 1001], [24, 1], [25, 1], [30000, 1001], [30, 1], [50, 1], [60000, 1001], [60, 1],
];
/** The codes ffmpeg writes only under `-strict unofficial` (Xing's and libmpeg3's "economy" rates). */
const NONSTANDARD_RATES: readonly (readonly [number, number])[] = [[5, 1], [10, 1], [12, 1], [15, 1]];

const FPS_ALLOWED =
  'one of MPEG-1\'s frame rates: 23.976, 24, 25, 29.97, 30, 50, 59.94 or 60 ' +
  '(5, 10, 12 or 15 only with --allow-nonstandard-fps)';

/** Matches `fps` (a number or `NUM/DEN`) to an allowed rate, tolerating the usual roundings (23.98, 29.97). */
function matchRate(input: unknown, nonstandard: boolean): readonly [number, number] | undefined {
  let value: number;
  if (typeof input === 'number') value = input;
  else if (typeof input === 'string' && /^\s*\d+(\.\d+)?\s*(\/\s*\d+(\.\d+)?\s*)?$/.test(input)) {
    const [num, den = '1'] = input.split('/');
    value = Number(num) / Number(den);
  } else return undefined;
  const rates = nonstandard ? [...STANDARD_RATES, ...NONSTANDARD_RATES] : STANDARD_RATES;
  return rates.find(([num, den]) => Math.abs(value - num / den) < 0.006);
}

const sourcePattern = /^(auto|test|rpicam|libcamera|raspivid|v4l2(:.+)?|file:.+)$/;

function parseSource(text: string): SourceSpec {
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)) as SourceSpec['kind'];
  const rest = colon < 0 ? undefined : text.slice(colon + 1);
  if (kind === 'file') return { kind, path: rest };
  if (kind === 'v4l2' && rest !== undefined) return { kind, device: rest };
  return { kind };
}

const boolean = Joi.boolean().truthy('1', 'yes', 'on').falsy('0', 'no', 'off');
const port = Joi.number().integer().min(0).max(65535);
const even = Joi.number().integer().min(2).max(4094).multiple(2);

/** One flag: its config key, how it reads on the command line and in the environment, and what it accepts. */
interface FlagSpec {
  readonly key: Key;
  /** Commander's flag text, e.g. `'--port <port>'`. */
  readonly flag: string;
  /** The default as shown in --help. */
  readonly shown?: string;
  readonly help: string;
  readonly schema: Joi.Schema;
  /** What is allowed, after "must be". */
  readonly allowed: string;
  /** May be given more than once (the values are joined with commas, as a comma list in the environment is). */
  readonly repeatable?: boolean;
}

type Key =
  | 'source' | 'width' | 'height' | 'fps' | 'allowNonstandardFps' | 'bitrate' | 'quality' | 'gop' | 'threads'
  | 'hflip' | 'vflip' | 'rotation' | 'port' | 'host' | 'legacyPort' | 'ffmpeg' | 'alwaysOn' | 'grace' | 'logLevel'
  | 'allowOrigin' | 'auth' | 'authFile' | 'token' | 'publicHealth' | 'tlsCert' | 'tlsKey' | 'maxViewers'
  | 'headerTimeout' | 'upgradeRate' | 'maxLag' | 'highWaterMark';

/** `https://example.com:8443/x` → `https://example.com:8443`, as browsers send Origin; `*` stays. */
function normalizeOrigin(value: string): string {
  if (value === '*') return value;
  const origin = new URL(value).origin;
  if (origin === 'null') throw new Error('not an http(s) origin');
  return origin;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const FLAGS: readonly FlagSpec[] = [
  {
    key: 'source', flag: '--source <kind>', shown: 'auto',
    help: 'where frames come from: auto (rpicam, libcamera, raspivid, then /dev/video0, else the test pattern), ' +
      'test, rpicam, libcamera, raspivid, v4l2[:DEVICE] or file:PATH',
    schema: Joi.string().pattern(sourcePattern).custom((v: string) => parseSource(v)),
    allowed: 'auto, test, rpicam, libcamera, raspivid, v4l2[:DEVICE] or file:PATH',
  },
  {
    key: 'width', flag: '--width <px>', shown: '640',
    help: 'frame width, even, 2–4094 (the test pattern needs at least 512, for its barcode)',
    schema: even, allowed: 'an even whole number from 2 to 4094',
  },
  {
    key: 'height', flag: '--height <px>', shown: '480',
    help: 'frame height, even, 2–4094', schema: even, allowed: 'an even whole number from 2 to 4094',
  },
  {
    key: 'fps', flag: '--fps <rate>', shown: '24',
    help: 'frames per second: MPEG-1 has codes only for 23.976, 24, 25, 29.97, 30, 50, 59.94 and 60',
    schema: Joi.any().custom((v: unknown, helpers) => {
      const rate = matchRate(v, Boolean((helpers.prefs.context as { nonstandard?: boolean } | undefined)?.nonstandard));
      return rate ?? helpers.error('any.invalid');
    }),
    allowed: FPS_ALLOWED,
  },
  {
    key: 'allowNonstandardFps', flag: '--allow-nonstandard-fps', shown: 'off',
    help: 'also allow 5, 10, 12 and 15 fps, written with the unofficial MPEG-1 rate codes that ffmpeg uses ' +
      'under -strict unofficial; JSMpeg ignores the code while streaming, other players may not',
    schema: boolean, allowed: 'true or false (1/0, yes/no)',
  },
  {
    key: 'bitrate', flag: '--bitrate <kbit/s>', shown: '800',
    help: 'target bitrate in kbit/s (not with --quality)',
    schema: Joi.number().integer().min(16).max(100_000), allowed: 'a whole number of kbit/s from 16 to 100000',
  },
  {
    key: 'quality', flag: '--quality <2-31>', shown: 'off',
    help: 'fixed quantiser instead of a bitrate: 2 is best and biggest, 31 worst; 4–6 looks good (not with --bitrate)',
    schema: Joi.number().integer().min(2).max(31), allowed: 'a whole number from 2 to 31',
  },
  {
    key: 'gop', flag: '--gop <frames>', shown: 'fps, rounded',
    help: 'pictures from one keyframe to the next; new viewers start at once from the cached GOP, so longer ' +
      'costs only recovery time after loss',
    schema: Joi.number().integer().min(1).max(600), allowed: 'a whole number of frames from 1 to 600',
  },
  {
    key: 'threads', flag: '--threads <n|auto>', shown: `auto (${autoThreads()} here)`,
    help: 'encoder threads; mpeg1video threads by slices, so more threads encode each picture sooner and add no ' +
      'delay; auto leaves one core for the camera and Node, at most 4',
    schema: Joi.alternatives(Joi.number().integer().min(1).max(16), Joi.string().valid('auto')),
    allowed: 'auto or a whole number from 1 to 16',
  },
  { key: 'hflip', flag: '--hflip', shown: 'off', help: 'mirror left–right', schema: boolean, allowed: 'true or false (1/0, yes/no)' },
  { key: 'vflip', flag: '--vflip', shown: 'off', help: 'mirror top–bottom', schema: boolean, allowed: 'true or false (1/0, yes/no)' },
  {
    key: 'rotation', flag: '--rotation <0|180>', shown: '0',
    help: 'turn the picture; the camera can only flip, so 90 and 270 belong in the page\'s CSS',
    schema: Joi.number().valid(0, 180),
    allowed: '0 or 180 (the camera can only flip; to turn the picture by 90°, rotate it in the page\'s CSS)',
  },
  {
    key: 'port', flag: '--port <port>', shown: '8082', help: 'HTTP and WebSocket port (0: any free port)',
    schema: port, allowed: 'a whole number from 0 to 65535',
  },
  {
    key: 'host', flag: '--host <address>', shown: '0.0.0.0', help: 'address to listen on (0.0.0.0: every interface)',
    schema: Joi.string().hostname(), allowed: 'a host name or an IP address',
  },
  {
    key: 'legacyPort', flag: '--legacy-port <port>', shown: 'off',
    help: 'also serve the original pistreaming protocol at / on this port (the original used 8084)',
    schema: port, allowed: 'a whole number from 0 to 65535',
  },
  {
    key: 'ffmpeg', flag: '--ffmpeg <path>', shown: 'ffmpeg on PATH, else the bundled one',
    help: 'the ffmpeg binary to run', schema: Joi.string().min(1), allowed: 'a path to an ffmpeg binary',
  },
  {
    key: 'alwaysOn', flag: '--always-on', shown: 'off',
    help: 'start the camera at startup and keep it running, rather than on the first viewer',
    schema: boolean, allowed: 'true or false (1/0, yes/no)',
  },
  {
    key: 'grace', flag: '--grace <seconds>', shown: '5',
    help: 'how long the camera keeps running after the last viewer leaves',
    schema: Joi.number().min(0).max(86_400), allowed: 'a number of seconds from 0 to 86400',
  },
  {
    key: 'logLevel', flag: '--log-level <level>', shown: 'info', help: LOG_LEVELS.join(', '),
    schema: Joi.string().valid(...LOG_LEVELS), allowed: LOG_LEVELS.join(', '),
  },
  {
    key: 'allowOrigin', flag: '--allow-origin <origin>', shown: 'none (only the page\'s own)', repeatable: true,
    help: 'also let pages from this origin (e.g. https://example.com) open the streams; repeat it or give a comma ' +
      'list; * allows any site',
    schema: Joi.string().custom((v: string) => v.split(',').map((o) => o.trim()).filter((o) => o !== '').map(normalizeOrigin)),
    allowed: 'origins like https://example.com (comma-separated) or *',
  },
  {
    key: 'auth', flag: '--auth <user:password>', shown: 'off',
    help: 'require HTTP Basic auth with this user and password for the page, the streams, /healthz and /metrics',
    schema: Joi.string().pattern(/^[^:]+:.+$/), allowed: 'user:password (a user name without ":" and a password)',
  },
  {
    key: 'authFile', flag: '--auth-file <path>', shown: 'off',
    help: 'require HTTP Basic auth with the users of this file of user:scrypt$SALT$KEY lines (see README, Security)',
    schema: Joi.string().min(1), allowed: 'a path to a file of user:scrypt$SALT$KEY lines',
  },
  {
    key: 'token', flag: '--token <token>', shown: 'off',
    help: 'require this token (?token=… in the page URL, or Authorization: Bearer …); prefer the variable, which ps ' +
      'does not show',
    schema: Joi.string().min(8).max(512), allowed: 'a token of 8 to 512 characters',
  },
  {
    key: 'publicHealth', flag: '--public-health', shown: 'off',
    help: 'leave /healthz and /metrics open to anyone when --auth, --auth-file or --token is set',
    schema: boolean, allowed: 'true or false (1/0, yes/no)',
  },
  {
    key: 'tlsCert', flag: '--tls-cert <path>', shown: 'off',
    help: 'serve https and wss with this certificate (PEM, chain included); needs --tls-key',
    schema: Joi.string().min(1), allowed: 'a path to a PEM certificate',
  },
  {
    key: 'tlsKey', flag: '--tls-key <path>', shown: 'off',
    help: 'the private key (PEM) of --tls-cert', schema: Joi.string().min(1), allowed: 'a path to a PEM private key',
  },
  {
    key: 'maxViewers', flag: '--max-viewers <n>', shown: '100',
    help: 'most viewers at once, legacy listener included; more are closed with 1013 (try again later)',
    schema: Joi.number().integer().min(1).max(100_000), allowed: 'a whole number from 1 to 100000',
  },
  {
    key: 'headerTimeout', flag: '--header-timeout <seconds>', shown: '10',
    help: 'how long a client may take to send its request headers before it is cut off (slow-header attacks)',
    schema: Joi.number().min(0.05).max(600), allowed: 'a number of seconds from 0.05 to 600',
  },
  {
    key: 'upgradeRate', flag: '--upgrade-rate <per-second>', shown: '5',
    help: 'WebSocket connections per second allowed from one address, in bursts of up to 4× that; beyond, 429; ' +
      '0: no limit',
    schema: Joi.number().min(0).max(10_000), allowed: 'a number from 0 to 10000',
  },
  {
    key: 'maxLag', flag: '--max-lag <ms>', shown: '500',
    help: 'a viewer whose page has left a picture unacknowledged this long skips pictures until it catches up, ' +
      'then resumes at a keyframe; one slow that way for 10 s is closed (1008) and reconnects; 0: no bound',
    schema: Joi.number().integer().min(0).max(60_000), allowed: 'a whole number of ms from 0 to 60000',
  },
  {
    key: 'highWaterMark', flag: '--high-water-mark <bytes>', shown: '524288 (512 KiB)',
    help: 'unsent bytes on a viewer\'s socket above which it skips pictures (judges clients that cannot ack, ' +
      'such as the original jsmpg.js)',
    schema: Joi.number().integer().min(1024).max(1 << 30), allowed: 'a whole number of bytes from 1024 to 1073741824',
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
 * The schema of pistream's settings as they come in (strings from argv or the environment, or typed values),
 * one key per flag, each failing with our message ("must be …"). Values it returns are converted (numbers,
 * booleans, `source` parsed into a {@link SourceSpec}). Pass `{ context: { nonstandard: true } }` to allow the
 * unofficial frame rates.
 * @example
 * configSchema.validate({ port: '70000' }).error?.message; // 'port must be a whole number from 0 to 65535'
 */
export const configSchema: Joi.ObjectSchema = Joi.object(
  Object.fromEntries(
    FLAGS.map((spec) => [spec.key, spec.schema.messages({ '*': `{{#label}} must be ${spec.allowed}` })]),
  ),
).prefs({ errors: { wrap: { label: false } } });

const DEFAULTS = {
  source: { kind: 'auto' } as SourceSpec,
  width: 640,
  height: 480,
  fps: [24, 1] as readonly [number, number],
  bitrate: 800,
  port: 8082,
  host: '0.0.0.0',
  grace: 5,
  logLevel: 'info' as LogLevel,
};

/** Builds the commander program; output goes to the given sinks, and errors throw rather than exit. */
function program(out: (text: string) => void): Command {
  const cmd = new Command('pistream')
    .description('Stream a Raspberry Pi camera to browsers, with low latency (MPEG-1 over WebSocket, JSMpeg).')
    .helpOption('-h, --help', 'show this help and exit')
    .version(version, '-v, --version', 'print the version and exit')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: out, outputError: () => undefined });
  for (const spec of FLAGS) {
    // On a line of its own, so wrapping never parts a variable from its label.
    const description = `${spec.help}\nenv ${envName(spec.key)}, default ${spec.shown}`;
    if (spec.repeatable) cmd.option(spec.flag, description, (value: string, before?: string) => (before ? `${before},${value}` : value));
    else cmd.option(spec.flag, description);
  }
  cmd.addHelpText(
    'after',
    '\nEvery flag has a PISTREAM_* environment variable; a flag beats the environment.\n' +
      'Booleans in the environment take 1/0, true/false, yes/no.\n' +
      'Then open http://HOST:PORT/ in a browser.',
  );
  return cmd;
}

/** Turns commander's multi-line errors into our one line, naming the flag. */
function commanderMessage(err: CommanderError): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption': {
      const hint = /Did you mean (\S+?)\?/.exec(err.message)?.[1];
      return `unknown flag ${quoted}${hint ? `; did you mean ${hint}?` : ''} (see --help)`;
    }
    case 'commander.optionMissingArgument': {
      const flag = quoted.split(' ')[0];
      const spec = FLAGS.find((s) => flagName(s.key) === flag);
      return `${flag} needs a value: ${spec?.allowed ?? 'see --help'}`;
    }
    case 'commander.excessArguments':
      return 'pistream takes only flags, no other arguments (see --help)';
    default:
      return err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  }
}

/** One input value: where it came from (a flag or an env var, for messages) and its raw text. */
interface Raw {
  readonly origin: string;
  readonly layer: 'flag' | 'env';
  readonly value: string | boolean;
}

function validateOne(spec: FlagSpec, raw: Raw, nonstandard = false): unknown {
  const { value, error } = configSchema
    .extract(spec.key)
    .label(raw.origin)
    .validate(raw.value, { context: { nonstandard }, errors: { wrap: { label: false } } });
  if (error) throw new ConfigError(`${error.message}, got ${JSON.stringify(raw.value)}`);
  return value;
}

/**
 * Reads pistream's flags from `argv` (the user's arguments, without node and the script) and `PISTREAM_*`
 * variables from `env`; a flag beats its variable. Asking for --help or --version gives their text rather than a
 * config. Throws {@link ConfigError} with a one-line message naming the bad flag or variable.
 * @example
 * const line = parseCommandLine(process.argv.slice(2), process.env);
 * if (line.action === 'run') await startServer(line.config);
 * else console.log(line.text);
 */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): CommandLine {
  let printed = '';
  const cmd = program((text) => (printed += text));
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed') return { action: 'help', text: printed };
    if (err.code === 'commander.version') return { action: 'version', text: printed };
    throw new ConfigError(commanderMessage(err));
  }
  const opts = cmd.opts<Record<string, string | boolean | undefined>>();

  const raws = new Map<Key, Raw>();
  for (const spec of FLAGS) {
    const fromFlag = opts[spec.key];
    const name = envName(spec.key);
    const fromEnv = env[name];
    if (fromFlag !== undefined) raws.set(spec.key, { origin: flagName(spec.key), layer: 'flag', value: fromFlag });
    else if (fromEnv !== undefined && fromEnv.trim() !== '') raws.set(spec.key, { origin: name, layer: 'env', value: fromEnv.trim() });
  }

  // --bitrate and --quality are two ways to say the same thing: both in one layer is a mistake (said before either
  // value is checked, as it is the first thing to fix), but a flag still beats the other's variable.
  const bitrateRaw = raws.get('bitrate');
  const qualityRaw = raws.get('quality');
  if (bitrateRaw && qualityRaw) {
    if (bitrateRaw.layer === qualityRaw.layer) {
      throw new ConfigError(
        `${bitrateRaw.origin} and ${qualityRaw.origin} cannot be used together: give a bitrate or a fixed quality`,
      );
    }
    raws.delete(bitrateRaw.layer === 'env' ? 'bitrate' : 'quality');
  }

  const spec = (key: Key) => FLAGS.find((s) => s.key === key) as FlagSpec;
  // The fps check depends on --allow-nonstandard-fps, so that one is read first.
  const nonstandardRaw = raws.get('allowNonstandardFps');
  const nonstandard = nonstandardRaw ? (validateOne(spec('allowNonstandardFps'), nonstandardRaw) as boolean) : false;
  const values = new Map<Key, unknown>();
  for (const [key, raw] of raws) values.set(key, validateOne(spec(key), raw, nonstandard));

  const get = <T>(key: Key, fallback: T): T => (values.has(key) ? (values.get(key) as T) : fallback);
  const source = get<SourceSpec>('source', DEFAULTS.source);
  const width = get('width', DEFAULTS.width);
  if (source.kind === 'test' && width < 512) {
    throw new ConfigError(
      `${raws.get('width')?.origin ?? '--width'} must be at least 512 with --source test (its barcode is 512 px wide), got ${width}`,
    );
  }
  const [num, den] = get<readonly [number, number]>('fps', DEFAULTS.fps);
  const fps = num / den;
  const port = get('port', DEFAULTS.port);
  const legacyPort = get<number | undefined>('legacyPort', undefined);
  if (legacyPort !== undefined && legacyPort !== 0 && legacyPort === port) {
    throw new ConfigError(`${raws.get('legacyPort')?.origin} must differ from the main port (${port})`);
  }
  const quality = get<number | undefined>('quality', undefined);
  const threads = get<number | 'auto'>('threads', 'auto');
  const grace = get('grace', DEFAULTS.grace);
  const ffmpeg = get<string | undefined>('ffmpeg', undefined);
  const security = securityConfig(get, raws);

  return {
    action: 'run',
    config: {
      source,
      width,
      height: get('height', DEFAULTS.height),
      fps,
      frameRate: den === 1 ? String(num) : `${num}/${den}`,
      allowNonstandardFps: nonstandard,
      rate: quality === undefined ? { mode: 'bitrate', kbps: get('bitrate', DEFAULTS.bitrate) } : { mode: 'quality', quantiser: quality },
      gop: get('gop', Math.round(fps)),
      threads: threads === 'auto' ? autoThreads() : threads,
      hflip: get('hflip', false),
      vflip: get('vflip', false),
      rotation: get<0 | 180>('rotation', 0),
      port,
      host: get('host', DEFAULTS.host),
      ...(legacyPort === undefined ? {} : { legacyPort }),
      ...(ffmpeg === undefined ? {} : { ffmpeg }),
      alwaysOn: get('alwaysOn', false),
      grace,
      graceMs: Math.round(grace * 1000),
      logLevel: get('logLevel', DEFAULTS.logLevel),
      maxLagMs: get('maxLag', 500),
      highWaterMark: get('highWaterMark', 512 * 1024),
      ...security,
    },
  };
}

type SecurityConfig = Pick<
  PistreamConfig, 'allowOrigins' | 'auth' | 'publicHealth' | 'tls' | 'maxViewers' | 'headerTimeoutMs' | 'upgradeRate'
>;

/** Reads a file a flag names, or fails naming the flag. */
function readFlagFile(raw: Raw | undefined, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${raw?.origin}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** The access and limits part of the config; reads the auth file and TLS files so a bad one stops startup. */
function securityConfig(get: <T>(key: Key, fallback: T) => T, raws: ReadonlyMap<Key, Raw>): SecurityConfig {
  const users: Record<string, string> = {};
  const authFile = get<string | undefined>('authFile', undefined);
  if (authFile !== undefined) {
    try {
      Object.assign(users, parseAuthFile(readFlagFile(raws.get('authFile'), authFile).toString('utf8')));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`${raws.get('authFile')?.origin}: ${authFile} ${(err as Error).message}`);
    }
  }
  const plain = get<string | undefined>('auth', undefined);
  if (plain !== undefined) {
    const colon = plain.indexOf(':');
    users[plain.slice(0, colon)] = plain.slice(colon + 1);
  }
  const token = get<string | undefined>('token', undefined);
  const hasUsers = Object.keys(users).length > 0;
  const auth: AuthOptions | undefined =
    hasUsers || token ? { ...(hasUsers ? { users } : {}), ...(token ? { token } : {}) } : undefined;

  const certPath = get<string | undefined>('tlsCert', undefined);
  const keyPath = get<string | undefined>('tlsKey', undefined);
  if ((certPath === undefined) !== (keyPath === undefined)) {
    const given = raws.get(certPath === undefined ? 'tlsKey' : 'tlsCert')?.origin;
    throw new ConfigError(`${given} needs ${certPath === undefined ? '--tls-cert' : '--tls-key'} too`);
  }
  const tls =
    certPath !== undefined && keyPath !== undefined
      ? { cert: readFlagFile(raws.get('tlsCert'), certPath), key: readFlagFile(raws.get('tlsKey'), keyPath) }
      : undefined;

  return {
    allowOrigins: get<string[]>('allowOrigin', []),
    ...(auth ? { auth } : {}),
    publicHealth: get('publicHealth', false),
    ...(tls ? { tls } : {}),
    maxViewers: get('maxViewers', 100),
    headerTimeoutMs: Math.round(get('headerTimeout', 10) * 1000),
    upgradeRate: get('upgradeRate', 5),
  };
}

/**
 * Reads pistream's configuration from flags and `PISTREAM_*` variables (see {@link parseCommandLine}). Throws
 * {@link ConfigError} for a bad value, and for --help and --version, which the CLI answers instead.
 * @example
 * const config = parseConfig(['--port', '8080', '--hflip'], { PISTREAM_FPS: '30' });
 * config.port; // 8080
 * config.gop;  // 30
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): PistreamConfig {
  const line = parseCommandLine(argv, env);
  if (line.action !== 'run') throw new ConfigError(`--${line.action} prints text rather than configuring: use parseCommandLine`);
  return line.config;
}
