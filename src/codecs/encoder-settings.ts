import Joi from 'joi';
import type { EncoderSettings } from './codec';

/** What a frame size must be for I420 and our codecs: even (4:2:0 halves both), 2…4094. */
export const frameSizeRule = (): Joi.NumberSchema =>
  Joi.number().integer().min(2).max(4094).multiple(2).messages({ '*': '{{#label}} must be an even whole number from 2 to 4094' });

/**
 * Builds a codec's schema of {@link EncoderSettings}: the rules every codec shares, with the codec's own for
 * `fps` and `quality`. Messages read "<key> must be …" so a caller can put its own name for the key in front
 * (`--fps`, `PISTREAM_FPS`, `encoder.fps`).
 */
export function encoderSettingsSchema(own: { fps: Joi.Schema; quality: Joi.Schema }): Joi.ObjectSchema<EncoderSettings> {
  return Joi.object<EncoderSettings>({
    width: frameSizeRule().required(),
    height: frameSizeRule().required(),
    fps: own.fps.required(),
    bitrate: Joi.number().integer().min(16).max(100_000).messages({ '*': '{{#label}} must be a whole number of kbit/s from 16 to 100000' }),
    quality: own.quality,
    gop: Joi.number().integer().min(1).max(600).messages({ '*': '{{#label}} must be a whole number of frames from 1 to 600' }),
    threads: Joi.number().integer().min(1).max(16).messages({ '*': '{{#label}} must be a whole number from 1 to 16' }),
    fullRange: Joi.boolean(),
    allowNonstandardFps: Joi.boolean(),
    ffmpeg: Joi.string().min(1).messages({ '*': '{{#label}} must be a path to an ffmpeg binary' }),
  })
    .oxor('bitrate', 'quality')
    .messages({ 'object.oxor': 'bitrate and quality cannot be used together: give a bitrate or a fixed quality' })
    .prefs({ errors: { wrap: { label: false } } });
}

/**
 * Validates settings against a codec's schema and returns them converted (exact frame rates), or throws a
 * RangeError whose message names the setting: `encoder fps must be …, got 7`.
 */
export function checkEncoderSettings<S extends EncoderSettings>(schema: Joi.ObjectSchema<EncoderSettings>, settings: S): S {
  const checked = schema.validate(settings, { allowUnknown: true });
  const error = checked.error;
  if (error) {
    const detail = error.details[0];
    const got: unknown = detail?.context?.value;
    throw new RangeError(
      `encoder ${error.message}${got === undefined || typeof got === 'object' ? '' : `, got ${String(got as string | number | boolean)}`}`,
    );
  }
  return checked.value as S;
}
