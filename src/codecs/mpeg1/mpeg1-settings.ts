import Joi from 'joi';
import { encoderSettingsSchema } from '../encoder-settings';
import { matchMpeg1Rate, MPEG1_FRAME_RATES, MPEG1_RATES_ALLOWED } from './frame-rates';

/** MPEG-1's quantiser range (`quality`): 2 is the finest ffmpeg's mpeg1video takes. */
const QUANTISER = { min: 2, max: 31 } as const;

/**
 * MPEG-1's settings: only the frame rates it has codes for (a rate given as 29.97 becomes exactly 30000/1001),
 * the unofficial 5/10/12/15 with `allowNonstandardFps`, and a quantiser of 2…31 for `quality`.
 */
export const mpeg1Settings = encoderSettingsSchema({
  fps: Joi.number()
    .custom((fps: number, helpers) => {
      const nonstandard =
        ((helpers.state.ancestors as unknown[])[0] as { allowNonstandardFps?: boolean } | undefined)?.allowNonstandardFps === true;
      const rate = matchMpeg1Rate(fps, nonstandard);
      return rate ? rate[0] / rate[1] : helpers.error('any.invalid');
    })
    .messages({ '*': `{{#label}} must be ${MPEG1_RATES_ALLOWED}` }),
  quality: Joi.number()
    .integer()
    .min(QUANTISER.min)
    .max(QUANTISER.max)
    .messages({ '*': `{{#label}} must be a whole number from ${QUANTISER.min} to ${QUANTISER.max}` }),
});

/** MPEG-1's rates as people write them: 23.976, 29.97. */
const RATE_WORDS = MPEG1_FRAME_RATES.map(([n, d]) => String(Number((n / d).toFixed(3))));

/** MPEG-1's settings in words, for `--help`. */
export const mpeg1SettingsHelp = {
  fps: `has codes only for ${RATE_WORDS.slice(0, -1).join(', ')} and ${RATE_WORDS.at(-1)!}`,
  quality: `a quantiser of ${QUANTISER.min}–${QUANTISER.max} (4–6 looks good)`,
};
