import type { PublishTarget } from './publish-target';

/** What the publisher's ffmpeg reads on stdin: the hub's coded pictures, as they are. */
export interface PublishInput {
  /** The hub's codec id: `h264` (Annex B access units) or `mpeg1` (MPEG-1 video pictures). */
  readonly codec: string;
  readonly fps: number;
}

/** ffmpeg's rate argument: 24 stays `24`, 29.97 becomes `30000/1001`, as the encoders spell it. */
function rate(fps: number): string {
  const ntsc = Math.round(fps * 1.001);
  return Math.abs(fps - (ntsc * 1000) / 1001) < 1e-6 && !Number.isInteger(fps) ? `${ntsc * 1000}/1001` : String(fps);
}

/**
 * ffmpeg's arguments for one publish target: the pictures on stdin copied as they are (`-c:v copy`, no second
 * encode), a silent AAC track from `anullsrc` unless the target's audio is `none`, and the muxer its scheme needs
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
  const video = input.codec === 'h264'
    ? // No probing: the parameter sets come with the first key unit (the hub replays from one).
      ['-fflags', '+genpts', '-probesize', '32', '-analyzeduration', '0', '-f', 'h264', '-framerate', rate(input.fps), '-i', 'pipe:0']
    : ['-fflags', '+genpts', '-f', 'mpegvideo', '-framerate', rate(input.fps), '-i', 'pipe:0'];
  const silent = target.audio === 'silent';
  const audio = silent ? ['-f', 'lavfi', '-i', 'anullsrc=channel_layout=mono:sample_rate=44100'] : [];
  const maps = silent ? ['-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', '-c:a', 'aac', '-b:a', '32k'] : ['-map', '0:v:0', '-c:v', 'copy'];
  let output: string[];
  switch (target.protocol) {
    case 'rtmp':
    case 'rtmps':
      // -rw_timeout, never -timeout: on an rtmp:// output ffmpeg reads -timeout as "listen for a connection
      // this long", turning a publisher into a server. -rw_timeout bounds each read/write instead. In µs.
      output = ['-f', 'flv', '-flvflags', 'no_duration_filesize', '-rw_timeout', String(ioTimeoutMs * 1000)];
      break;
    case 'srt':
      output = ['-f', 'mpegts'];
      break;
    case 'rtsp':
      output = ['-f', 'rtsp', '-rtsp_transport', 'tcp'];
      break;
  }
  return [
    '-hide_banner', '-nostats', '-loglevel', 'warning', '-progress', 'pipe:1',
    ...video, ...audio, ...maps, ...output, target.url,
  ];
}
