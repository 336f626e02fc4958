import Joi from 'joi';
import { encoderSettingsSchema } from '../encoder-settings';
import { matchMpeg1Rate, MPEG1_RATES_ALLOWED } from './frame-rates';

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
  quality: Joi.number().integer().min(2).max(31).messages({ '*': '{{#label}} must be a whole number from 2 to 31' }),
});
