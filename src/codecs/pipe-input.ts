import type { Picture } from '../picture';
import type { Codec } from './codec';
import { codecById } from './index';
import { frameRateText } from './common/frame-rate';

/** What the reading ffmpeg does with the pictures. */
export interface PipeInputUse {
  /** The pictures' rate, for `-framerate` (they carry no timestamps of their own). Omitted: ffmpeg's default. */
  readonly fps?: number;
  /** Pictures arrive as they are made (publishing, the transcode): no probing where the codec allows. */
  readonly live?: boolean;
  /** ffmpeg decodes them (the transcode), rather than copying them (publishing). */
  readonly decode?: boolean;
  /** Stamp timestamps on the pictures (`-fflags +genpts`), for muxers that need them (publishing). */
  readonly genpts?: boolean;
}

/**
 * ffmpeg's input arguments for a codec's pictures on stdin, ending with `-i pipe:0`: the one place that says how
 * ffmpeg reads a codec back. Throws for a codec without a `pipeInput`.
 * @example
 * pipeInputArgs(h264, { fps: 24, live: true, genpts: true });
 * // ['-fflags', '+genpts', '-probesize', '32', '-analyzeduration', '0', '-f', 'h264', '-framerate', '24', '-i', 'pipe:0']
 */
export function pipeInputArgs(codec: Codec, use: PipeInputUse = {}): string[] {
  const input = codec.pipeInput;
  if (!input) throw new Error(`ffmpeg cannot read ${codec.label} pictures from a pipe`);
  return [
    ...(use.genpts ? ['-fflags', '+genpts'] : []),
    ...(use.live ? input.live : []),
    ...(use.decode ? input.decode : []),
    '-f',
    input.demuxer,
    ...(use.fps === undefined ? [] : ['-framerate', frameRateText(use.fps)]),
    '-i',
    'pipe:0',
  ];
}

/**
 * How to write a codec's pictures to the reading ffmpeg's stdin (`codec` by value or by its id in the registry).
 * Throws for a codec ffmpeg cannot read from a pipe.
 * @example
 * stdin.write(pipeBytes('h264')(picture)); // the access unit and a delimiter that ends it for ffmpeg's parser
 */
export function pipeBytes(codec: string | Codec): (picture: Picture) => Buffer {
  const found = typeof codec === 'string' ? codecById(codec) : codec;
  if (!found?.pipeInput) throw new Error(`ffmpeg cannot read ${typeof codec === 'string' ? codec : codec.label} pictures from a pipe`);
  const input = found.pipeInput;
  return (picture) => input.bytes(picture);
}
