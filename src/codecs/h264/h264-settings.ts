import Joi from 'joi';
import { encoderSettingsSchema } from '../encoder-settings';
import { exactRate } from '../common/frame-rate';

/** The frame rates H.264 takes here, and its constant rate factor's range (`quality`). */
const FPS = { min: 1, max: 120 } as const;
const CRF = { min: 0, max: 51 } as const;

/**
 * H.264's settings: any frame rate from 1 to 120 (29.97 becomes exactly 30000/1001), and a constant rate factor
 * of 0…51 for `quality` (lower is better: 23 is x264's default, 18 looks lossless to most eyes).
 */
export const h264Settings = encoderSettingsSchema({
  fps: Joi.number()
    .min(FPS.min)
    .max(FPS.max)
    // H.264 takes any rate; the usual NTSC roundings (23.98, 29.97, 59.94) become exact fractions.
    .custom((fps: number) => exactRate(fps))
    .messages({ '*': `{{#label}} must be a number of frames per second from ${FPS.min} to ${FPS.max}` }),
  quality: Joi.number()
    .integer()
    .min(CRF.min)
    .max(CRF.max)
    .messages({ '*': `{{#label}} must be a whole number from ${CRF.min} to ${CRF.max} (a constant rate factor: lower is better)` }),
});

/** H.264's settings in words, for `--help`. */
export const h264SettingsHelp = {
  fps: `takes ${FPS.min} to ${FPS.max}`,
  quality: `a rate factor of ${CRF.min}–${CRF.max} (18–28 looks good)`,
};
