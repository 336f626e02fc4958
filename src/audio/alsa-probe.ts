import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { procPcmCaptureDevices, type CaptureDevice } from './alsa-devices';
import { alsaInputArgs } from './capture';

/** Where the kernel lists ALSA's PCM devices. */
export const PROC_ASOUND_PCM = '/proc/asound/pcm';

/** The machine's first ALSA capture device, or undefined (no sound card, no ALSA, a container without /proc/asound). */
export async function firstCaptureDevice(path: string = PROC_ASOUND_PCM): Promise<CaptureDevice | undefined> {
  try {
    return procPcmCaptureDevices(await readFile(path, 'utf8'))[0];
  } catch {
    return undefined;
  }
}

/** How long the start-up check may take to open a device and read a little from it. */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * Opens `device` with ffmpeg and reads 50 ms from it, so a device that is missing, busy (another program holds it:
 * ALSA hw devices have one owner) or refuses 48 kHz mono fails the start with one line, not a capture that retries
 * forever. Resolves undefined when it works, else the problem in words (ffmpeg's own last line).
 */
export function alsaDeviceProblem(ffmpeg: string, device: string): Promise<string | undefined> {
  const args = ['-hide_banner', '-nostats', '-loglevel', 'error', ...alsaInputArgs(device), '-t', '0.05', '-f', 'null', '-'];
  return new Promise((resolve) => {
    execFile(ffmpeg, args, { timeout: CHECK_TIMEOUT_MS, windowsHide: true }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined);
      // ffmpeg saying nothing (a static build's ALSA crashing without HOME): how it ended, on one line.
      const ended = error.signal ? `was killed by ${error.signal}` : `exited with code ${String(error.code)}`;
      resolve(alsaProblemText(stderr, `${ffmpeg} ${ended} without saying why`, ffmpeg));
    });
  });
}

/**
 * ffmpeg's complaint about an ALSA device in one line: ALSA's own "cannot open audio device X (reason)" where
 * there is one (ffmpeg's last line only says "Input/output error"), without its `[alsa @ 0x…]` prefix.
 * @example
 * alsaProblemText('[alsa @ 0x1] cannot open audio device hw:7,0 (No such file or directory)\nhw:7,0: Input/output error', '', 'ffmpeg');
 * // 'cannot be opened: No such file or directory'
 */
export function alsaProblemText(stderr: string, fallback: string, ffmpeg: string): string {
  if (/Unknown input format:? .?alsa/i.test(stderr)) return `this ffmpeg (${ffmpeg}) has no ALSA input`;
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^\[[^\]]* @ 0x[0-9a-f]+\]\s*/i, '').trim())
    .filter(Boolean);
  if (/busy/i.test(stderr)) return 'is busy: another program is recording from it (ALSA hw devices have one owner)';
  const alsa = lines.map((l) => /cannot open audio device \S+ \((.*)\)/i.exec(l)?.[1]).find(Boolean);
  return `cannot be opened: ${alsa ?? lines.at(-1) ?? fallback}`;
}
