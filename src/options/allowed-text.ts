import type Joi from 'joi';

/**
 * What an option allows, in words, read from its joi schema (`describe()`): its limits, its unit, its values. The
 * schema's own messages and the CLI's help and messages are both made from it, so a limit is written once.
 */

/** The unit a value is shown in: its name and how many of the schema's unit make one (seconds over ms: 1000). */
export interface ShownUnit {
  readonly name: string;
  readonly factor: number;
}

interface Description {
  readonly type?: string;
  readonly flags?: { readonly unit?: string; readonly default?: unknown; readonly only?: boolean };
  readonly rules?: readonly { readonly name: string; readonly args?: { readonly limit?: number; readonly sign?: string } }[];
  readonly allow?: readonly unknown[];
  readonly metas?: readonly Record<string, unknown>[];
  readonly preferences?: { readonly messages?: Readonly<Record<string, string>> };
}

/** The words of a schema's own "<label> must be …" message for every failure, if it has one. */
function ownWords(description: Description): string | undefined {
  return /^\{\{#label\}\} must be (.+)$/s.exec(description.preferences?.messages?.['*'] ?? '')?.[1];
}

function rule(description: Description, name: string): number | undefined {
  return description.rules?.find((r) => r.name === name)?.args?.limit;
}

/** A number for text: `86400`, `0.05`, never `0.05000000000000001`. */
function numberText(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** What `.meta({ zero })` says 0 means (`'no cap'`), shown after the lower limit when it is 0. */
function zeroMeaning(description: Description): string | undefined {
  return description.metas?.map((meta) => meta.zero).find((zero): zero is string => typeof zero === 'string');
}

/**
 * The words after "must be" for a schema: its own message's, or read from its rules: `a whole number of ms from 0 to 60000`, `silent or none`. With
 * `shown`, a number is said in that unit (a schema in ms shown in seconds: `a number of seconds from 0 to 86400`;
 * "whole" only when a whole number of the shown unit is needed).
 * @example
 * allowedText(Joi.number().integer().min(0).max(60000).unit('ms')); // 'a whole number of ms from 0 to 60000'
 */
export function allowedText(schema: Joi.Schema, shown?: ShownUnit): string {
  const description = schema.describe() as Description;
  // A schema that says what it allows in words of its own (a codec's frame sizes) is taken at its word, unless the
  // value is to be said in another unit.
  const own = ownWords(description);
  if (own !== undefined && (shown === undefined || shown.factor === 1)) return own;
  if (description.flags?.only && description.allow) {
    const values = description.allow.map(String);
    return values.length === 1 ? values[0]! : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
  }
  if (description.type === 'string') {
    const min = rule(description, 'min');
    const max = rule(description, 'max');
    const unit = description.flags?.unit ?? 'value';
    if (min !== undefined && max !== undefined) return `a ${unit} of ${min} to ${max} characters`;
    if (min !== undefined) return `a ${unit} of at least ${min} characters`;
    return `a ${unit}`;
  }
  if (description.type !== 'number') return 'a valid value';
  const factor = shown?.factor ?? 1;
  const unitName = shown?.name ?? description.flags?.unit;
  const whole = description.rules?.some((r) => r.name === 'integer') === true && factor === 1;
  const min = rule(description, 'min');
  const max = rule(description, 'max');
  const positive = description.rules?.some((r) => r.name === 'sign' && r.args?.sign === 'positive') === true;
  const what = `a ${whole ? 'whole ' : ''}number${unitName ? ` of ${unitName}` : ''}`;
  const zero = min === 0 ? zeroMeaning(description) : undefined;
  const from = min === undefined ? undefined : `${numberText(min / factor)}${zero ? ` (${zero})` : ''}`;
  if (from !== undefined && max !== undefined) return `${what} from ${from} to ${numberText(max / factor)}`;
  if (from !== undefined) return `${what}, at least ${from}`;
  if (positive) return `a positive ${what.slice(2)}${max !== undefined ? ` up to ${numberText(max / factor)}` : ''}`;
  return max !== undefined ? `${what} up to ${numberText(max / factor)}` : what;
}

/**
 * A schema's default, as it describes it (undefined when it has none).
 * @example
 * defaultOf(Joi.number().default(500)); // 500
 */
export function defaultOf(schema: Joi.Schema): unknown {
  return (schema.describe() as Description).flags?.default;
}

/**
 * Gives a schema the message "<label> must be <its allowed text>", for every way it can fail.
 * @example
 * limited(Joi.number().integer().min(1).max(100_000)).validate(0).error?.message; // '"value" must be a whole number from 1 to 100000'
 */
export function limited<S extends Joi.Schema>(schema: S): S {
  return schema.messages({ '*': `{{#label}} must be ${allowedText(schema)}` }) as S;
}

/**
 * A number schema's limits, as its rules say them.
 * @example
 * numberLimits(Joi.number().min(2).max(31)); // { min: 2, max: 31 }
 */
export function numberLimits(schema: Joi.Schema): { readonly min?: number; readonly max?: number } {
  return lengthLimits(schema);
}

/**
 * A string schema's length limits (for a credential's messages, which must say what is wrong without quoting it).
 * @example
 * lengthLimits(Joi.string().min(8).max(512)); // { min: 8, max: 512 }
 */
export function lengthLimits(schema: Joi.Schema): { readonly min?: number; readonly max?: number } {
  const description = schema.describe() as Description;
  const min = rule(description, 'min');
  const max = rule(description, 'max');
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}
