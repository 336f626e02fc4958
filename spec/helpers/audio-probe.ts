import { execFile } from 'node:child_process';
import { resolveFfmpeg } from '../../src/process/ffmpeg-path';

/** Runs ffmpeg (the one the server uses) and hands back what it printed; only a failure to run at all rejects. */
function run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err && !stderr) reject(new Error(`${command} did not run: ${err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The audio stream of a file as ffmpeg reads it: its codec (`mp2`, `aac`) and its loudest sample in dBFS. */
export interface AudioProbe {
  readonly codec: string | undefined;
  readonly sampleRate: number | undefined;
  /** volumedetect's max_volume (dB; -91 is digital silence). */
  readonly maxVolumeDb: number;
}

/** Reads a recording or a captured stream with ffmpeg: its first audio stream's codec and level. */
export async function probeAudio(file: string): Promise<AudioProbe> {
  const ffmpeg = resolveFfmpeg().path;
  const { stderr } = await run(ffmpeg, ['-hide_banner', '-nostats', '-i', file, '-map', '0:a:0', '-af', 'volumedetect', '-f', 'null', '-']);
  const stream = /Stream #\d+:\d+[^:]*: Audio: (\w+)[^,]*, (\d+) Hz/.exec(stderr);
  const max = /max_volume: (-?[\d.]+) dB/.exec(stderr);
  return { codec: stream?.[1], sampleRate: stream ? Number(stream[2]) : undefined, maxVolumeDb: max ? Number(max[1]) : -Infinity };
}

/**
 * Where the beeps start, as capture times (ms since the epoch): the file's first audio stream decoded with its
 * timestamps kept (`-copyts`, so MPEG-TS PTS stay 90 kHz capture times mod 2^33 and MP4 decode times stay what the
 * muxer wrote), `silencedetect`'s silence ends taken as onsets; `toCaptureMs` turns a stream time in seconds into
 * a capture time. An onset within 50 ms of the end is the end of the file, not a beep.
 */
export async function beepOnsets(file: string, toCaptureMs: (seconds: number) => number): Promise<number[]> {
  const ffmpeg = resolveFfmpeg().path;
  // silencedetect prints times with 6 significant digits: subtract the first frame's time first, add it back here.
  const { stderr } = await run(ffmpeg, [
    ...['-hide_banner', '-nostats', '-copyts', '-i', file, '-map', '0:a:0'],
    ...['-af', 'ashowinfo,asetpts=PTS-STARTPTS,silencedetect=n=-30dB:d=0.05', '-f', 'null', '-'],
  ]);
  // ashowinfo's pts_time has 6 significant digits too; its pts counts samples (the audio link's time base is 1/rate).
  const times = [...stderr.matchAll(/ashowinfo.*? pts:(-?\d+) .*? rate:(\d+) /g)].map((m) => Number(m[1]) / Number(m[2]));
  if (times.length === 0) throw new Error(`no audio decoded from ${file}:\n${stderr.slice(-2000)}`);
  const start = times[0]!;
  const end = times.at(-1)!;
  return [...stderr.matchAll(/silence_end: (-?[\d.]+)/g)]
    .map((m) => start + Number(m[1]))
    .filter((t) => t < end - 0.05)
    .map(toCaptureMs);
}

/** A 90 kHz MPEG-TS time (s, mod 2^33 ticks) back on the capture clock: the wrap nearest before `nowMs`. */
export function mpegTsCaptureMs(nowMs: number): (seconds: number) => number {
  const wrapMs = 2 ** 33 / 90;
  return (seconds) => {
    const ms = seconds * 1000;
    const base = Math.floor((nowMs - ms) / wrapMs) * wrapMs;
    return base + ms;
  };
}

/** How far a capture time is from the nearest whole second, in ms (signed: negative is early). */
export function offWholeSecond(ms: number): number {
  const into = ((ms % 1000) + 1000) % 1000;
  return into > 500 ? into - 1000 : into;
}
