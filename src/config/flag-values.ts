/**
 * How a flag's text becomes a value, and what each kind of flag allows in words: the readers the FLAGS table
 * (flags.ts) is built from. Limits and defaults come from the plugin's and the listener's schemas.
 */
import Joi from 'joi';
import { mpeg1 } from '../codecs/mpeg1/mpeg1-codec';
import type { SourceSpec } from '../sources/open-source';
import { parseSourceText } from '../sources/source-kinds';
import { allowedText, defaultOf, lengthLimits, numberLimits } from '../options/allowed-text';
import { pluginSchema, TOKEN } from '../options/plugin-options';
import { parseDurationMs, type BareUnit } from './duration-text';

/** Where a flag's value goes in the config: a path into `PistreamConfig` (`plugin.encoder.fps`). */
export type Target = string;

/**
 * One flag: how it reads on the command line and in the environment, how its text becomes a value (syntax only:
 * what a value may be is the plugin's schema's business, or the listener's for the server flags), and where the
 * value goes.
 */
export interface FlagSpec {
  /** camelCase name: `legacyPort` is `--legacy-port` and `PISTREAM_LEGACY_PORT`. */
  readonly key: string;
  /** Commander's flag text, e.g. `'--port <port>'`. */
  readonly flag: string;
  /** The default as shown in --help. */
  readonly shown: string;
  readonly help: string;
  /** Text → value. Its message says what is allowed, after "must be". */
  readonly schema: Joi.Schema;
  /** What is allowed, after "must be": for --help errors ("--port needs a value: …"). */
  readonly allowed: string;
  /** Where the value goes; flags that combine (auth, TLS, bitrate/quality) are put together by the parser. */
  readonly target?: Target;
  /**
   * A duration flag: what a bare number counts (its value, like every duration option, is in ms). Where the
   * schema refuses its value, the message says what is allowed in this unit (`allowed`), not in the option's ms.
   */
  readonly unit?: BareUnit;
  /** May be given more than once (the values are joined with commas, as a comma list in the environment is). */
  readonly repeatable?: boolean;
  /**
   * Marks a credential, whose value is never printed, not even a malformed one (a mistyped password is still most
   * of the password, and terminals, shell history and CI logs keep what they are shown). Given a rejected value,
   * it says what is wrong with its shape, without quoting it: `has no ":"`.
   */
  readonly secret?: (rejected: string) => string;
}

export const boolean = Joi.boolean().truthy('1', 'yes', 'on').falsy('0', 'no', 'off');
export const BOOLEAN = 'true or false (1/0, yes/no)';
export const number = (allowed: string) => ({ schema: Joi.number(), allowed });

/** The schema of a plugin option, by its flag's target (`plugin.record.syncMs`): the one owner of its limits. */
export function optionSchema(target: string): Joi.Schema {
  return pluginSchema.extract(target.slice('plugin.'.length));
}

/** A number flag whose limits and default the plugin's schema owns. */
export function pluginNumber(target: string): Pick<FlagSpec, 'target' | 'schema' | 'allowed' | 'shown'> {
  const schema = optionSchema(target);
  const shown = defaultOf(schema);
  return { target, schema: Joi.number(), allowed: allowedText(schema), shown: shown === undefined ? 'off' : String(shown as number) };
}

/**
 * A duration flag (see duration-text.ts): its text becomes ms; `judge` (the option's schema) owns its limits and
 * default, said in the flag's unit. With `judge` not the plugin's (the listener's header timeout), the range is
 * checked here, as the plugin does not see the value.
 */
export function duration(unit: BareUnit, judge: Joi.Schema, checkHere = false): Pick<FlagSpec, 'unit' | 'schema' | 'allowed' | 'shown'> {
  const shownUnit = unit === 's' ? { name: 'seconds', factor: 1000 } : undefined;
  const fallback = defaultOf(judge);
  return {
    unit,
    schema: Joi.string().custom((text: string) => {
      const ms = parseDurationMs(text, unit);
      if (ms === undefined || (checkHere && judge.validate(ms).error)) throw new Error('refused');
      return ms;
    }),
    allowed: allowedText(judge, shownUnit),
    shown: typeof fallback === 'number' ? String(fallback / (shownUnit?.factor ?? 1)) : 'off',
  };
}

export const token = lengthLimits(TOKEN);

/**
 * What an encoder setting allows, in the codecs' own words. The rules for size, bitrate, GOP, threads and ffmpeg are
 * shared by every codec (`encoderSettingsSchema`), so the default codec's schema says them; `fps` and `quality`
 * differ per codec and are said per codec.
 */
export function encoderAllowed(key: 'width' | 'height' | 'bitrate' | 'gop' | 'threads' | 'ffmpeg'): string {
  return allowedText(mpeg1.settings.extract(key));
}

/** `even, 2–4094`, for the size flags' help. */
export const sizeRange = (() => {
  const { min, max } = numberLimits(mpeg1.settings.extract('width'));
  return `even, ${min}–${max}`;
})();

/**
 * `v4l2:/dev/video1` → `{ kind: 'v4l2', device: '/dev/video1' }` (the registry of source kinds says which kinds
 * take what after the colon); throws for text that names no source.
 */
export function parseSource(text: string): SourceSpec {
  const spec = parseSourceText(text);
  if (!spec) throw new Error(`not a source: ${text}`);
  return spec;
}

/** `24`, `29.97` or `30000/1001` as a number; the codec decides which rates it takes. */
export const fpsText = Joi.alternatives(
  Joi.number(),
  Joi.string()
    .pattern(/^\s*\d+(\.\d+)?\s*\/\s*\d+(\.\d+)?\s*$/)
    .custom((v: string) => {
      const [num, den] = v.split('/');
      return Number(num) / Number(den);
    }),
);

/** `https://example.com:8443/x` → `https://example.com:8443`, as browsers send Origin; `*` stays. */
export function normalizeOrigin(value: string): string {
  if (value === '*') return value;
  const origin = new URL(value).origin;
  if (origin === 'null') throw new Error('not an http(s) origin');
  return origin;
}

export const list = Joi.string().custom((v: string) =>
  v
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== ''),
);

/**
 * `90`, `90s`, `30m`, `12h`, `7d`, `2w` as seconds, or undefined when the text is none of these (kept for hosts
 * that used it; the flags read {@link parseDurationMs}).
 * @example
 * parseDuration('7d'); // 604800
 */
export function parseDuration(text: string): number | undefined {
  const ms = parseDurationMs(text, 's');
  return ms === undefined ? undefined : ms / 1000;
}

export const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * `1073741824`, `500M`, `20G`, `1.5GiB`, `2TB` as bytes (K, M, G, T are powers of 1024), or undefined.
 * @example
 * parseByteSize('20G'); // 21474836480
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?\s*$/i.exec(text);
  return m ? Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toUpperCase()]!) : undefined;
}

export const convertedBy = (parse: (text: string) => number | undefined) =>
  Joi.string().custom((v: string) => {
    const value = parse(v);
    if (value === undefined) throw new Error('unreadable');
    return value;
  });

/**
 * A comma list of publish URLs, split only before a scheme: an SRT `streamid=` may hold commas of its own.
 * @example
 * splitPublishUrls('rtmp://a/live/k, srt://b:9000?streamid=#!::r=cam,m=publish'); // two URLs
 */
export function splitPublishUrls(text: string): string[] {
  return text
    .split(/,\s*(?=[a-z][a-z0-9+.-]*:\/\/)/i)
    .map((url) => url.trim())
    .filter((url) => url !== '');
}
