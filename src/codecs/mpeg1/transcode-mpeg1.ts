import type { OperatorFunction } from 'rxjs';
import type { Picture } from '../../picture';
import { ACCESS_UNIT_DELIMITER } from '../h264/nal';
import type { EncodeOptions } from '../codec';
import { checkEncoderSettings } from '../encoder-settings';
import { ffmpegEncoder } from '../ffmpeg-encoder';
import { frameRateText } from './frame-rates';
import { mpeg1Picture } from './encode-mpeg1';
import { encoderArgs } from './encoder-args';
import type { Mpeg1Picture } from './mpeg1-picture';
import { mpeg1Settings } from './mpeg1-settings';


/**
 * ffmpeg's input for H.264 access units on stdin, decoded with as little held back as ffmpeg allows: no probing
 * (the parameter sets come with the first key unit), one decoder thread (frame threads hold a picture per
 * thread: about 3 pictures on 2 cores) and low delay (our streams never reorder). Measured with ffmpeg 4.1 (the
 * bundled one): with these, a picture leaves one unit after it came in (its decoder holds one); `-fflags
 * nobuffer` made it twelve, so it is not used.
 */
export function h264InputArgs(fps: number): string[] {
  return [
    '-probesize', '32', '-analyzeduration', '0', '-flags', 'low_delay', '-c:v', 'h264', '-threads', '1',
    '-f', 'h264', '-framerate', frameRateText(fps), '-i', 'pipe:0',
  ];
}

/**
 * Transcodes H.264 access units (a key unit first, as the hub gives them) to MPEG-1 pictures with one ffmpeg
 * per subscription, for viewers whose player has only MPEG-1 (JSMpeg, the original `jsmpg.js`): each picture
 * carries the `seq` and `capturedAt` of the unit it comes from and leaves the moment ffmpeg has written it.
 * Units go to ffmpeg latest wins like frames do, except that after a dropped unit the next are dropped too until
 * a key unit (a picture without its reference would decode to garbage). MPEG-1 settings as for `encodeMpeg1`.
 *
 * @example
 * h264Hub.pictures$.pipe(transcodeToMpeg1({ width: 640, height: 480, fps: 24 })).subscribe(…);
 */
export function transcodeToMpeg1(input: EncodeOptions): OperatorFunction<Picture, Mpeg1Picture> {
  const options = checkEncoderSettings(mpeg1Settings, input);
  const { width, height } = options;
  return ffmpegEncoder(options, {
    args: (caps) => encoderArgs({ ...options, fullRange: false }, caps.fpsMode, h264InputArgs(options.fps)),
    // The delimiter after each unit ends it for ffmpeg's parser at once (else each picture waits for the next).
    coded: { bytes: (unit) => Buffer.concat([unit.data, ACCESS_UNIT_DELIMITER]) },
    picture: (data, frame) => mpeg1Picture(data, frame, width, height),
  });
}
