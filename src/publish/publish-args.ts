import type { Codec } from '../codecs/codec';
import { codecById } from '../codecs';
import { pipeInputArgs } from '../codecs/pipe-input';
import { PUBLISH_MUXERS, type PublishTarget } from './publish-target';

/** What the publisher's ffmpeg reads on stdin: the hub's coded pictures, as they are. */
export interface PublishInput {
  /** The hub's codec, or its id (`'h264'`): how ffmpeg reads its pictures is the codec's `pipeInput`. */
  readonly codec: string | Codec;
  readonly fps: number;
  /**
   * The server's sound, as AAC in ADTS frames on the child's fd 3 (`pipe:3`), copied into the target's audio track
   * instead of the silent one (targets whose audio is `none` get none).
   */
  readonly soundOnPipe3?: boolean;
}

/**
 * The server's AAC on fd 3: ADTS says all in its first header, so no probing; its timestamps count samples from the
 * first frame, which the publisher writes from the first picture's capture time on, so both tracks start together.
 */
const SOUND_INPUT = ['-probesize', '32', '-analyzeduration', '0', '-f', 'aac', '-i', 'pipe:3'];
/**
 * The muxer waits at most 0.5 s for a late track before writing what it has: a microphone that fails in the middle of
 * a run delays the target's pictures by that at most, never stops them (ffmpeg's default is 10 s).
 */
const SOUND_INTERLEAVE = ['-max_interleave_delta', '500000'];

/**
 * ffmpeg's arguments for one publish target: the pictures on stdin copied as they are (`-c:v copy`, no second
 * encode), an AAC track unless the target's audio is `none` (the server's sound, copied from fd 3, when it has
 * sound; else a silent one from `anullsrc`), and the muxer its scheme needs
 * (FLV for rtmp/rtmps, MPEG-TS for srt, RTSP ANNOUNCE/RECORD over TCP for rtsp). Progress (`total_size=` bytes
 * sent) comes on stdout, read by the publisher; stderr is kept for error messages.
 *
 * Timing: stdin carries no timestamps, so ffmpeg counts pictures at `fps` (`+genpts`); the silent track is made as
 * fast as the video needs it (no `-re`), so the two stay in step. Pictures skipped by a slow target shorten the
 * timeline a little; engines and players take that as a jump.
 *
 * The URL is the last argument: ffmpeg has no way to read an output URL from anything but its argv (see the
 * README's "Publishing": `ps` shows it to local users).
 * @example
 * publishArgs(publishTarget('rtmp://127.0.0.1/live/cam'), { codec: 'h264', fps: 24 }, 5000);
 */
export function publishArgs(target: PublishTarget, input: PublishInput, ioTimeoutMs: number): string[] {
  const codec = typeof input.codec === 'string' ? codecById(input.codec) : input.codec;
  if (!codec) throw new Error(`no codec ${String(input.codec as string)}`);
  const video = pipeInputArgs(codec, { fps: input.fps, live: true, genpts: true });
  const track = target.audio === 'silent';
  const sound = track && input.soundOnPipe3 === true;
  const audio = !track ? [] : sound ? SOUND_INPUT : ['-f', 'lavfi', '-i', 'anullsrc=channel_layout=mono:sample_rate=44100'];
  const maps = !track
    ? ['-map', '0:v:0', '-c:v', 'copy']
    : [
        '-map',
        '0:v:0',
        '-map',
        '1:a:0',
        '-c:v',
        'copy',
        ...(sound ? ['-c:a', 'copy', ...SOUND_INTERLEAVE] : ['-c:a', 'aac', '-b:a', '32k']),
      ];
  let output: string[];
  switch (target.protocol) {
    case 'rtmp':
    case 'rtmps':
      // -rw_timeout, never -timeout: on an rtmp:// output ffmpeg reads -timeout as "listen for a connection
      // this long", turning a publisher into a server. -rw_timeout bounds each read/write instead. In µs.
      output = ['-f', PUBLISH_MUXERS.rtmp, '-flvflags', 'no_duration_filesize', '-rw_timeout', String(ioTimeoutMs * 1000)];
      break;
    case 'srt':
      output = ['-f', PUBLISH_MUXERS.srt];
      break;
    case 'rtsp':
      output = ['-f', PUBLISH_MUXERS.rtsp, '-rtsp_transport', 'tcp'];
      break;
  }
  return ['-hide_banner', '-nostats', '-loglevel', 'warning', '-progress', 'pipe:1', ...video, ...audio, ...maps, ...output, target.url];
}
