import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import type Joi from 'joi';
import { DEFAULTS, upgradeBurst } from '../defaults';
import { defaultOf } from '../options/allowed-text';
import { HEADER_TIMEOUT_MS, HOST, MAIN_PORT } from '../options/listener-options';
import { parseAuthFile, type AuthOptions } from '../options/auth-users';
import { validatePluginOptions, type PistreamPluginOptions } from '../options/plugin-options';
import { PluginOptionsError } from '../options/plugin-options-error';
import type { LogLevel, PistreamConfig } from '../options/server-config';
import { FFMPEG_ORIGIN_LABELS } from '../process/ffmpeg-path';
import { RecordDirError } from '../options/check-record-dir';
import { AudioCheckError } from '../audio/audio-check-error';
import { SourceCheckError } from '../sources/check-source';
import { DEFAULT_SOURCE_KIND } from '../sources/source-kinds';
import { version } from '../version';
import { autoThreads, configSchema, envName, flagName, FLAGS, type FlagSpec } from './flags';
import { commanderMessage, program } from './program';

export type { PistreamConfig };
export { version };

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
  { readonly action: 'run'; readonly config: PistreamConfig } | { readonly action: 'help' | 'version'; readonly text: string };

/** One input value: where it came from (a flag or an env var, for messages) and its raw text. */
interface Raw {
  readonly origin: string;
  readonly layer: 'flag' | 'env';
  readonly value: string | boolean;
}

/**
 * How a rejected value is quoted after its problem: `, got "90"`; for a credential only what is wrong with its
 * shape, never the value (`--token must be …: the value given has fewer than 8 characters (not shown: a secret)`).
 */
function got(spec: FlagSpec, value: string | boolean): string {
  if (spec.secret) return `: the value given ${spec.secret(String(value))} (not shown: a secret)`;
  return `, got ${JSON.stringify(value)}`;
}

function convert(spec: FlagSpec, raw: Raw): unknown {
  const result = configSchema
    .extract(spec.key)
    .label(raw.origin)
    .validate(raw.value, { errors: { wrap: { label: false } } }) as Joi.ValidationResult<unknown>;
  if (result.error) throw new ConfigError(`${result.error.message}${got(spec, raw.value)}`);
  return result.value;
}

/** Sets `target` (a dotted path) in a plain object tree, making the objects on the way. */
function put(into: Record<string, unknown>, target: string, value: unknown): void {
  const keys = target.split('.');
  let at = into;
  for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
  at[keys[keys.length - 1]!] = value;
}

/**
 * Reads a file a flag names, or fails naming the flag and the path. With `usersFile`, a path that looks like
 * `user:password` (given to --auth-file when --auth was meant) is a credential, so it is not printed back.
 */
function readFlagFile(origin: string, path: string, usersFile = false): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (usersFile && /^[^/]*:/.test(path)) {
      throw new ConfigError(
        `${origin}: cannot read the file it names (${code}); that looks like user:password (not shown: a secret), which is what --auth takes`,
      );
    }
    throw new ConfigError(`${origin}: cannot read ${path} (${code})`);
  }
}

/** The raw inputs: a flag beats its variable; empty variables count as unset. */
function layer(opts: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): Map<string, Raw> {
  const raws = new Map<string, Raw>();
  for (const spec of FLAGS) {
    const fromFlag = opts[spec.key];
    const fromEnv = env[envName(spec.key)];
    if (fromFlag !== undefined) raws.set(spec.key, { origin: flagName(spec.key), layer: 'flag', value: fromFlag });
    else if (fromEnv !== undefined && fromEnv.trim() !== '')
      raws.set(spec.key, { origin: envName(spec.key), layer: 'env', value: fromEnv.trim() });
  }
  // --bitrate and --quality are two ways to say the same thing: both in one layer is a mistake (said before either
  // value is checked, as it is the first thing to fix), but a flag still beats the other's variable.
  const bitrate = raws.get('bitrate');
  const quality = raws.get('quality');
  if (bitrate && quality) {
    if (bitrate.layer === quality.layer) {
      throw new ConfigError(`${bitrate.origin} and ${quality.origin} cannot be used together: give a bitrate or a fixed quality`);
    }
    raws.delete(bitrate.layer === 'env' ? 'bitrate' : 'quality');
  }
  return raws;
}

/** Access: Basic users from --auth and --auth-file, and/or a token. Reads the file now, so a bad one stops startup. */
function authOf(values: Map<string, unknown>, raws: Map<string, Raw>): AuthOptions | undefined {
  const users: Record<string, string> = {};
  const authFile = values.get('authFile') as string | undefined;
  if (authFile !== undefined) {
    const origin = raws.get('authFile')!.origin;
    try {
      Object.assign(users, parseAuthFile(readFlagFile(origin, authFile, true).toString('utf8')));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`${origin}: ${authFile} ${(err as Error).message}`);
    }
  }
  const plain = values.get('auth') as string | undefined;
  if (plain !== undefined) users[plain.slice(0, plain.indexOf(':'))] = plain.slice(plain.indexOf(':') + 1);
  const token = values.get('token') as string | undefined;
  const hasUsers = Object.keys(users).length > 0;
  return hasUsers || token ? { ...(hasUsers ? { users } : {}), ...(token ? { token } : {}) } : undefined;
}

function tlsOf(values: Map<string, unknown>, raws: Map<string, Raw>): PistreamConfig['tls'] {
  const certPath = values.get('tlsCert') as string | undefined;
  const keyPath = values.get('tlsKey') as string | undefined;
  if ((certPath === undefined) !== (keyPath === undefined)) {
    const given = raws.get(certPath === undefined ? 'tlsKey' : 'tlsCert')?.origin;
    throw new ConfigError(`${given} needs ${certPath === undefined ? '--tls-cert' : '--tls-key'} too`);
  }
  if (certPath === undefined || keyPath === undefined) return undefined;
  return { cert: readFlagFile(raws.get('tlsCert')!.origin, certPath), key: readFlagFile(raws.get('tlsKey')!.origin, keyPath) };
}

/**
 * The tail of a plugin message offering what only a program can give (a Codec value, an Observable), which no flag
 * can: "--codec must be mpeg1, or a Codec value" would send a user looking for a way to type one.
 */
const PROGRAM_ONLY = /,? or an? (?:Codec value|Observable)$/;

/**
 * Maps a plugin option error back to what the user typed: the flag or variable whose target it is, with the
 * plugin's own words for what is allowed (the plugin's schema is the one judge of values), or for a duration flag
 * the same limits in the flag's unit (the schema says ms; --grace takes seconds).
 */
function fromPluginError(err: PluginOptionsError, raws: Map<string, Raw>): ConfigError {
  // An entry of a list (allowedHosts.2) is named by the list's flag.
  const target = `plugin.${err.path.filter((key) => typeof key !== 'number').join('.')}`;
  const spec = FLAGS.find((s) => s.target === target);
  const problem = spec?.unit ? `must be ${spec.allowed}` : err.problem.replace(/, got .*$/, '').replace(PROGRAM_ONLY, '');
  // Publish URLs may hold stream keys: the plugin's message shows only the redacted URL, never the value.
  if (err.path[0] === 'publish') {
    const origin = raws.get('publish')?.origin ?? '--publish';
    return new ConfigError(`${origin} ${err.problem}${/needs codec h264/.test(err.problem) ? ' (add --codec h264)' : ''}`);
  }
  // Credentials are put together by authOf (no flag targets them): name the flags, never the values.
  if (err.path[0] === 'auth')
    return new ConfigError(
      `--auth, --auth-file or --token gave credentials the plugin refuses (${err.path.join('.')}; not shown: a secret)`,
    );
  if (!spec) return new ConfigError(err.message);
  const raw = raws.get(spec.key);
  return new ConfigError(`${raw?.origin ?? flagName(spec.key)} ${problem}${raw ? got(spec, raw.value) : ''}`);
}

/** The --record-* flags that only say how to record. */
const RECORD_DETAILS = ['recordSegment', 'recordKeep', 'recordMaxSize', 'recordSync', 'recordMinFree'];

/**
 * Checks the plugin's options with the plugin's own validator, as the server will, so a bad value stops the CLI
 * with a message naming the flag or variable that gave it.
 */
function checkPluginOptions(plugin: PistreamPluginOptions, raws: Map<string, Raw>): void {
  try {
    validatePluginOptions(plugin);
  } catch (err) {
    if (!(err instanceof PluginOptionsError)) throw err;
    // The other --record-* flags only say how to record: without --record they are a mistake worth naming.
    if (err.path.join('.') === 'record.dir' && plugin.record?.dir === undefined) {
      const given = RECORD_DETAILS.map((key) => raws.get(key))
        .filter((raw) => raw !== undefined)
        .sort((a, b) => (a.layer === b.layer ? 0 : a.layer === 'flag' ? -1 : 1))[0]?.origin;
      throw new ConfigError(`${given} needs --record <dir> (or PISTREAM_RECORD) too`);
    }
    throw fromPluginError(err, raws);
  }
}

/** Runs commander over `argv`: the flags given, or the text of --help or --version. */
function readFlags(
  argv: readonly string[],
): { readonly opts: Record<string, string | boolean | undefined> } | Extract<CommandLine, { text: string }> {
  let printed = '';
  const cmd = program((text) => (printed += text));
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed') return { action: 'help', text: printed };
    if (err.code === 'commander.version') return { action: 'version', text: printed };
    throw new ConfigError(commanderMessage(err, argv, cmd.args));
  }
  return { opts: cmd.opts<Record<string, string | boolean | undefined>>() };
}

/** Each given flag's text as its value (syntax only: the plugin judges values). */
function convertAll(raws: Map<string, Raw>): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const spec of FLAGS) {
    const raw = raws.get(spec.key);
    if (raw) values.set(spec.key, convert(spec, raw));
  }
  return values;
}

/**
 * The config tree the values make: each flag's value at its target, over the defaults the CLI starts from, then
 * the flags that combine (upgrade rate and burst, credentials, publish URLs, TLS for the legacy listener).
 */
function configTree(values: Map<string, unknown>, raws: Map<string, Raw>): PistreamConfig {
  const tree: Record<string, unknown> = {
    port: defaultOf(MAIN_PORT),
    host: defaultOf(HOST),
    logLevel: DEFAULTS.logLevel,
    headerTimeoutMs: defaultOf(HEADER_TIMEOUT_MS),
    plugin: {
      source: { kind: DEFAULT_SOURCE_KIND },
      encoder: { width: DEFAULTS.width, height: DEFAULTS.height, fps: DEFAULTS.fps, threads: autoThreads() },
    },
  };
  // FLAGS lists --source before the flips, so the flips land in the source spec it sets.
  for (const spec of FLAGS) {
    const value = values.get(spec.key);
    if (spec.target && value !== undefined) put(tree, spec.target, value);
  }
  const plugin = tree.plugin as { -readonly [K in keyof PistreamPluginOptions]: PistreamPluginOptions[K] };
  const upgradeRate = values.get('upgradeRate') as number | undefined;
  if (upgradeRate !== undefined)
    plugin.upgradeRate = upgradeRate > 0 ? { perSecond: upgradeRate, burst: upgradeBurst(upgradeRate) } : false;
  const auth = authOf(values, raws);
  if (auth) plugin.auth = auth;
  const publish = values.get('publish') as string[] | undefined;
  if (publish) plugin.publish = publish;
  const tls = tlsOf(values, raws);
  if (values.has('headerTimeout')) tree.headerTimeoutMs = values.get('headerTimeout');
  if (plugin.legacyListener) {
    const legacyPort = plugin.legacyListener.port;
    if (legacyPort !== 0 && legacyPort === tree.port)
      throw new ConfigError(`${raws.get('legacyPort')?.origin} must differ from the main port (${legacyPort})`);
    plugin.legacyListener = { ...plugin.legacyListener, headerTimeoutMs: tree.headerTimeoutMs as number, ...(tls ? { tls } : {}) };
  }
  return {
    port: tree.port as number,
    host: tree.host as string,
    logLevel: tree.logLevel as LogLevel,
    headerTimeoutMs: tree.headerTimeoutMs as number,
    ...(tls ? { tls } : {}),
    plugin,
  };
}

/**
 * Reads pistream's flags from `argv` (the user's arguments, without node and the script) and `PISTREAM_*`
 * variables from `env`; a flag beats its variable. Asking for --help or --version gives their text rather than a
 * config. The plugin's options are checked by the plugin's own schema; a bad value throws {@link ConfigError}
 * with a one-line message naming the flag or variable.
 * @example
 * const line = parseCommandLine(process.argv.slice(2), process.env);
 * if (line.action === 'run') await startServer(line.config);
 * else console.log(line.text);
 */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): CommandLine {
  const flags = readFlags(argv);
  if (!('opts' in flags)) return flags;
  const raws = layer(flags.opts, env);
  const config = configTree(convertAll(raws), raws);
  checkPluginOptions(config.plugin, raws);
  return { action: 'run', config };
}

/** The flag or variable that set `key` in `argv` and `env` (a flag beats its variable), or undefined if neither did. */
function originOf(key: string, argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const cmd = program(() => undefined);
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch {
    return undefined;
  }
  if (cmd.opts<Record<string, unknown>>()[key] !== undefined) return flagName(key);
  const fromEnv = env[envName(key)];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? envName(key) : undefined;
}

/**
 * Maps what the server's start-up checks refused (a {@link SourceCheckError}: a missing file, device or camera
 * program, an ffmpeg that is missing or does not run; a {@link RecordDirError}: a recording folder that cannot be
 * written) to a {@link ConfigError} naming the flag or variable that set
 * it, as a bad value is named (`--source file:/tmp/missing.mp4: no such file`); undefined for any other error.
 * `argv` and `env` are what {@link parseCommandLine} was given.
 * @example
 * startServer(config).catch((err) => { const bad = fromStartupError(err, argv, env); if (bad) exit(bad.exitCode); });
 */
export function fromStartupError(err: unknown, argv: readonly string[], env: NodeJS.ProcessEnv): ConfigError | undefined {
  const named = (key: string, value: string): string => {
    const origin = originOf(key, argv, env) ?? flagName(key);
    return origin.startsWith('--') ? `${origin} ${value}` : `${origin}=${value}`;
  };
  if (err instanceof RecordDirError) return new ConfigError(`${named('record', err.dir)}: ${err.problem}`);
  if (err instanceof AudioCheckError) return new ConfigError(`${named('audio', err.given)}: ${err.problem}`);
  if (!(err instanceof SourceCheckError)) return undefined;
  if (err.option === 'source') return new ConfigError(`${named('source', err.given ?? '')}: ${err.problem}`);
  // Nothing found: the message already says to pass --ffmpeg or set PISTREAM_FFMPEG.
  if (err.given === undefined) return new ConfigError(err.problem);
  if (err.origin === 'option' || err.origin === 'env' || err.origin === undefined)
    return new ConfigError(`${named('ffmpeg', err.given)}: ${err.problem}`);
  return new ConfigError(`ffmpeg ${err.given} (${FFMPEG_ORIGIN_LABELS[err.origin]}) ${err.problem}: pass --ffmpeg PATH to use another`);
}

/**
 * Reads pistream's configuration from flags and `PISTREAM_*` variables (see {@link parseCommandLine}). Throws
 * {@link ConfigError} for a bad value, and for --help and --version, which the CLI answers instead.
 * @example
 * const config = parseConfig(['--port', '8080', '--hflip'], { PISTREAM_FPS: '30' });
 * config.port; // 8080
 * config.plugin.encoder?.fps; // 30
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): PistreamConfig {
  const line = parseCommandLine(argv, env);
  if (line.action !== 'run') throw new ConfigError(`--${line.action} prints text rather than configuring: use parseCommandLine`);
  return line.config;
}
