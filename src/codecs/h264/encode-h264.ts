import { defer, type OperatorFunction } from 'rxjs';
import type { Frame } from '../../frame';
import type { EncodeOptions } from '../codec';
import { checkEncoderSettings } from '../encoder-settings';
import { ffmpegEncoder } from '../ffmpeg-encoder';
import { describeAccessUnit } from './access-unit';
import { h264EncoderArgs } from './encoder-args';
import { H264_ID, type H264Picture } from './h264-picture';
import { h264Settings } from './h264-settings';

/**
 * Encodes frames to H.264 access units with libx264 in one ffmpeg child per subscription (see
 * {@link ffmpegEncoder}: frames to stdin latest wins, each access unit out the moment its last byte is written,
 * never waiting for the next picture's start code, with the `seq` and `capturedAt` of its frame). Key units
 * carry their SPS and PPS; `codecString` is the one of the last SPS seen.
 *
 * @example
 * testPattern({ fps: 24 })
 *   .pipe(encodeH264({ width: 640, height: 480, fps: 24, bitrate: 500 }))
 *   .subscribe((au) => console.log(au.keyframe, au.codecString, au.data.length));
 */
export function encodeH264(input: EncodeOptions): OperatorFunction<Frame, H264Picture> {
  const options = checkEncoderSettings(h264Settings, input);
  const { width, height } = options;
  return (frames$) =>
    defer(() => {
      // Per subscription: the configuration in force, from the last key unit.
      let codecString: string | undefined;
      return frames$.pipe(
        ffmpegEncoder(options, {
          args: (caps) => h264EncoderArgs(options, caps.fpsMode),
          picture: (data, frame): H264Picture => {
            const info = describeAccessUnit(data);
            if (info.slices === 0) throw new Error(`ffmpeg wrote ${data.length} bytes that are not an H.264 access unit`);
            if (info.codecString) codecString = info.codecString;
            if (!codecString) throw new Error('ffmpeg wrote an H.264 picture before any SPS');
            return {
              data,
              codec: H264_ID,
              codecString,
              keyframe: info.keyframe,
              seq: frame.seq,
              capturedAt: frame.capturedAt,
              width,
              height,
            };
          },
        }),
      );
    });
}
