import type { OperatorFunction } from 'rxjs';
import type { Picture } from '../picture';
import type { Codec, EncodeOptions } from './codec';
import { checkEncoderSettings } from './encoder-settings';
import { ffmpegEncoder } from './ffmpeg-encoder';
import { h264 } from './h264/h264-codec';
import { mpeg1Picture } from './mpeg1/encode-mpeg1';
import { encoderArgs } from './mpeg1/encoder-args';
import type { Mpeg1Picture } from './mpeg1/mpeg1-picture';
import { mpeg1Settings } from './mpeg1/mpeg1-settings';
import { pipeInputArgs } from './pipe-input';

/**
 * Transcodes another codec's pictures (H.264 access units by default; a key unit first, as the hub gives them) to
 * MPEG-1 pictures with one ffmpeg per subscription, for viewers whose player has only MPEG-1 (JSMpeg, the original
 * `jsmpg.js`): each picture carries the `seq` and `capturedAt` of the unit it comes from and leaves the moment
 * ffmpeg has written it. Units go to ffmpeg latest wins like frames do, except that after a dropped unit the next
 * are dropped too until a key unit (a picture without its reference would decode to garbage). MPEG-1 settings as
 * for `encodeMpeg1`; ffmpeg reads the input as `from.pipeInput` says. It lives beside the codec folders because it
 * joins two codecs (a codec's own folder imports no other).
 *
 * @example
 * h264Hub.pictures$.pipe(transcodeToMpeg1({ width: 640, height: 480, fps: 24 }, h264)).subscribe(…);
 */
export function transcodeToMpeg1(input: EncodeOptions, from: Codec = h264): OperatorFunction<Picture, Mpeg1Picture> {
  const options = checkEncoderSettings(mpeg1Settings, input);
  const { width, height } = options;
  const readBack = pipeInputArgs(from, { fps: options.fps, live: true, decode: true });
  return ffmpegEncoder(options, {
    args: (caps) => encoderArgs({ ...options, fullRange: false }, caps.fpsMode, readBack),
    coded: { bytes: (unit) => from.pipeInput!.bytes(unit) },
    picture: (data, frame) => mpeg1Picture(data, frame, width, height),
  });
}
