import Joi from 'joi';
import type { FlagSpec } from './flag-values';
import { RECORD_PUBLISH_FLAGS } from './record-publish-flags';
import { SERVER_FLAGS } from './server-flags';
import { STREAM_FLAGS } from './stream-flags';

export { autoThreads } from './auto-threads';
export type { FlagSpec, Target } from './flag-values';

/** Every flag, in the order `--help` lists them: what is streamed, the server, then recording and publishing. */
export const FLAGS: readonly FlagSpec[] = [...STREAM_FLAGS, ...SERVER_FLAGS, ...RECORD_PUBLISH_FLAGS];

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
