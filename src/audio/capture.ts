import type { Observable } from 'rxjs';
import { fromChildProcess, type SpawnFn } from '../process/child-process';
import { PCM, type PcmChunk } from './pcm';
import { stampPcm } from './stamp-pcm';

export interface CaptureOptions {
  /** The ffmpeg binary. */
  readonly ffmpeg: string;
  /** The capture clock (the hub scheduler's `now`). */
  readonly now: () => number;
  readonly spawn?: SpawnFn;
}

/**
 * ffmpeg's input arguments for an ALSA capture device: 48 kHz mono asked of the device (ALSA options go before
 * `-i`; `plughw:` converts where the card cannot), no probing delay.
 */
export function alsaInputArgs(device: string): string[] {
  return ['-f', 'alsa', '-ac', String(PCM.channels), '-ar', String(PCM.sampleRate), '-i', device];
}

/**
 * Sound from one ffmpeg child reading `inputArgs` (an ALSA device; in tests an `-re -f lavfi` source stands in),
 * as 48 kHz mono s16le on its stdout, flushed per packet and stamped by {@link stampPcm} on the capture clock.
 * Spawned on subscribe, killed on unsubscribe; ffmpeg exiting (the microphone unplugged) is an error.
 *
 * @example
 * ffmpegPcm(alsaInputArgs('plughw:1,0'), { ffmpeg: 'ffmpeg', now: Date.now }).subscribe((chunk) => …);
 */
export function ffmpegPcm(inputArgs: readonly string[], options: CaptureOptions): Observable<PcmChunk> {
  const args = [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    '-fflags',
    'nobuffer',
    ...inputArgs,
    '-ac',
    String(PCM.channels),
    '-ar',
    String(PCM.sampleRate),
    '-f',
    PCM.ffmpegFormat,
    '-flush_packets',
    '1',
    'pipe:1',
  ];
  return fromChildProcess(options.ffmpeg, args, options.spawn ? { spawn: options.spawn } : {}).pipe(stampPcm({ now: options.now }));
}
