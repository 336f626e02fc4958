import { PCM } from '../audio/pcm';
import { BARCODE } from '../barcode';
import type { Hub } from '../hub';
import type { ValidPluginOptions } from '../options/plugin-options';
import type { HostAllowlist } from '../options/host-allowlist';
import { ChildProcessError } from '../process/child-process';
import { FFMPEG_ORIGIN_LABELS } from '../process/ffmpeg-path';
import type { Opened } from './open-hub';
import { drawsBarcode, isCameraKind } from '../sources/source-kinds';
import type { PluginLog } from './plugin-log';

/** What keeps the source running without viewers, for the Encoding line. */
export interface KeptOnBy {
  readonly alwaysOn: boolean;
  readonly recording: boolean;
  readonly publishing: boolean;
}

/**
 * The one log line of a pipeline restart: what failed (exit code or signal, and the last stderr lines for a child
 * process), the attempt, and the wait.
 *
 * @example
 * hub.restarts$.subscribe(({ error, attempt, delayMs }) => logRestart(log, error, attempt, delayMs));
 */
export function logRestart(log: PluginLog, error: unknown, attempt: number, delayMs: number): void {
  const details: Record<string, unknown> = { attempt, delayMs };
  if (error instanceof ChildProcessError) {
    Object.assign(details, { command: error.command, exitCode: error.exitCode, signal: error.signal, stderr: error.stderr.slice(-5) });
  }
  // ChildProcessError's message already says "<cmd> exited with code N" or "was killed by SIG…" plus the stderr tail.
  const what = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' | ');
  log('warn', `pipeline failed: ${what}; restarting in ${delayMs} ms (attempt ${attempt})`, details);
}

function sourceLabel(kind: string): string {
  return (
    { test: 'test pattern', observable: 'frames from the host application', file: 'video file', hub: 'a hub from the host application' }[
      kind
    ] ?? kind
  );
}

/**
 * The startup line about the source: what it is and reads, why `auto` passed over the others, and which ffmpeg
 * runs, e.g. `Source: video file /home/pi/demo.mp4; ffmpeg 6.1.1 at /usr/bin/ffmpeg (found on PATH)`.
 */
function sourceLine({ kind, reasons, target, ffmpeg }: Omit<Opened, 'hub'>): string {
  const why = reasons.length ? ` (${reasons.join('; ')})` : '';
  const runs = ffmpeg ? `; ffmpeg ${ffmpeg.version} at ${ffmpeg.path} (${FFMPEG_ORIGIN_LABELS[ffmpeg.origin]})` : '';
  return `Source: ${sourceLabel(kind)}${target ? ` ${target}` : ''}${why}${runs}`;
}

/**
 * Whether the source runs all the time, and why, as one statement for the Encoding line: `camera always on
 * (recording, publishing)`, or `camera on demand (stops 5 s after the last viewer)` when nothing keeps it on.
 *
 * @example
 * lifecycleText('camera', 5000, { alwaysOn: false, recording: true, publishing: false }); // 'camera always on (recording)'
 */
export function lifecycleText(noun: 'camera' | 'source', graceMs: number, keptOnBy: KeptOnBy): string {
  const why = [keptOnBy.alwaysOn && 'as asked', keptOnBy.recording && 'recording', keptOnBy.publishing && 'publishing'].filter(Boolean);
  return why.length > 0 ? `${noun} always on (${why.join(', ')})` : `${noun} on demand (stops ${graceMs / 1000} s after the last viewer)`;
}

/** The startup line naming the hosts answered to, and how to add one. */
function hostsLine(hosts: HostAllowlist): string {
  return `Answering to ${hosts.patterns.join(', ')} and IP addresses; to open it by another name, add it with --allowed-hosts NAME (other names get 403)`;
}

/** The encoder's lines: notes on settings that do not apply, then what it encodes, how, and whether it runs on demand. */
function logEncoding(log: PluginLog, opened: Opened, options: ValidPluginOptions, keptOnBy: KeptOnBy): void {
  const e = options.encoder;
  if (!e) return;
  const { kind, target, inCamera } = opened;
  if (drawsBarcode(kind) && (e.width < BARCODE.width || e.height < BARCODE.height)) {
    log(
      'info',
      `Test pattern at ${e.width}x${e.height}, without its barcode (it needs at least ${BARCODE.width}x${BARCODE.height}): ` +
        'the page shows no latency figure (it reads the barcode)',
      { width: e.width, height: e.height },
    );
  }
  if (inCamera && e.quality !== undefined) {
    log('warn', `The camera's H.264 encoder takes a bitrate, not a quality: quality ${e.quality} is not used (--bitrate sets the rate)`, {
      quality: e.quality,
    });
  }
  const rate = e.quality !== undefined && !inCamera ? `quality ${e.quality}` : `${e.bitrate ?? options.codec.defaultBitrate} kbit/s`;
  log(
    'info',
    `Encoding ${options.codec.label}${inCamera ? ` in the camera (${target ?? kind})` : ''} ${e.width}x${e.height} at ${Number(e.fps.toFixed(3))} fps, ${rate}, ` +
      `GOP ${e.gop ?? options.codec.defaultGop(e.fps)}; ` +
      lifecycleText(isCameraKind(kind) ? 'camera' : 'source', options.graceMs, keptOnBy),
  );
}

/**
 * The core's lines at start: the host names answered to (unless any), the source and the ffmpeg it runs, and the
 * encoder (with `keptOnBy` saying what keeps the source on without viewers).
 */
export function logStartup(log: PluginLog, hosts: HostAllowlist, opened: Opened, options: ValidPluginOptions, keptOnBy: KeptOnBy): void {
  const { kind, reasons, target, ffmpeg } = opened;
  if (!hosts.any) log('info', hostsLine(hosts), { allowedHosts: hosts.patterns });
  log('info', sourceLine(opened), { source: kind, reasons, ...(target ? { target } : {}), ...(ffmpeg ? { ffmpeg } : {}) });
  logEncoding(log, opened, options, keptOnBy);
  if (opened.audio) log('info', soundLine(opened, options.audioBitrate), { audio: opened.audio.description });
}

/**
 * `Sound: ALSA plughw:1,0 (USB Audio), 48 kHz mono, 64 kbit/s: MP2 in /stream, AAC-LC in /fmp4-sound; captured while
 * someone listens`, or why there is none.
 */
function soundLine({ audio, hub }: Opened, bitrate: number): string {
  if (!audio?.hub) return `Sound: ${audio?.description ?? 'none'}`;
  const carried = hub.formats.flatMap((format) =>
    format.audio ? [`${format.audio.label} in ${format.path}${format.soundOnRequest ? ' (on request)' : ''}`] : [],
  );
  return (
    `Sound: ${audio.description}, ${PCM.sampleRate / 1000} kHz mono, ${bitrate} kbit/s: ${carried.join(', ')}; ` +
    'captured while someone listens'
  );
}

/** The hub's restarts, each logged as one line, until unsubscribed. */
export function logRestarts(log: PluginLog, hub: Pick<Hub, 'restarts$'>) {
  return hub.restarts$.subscribe(({ error, attempt, delayMs }) => logRestart(log, error, attempt, delayMs));
}
