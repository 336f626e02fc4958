import type { Codec } from '../codecs/codec';
import { codecById } from '../codecs';
import { pipeInputArgs } from '../codecs/pipe-input';
import { DEFAULTS } from '../defaults';
import { PUBLISH_MUXERS, type PublishProtocol, type PublishTarget } from './publish-target';

/** What the publisher's ffmpeg reads on stdin: the hub's coded pictures, as they are. */
export interface PublishInput {
  /** The hub's codec, or its id (`'h264'`): how ffmpeg reads its pictures is the codec's `pipeInput`. */
  readonly codec: string | Codec;
  readonly fps: number;
  /**
   * The server's sound, as AAC in ADTS frames on the child's fd 3 (`pipe:3`), in the target's audio track instead of
   * the silent one, copied or encoded again as its muxer needs (`SOUND_INTO`); targets whose audio is `none` get none.
   */
  readonly soundOnPipe3?: boolean;
  /** The server's sound bitrate (kbit/s), for a target that must encode it again (RTSP); default `DEFAULTS.audioBitrateKbps`. */
  readonly soundBitrateKbps?: number;
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
/** The silent track: made by ffmpeg as fast as the video needs it, encoded to AAC there. */
const SILENT_INPUT = ['-f', 'lavfi', '-i', 'anullsrc=channel_layout=mono:sample_rate=44100'];
const SILENT_OUTPUT = ['-c:a', 'aac', '-b:a', '32k'];

/** How the server's ADTS frames go into one muxer: their arguments, and how the startup line says it. */
interface SoundInto {
  readonly args: (kbps: number) => string[];
  readonly how: 'copied' | 're-encoded';
}

/**
 * How each protocol's muxer takes the server's AAC, which comes as ADTS frames (checked by hand with both ffmpegs
 * pistream runs on: Debian's 5.1 and the bundled static 4.1; docs/publishing.md says it for users):
 * - FLV (rtmp, rtmps) carries raw AAC frames after one AudioSpecificConfig: `aac_adtstoasc` makes them. ffmpeg 5+
 *   inserts that filter by itself; 4.1 refuses the first ADTS frame ("Malformed AAC bitstream detected") and exits.
 * - MPEG-TS (srt) carries ADTS as it is.
 * - RTSP announces the AudioSpecificConfig in its SDP before the first frame, which copied ADTS cannot give (both
 *   versions: "AAC with no global headers is currently not supported"), so the sound is encoded again, at the
 *   server's bitrate (a 48 kHz mono AAC encode: a few % of one core).
 */
const SOUND_INTO: Readonly<Record<PublishProtocol, SoundInto>> = {
  rtmp: { args: () => ['-c:a', 'copy', '-bsf:a', 'aac_adtstoasc'], how: 'copied' },
  rtmps: { args: () => ['-c:a', 'copy', '-bsf:a', 'aac_adtstoasc'], how: 'copied' },
  srt: { args: () => ['-c:a', 'copy'], how: 'copied' },
  rtsp: { args: (kbps) => ['-c:a', 'aac', '-b:a', `${kbps}k`], how: 're-encoded' },
};

/**
 * What a target's audio track carries, in words (the startup line's): the server's sound when it has some and the
 * target takes audio, else a silent AAC track, or none.
 * @example
 * publishedAudio(publishTarget('rtmp://h/live/k'), true); // 'sound as AAC, copied'
 */
export function publishedAudio(target: PublishTarget, serverHasSound: boolean): string {
  if (target.audio === 'none') return 'no audio';
  return serverHasSound ? `sound as AAC, ${SOUND_INTO[target.protocol].how}` : 'silent AAC';
}

/** The audio track's input and output arguments (none for a target without audio). */
function audioArgs(target: PublishTarget, input: PublishInput): { inputs: string[]; outputs: string[] } {
  if (target.audio === 'none') return { inputs: [], outputs: [] };
  if (input.soundOnPipe3 !== true) return { inputs: SILENT_INPUT, outputs: SILENT_OUTPUT };
  const kbps = input.soundBitrateKbps ?? DEFAULTS.audioBitrateKbps;
  return { inputs: SOUND_INPUT, outputs: [...SOUND_INTO[target.protocol].args(kbps), ...SOUND_INTERLEAVE] };
}

/**
 * Warnings that every healthy run of these arguments prints, with both ffmpegs (a rate it cannot probe from 32 bytes,
 * stdin's pictures without timestamps, an input thread waiting while the muxer interleaves the other input): left out
 * of a failed run's message (`stderrNoise`), where they used to crowd out ffmpeg's reason (its last three lines).
 */
export const PUBLISH_STDERR_NOISE = /Thread message queue blocking|not enough frames to estimate rate|Timestamps are unset in a packet/;

/**
 * ffmpeg's arguments for one publish target: the pictures on stdin copied as they are (`-c:v copy`, no second
 * encode), an AAC track unless the target's audio is `none` (the server's sound from fd 3 when it has sound, as
 * `SOUND_INTO` says for the target's muxer; else a silent one from `anullsrc`), and the muxer its scheme needs
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
  const audio = audioArgs(target, input);
  const maps = ['-map', '0:v:0', ...(audio.inputs.length ? ['-map', '1:a:0'] : []), '-c:v', 'copy', ...audio.outputs];
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
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'warning',
    '-progress',
    'pipe:1',
    ...video,
    ...audio.inputs,
    ...maps,
    ...output,
    target.url,
  ];
}
