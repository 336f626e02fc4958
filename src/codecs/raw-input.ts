import type { EncoderSettings } from './codec';
import { frameRateText } from './common/frame-rate';

/**
 * ffmpeg's input arguments for raw I420 frames of the settings' size and rate on stdin: how every encoder that
 * takes frames (MPEG-1's and libx264's) reads them.
 * @example
 * rawInputArgs({ width: 640, height: 480, fps: 24 }); // ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', '640x480', …]
 */
export function rawInputArgs(o: Pick<EncoderSettings, 'width' | 'height' | 'fps'>): string[] {
  return [
    '-f',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    '-video_size',
    `${o.width}x${o.height}`,
    '-framerate',
    frameRateText(o.fps),
    '-i',
    'pipe:0',
  ];
}
