import Joi from 'joi';
import { encoderSettingsSchema } from '../encoder-settings';
import { exactRate } from '../common/frame-rate';

/**
 * H.264's settings: any frame rate from 1 to 120 (29.97 becomes exactly 30000/1001), and a constant rate factor
 * of 0…51 for `quality` (lower is better: 23 is x264's default, 18 looks lossless to most eyes).
 */
export const h264Settings = encoderSettingsSchema({
  fps: Joi.number()
    .min(1)
    .max(120)
    // H.264 takes any rate; the usual NTSC roundings (23.98, 29.97, 59.94) become exact fractions.
    .custom((fps: number) => exactRate(fps))
    .messages({ '*': '{{#label}} must be a number of frames per second from 1 to 120' }),
  quality: Joi.number()
    .integer()
    .min(0)
    .max(51)
    .messages({ '*': '{{#label}} must be a whole number from 0 to 51 (a constant rate factor: lower is better)' }),
});
