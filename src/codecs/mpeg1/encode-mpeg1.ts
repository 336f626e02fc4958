import type { OperatorFunction } from 'rxjs';
import type { Frame, FrameMeta } from '../../frame';
import type { EncodeOptions } from '../codec';
import { checkEncoderSettings } from '../encoder-settings';
import { ffmpegEncoder } from '../ffmpeg-encoder';
import { encoderArgs } from './encoder-args';
import { MPEG1_ID, type Mpeg1Picture } from './mpeg1-picture';
import { mpeg1Settings } from './mpeg1-settings';
import { describePicture } from './start-codes';

export { STARTUP_FRAMES } from '../ffmpeg-encoder';

/**
 * Encodes frames to MPEG-1 pictures with one ffmpeg child per subscription (see {@link ffmpegEncoder}: frames to
 * stdin latest wins, each picture out the moment its last byte is written, with the `seq` and `capturedAt` of its
 * frame).
 *
 * Errors: settings MPEG-1 cannot do (at once, RangeError), a frame of the wrong size, a missing ffmpeg, ffmpeg
 * exiting non-zero (with its last stderr lines). Unsubscribing kills ffmpeg (TERM, then KILL).
 *
 * @example
 * testPattern({ fps: 24 })
 *   .pipe(encodeMpeg1({ width: 640, height: 480, fps: 24 }))
 *   .subscribe((p) => console.log(p.type, p.data.length));
 */
export function encodeMpeg1(input: EncodeOptions): OperatorFunction<Frame, Mpeg1Picture> {
  const options = checkEncoderSettings(mpeg1Settings, input);
  const { width, height } = options;
  return ffmpegEncoder(options, {
    args: (caps) => encoderArgs(options, caps.fpsMode),
    picture: (data, frame) => mpeg1Picture(data, frame, width, height),
  });
}

/** ffmpeg's bytes for one MPEG-1 picture, stamped with the frame it encodes; throws when they are not a picture. */
export function mpeg1Picture(data: Buffer, frame: FrameMeta, width: number, height: number): Mpeg1Picture {
  const info = describePicture(data);
  if (!info) throw new Error(`ffmpeg wrote ${data.length} bytes that are not an MPEG-1 picture`);
  return { data, codec: MPEG1_ID, type: info.type, keyframe: info.keyframe, seq: frame.seq, capturedAt: frame.capturedAt, width, height };
}
