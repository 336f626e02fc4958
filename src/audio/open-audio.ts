import { isObservable, type Observable, type SchedulerLike } from 'rxjs';
import type { BackoffOptions } from '../operators/retry-with-backoff';
import { probeFfmpeg } from '../process/ffmpeg-path';
import { AudioCheckError } from './audio-check-error';
import { createAudioHub, type AudioHub } from './audio-hub';
import { plugName } from './alsa-devices';
import { alsaDeviceProblem, firstCaptureDevice, PROC_ASOUND_PCM } from './alsa-probe';
import { audioText, type AudioKindId, type AudioSpec } from './audio-kinds';
import { alsaInputArgs, ffmpegPcm } from './capture';
import type { PcmChunk } from './pcm';
import { testTone } from './test-tone';

/** What the sound hub needs besides its capture. */
export interface OpenAudioOptions {
  /** The ffmpeg binary, asked only when sound is opened (none needs none). */
  readonly ffmpeg: () => string;
  readonly bitrateKbps: number;
  readonly restart: BackoffOptions;
  readonly watchdogMs: number;
  readonly scheduler?: SchedulerLike;
  /** Where `auto` reads the capture devices. Default `/proc/asound/pcm`. */
  readonly procPcm?: string;
}

/** The sound as opened: its hub (none: silent), and for the startup line what was chosen and why. */
export interface OpenedAudio {
  readonly hub?: AudioHub;
  /** `'ALSA plughw:1,0 (USB Audio)'`, `'none (no ALSA capture device in /proc/asound/pcm)'`. */
  readonly description: string;
}

interface Capture {
  readonly capture: Observable<PcmChunk>;
  readonly label: string;
}

type Opener = (spec: AudioSpec, options: OpenAudioOptions) => Promise<Capture | string>;

const alsa = (device: string, options: OpenAudioOptions, name?: string): Capture => ({
  capture: ffmpegPcm(alsaInputArgs(device), { ffmpeg: options.ffmpeg(), now: () => (options.scheduler ?? Date).now() }),
  label: `ALSA ${device}${name ? ` (${name})` : ''}`,
});

/** Each kind: a capture, or (a string) why there is no sound. Keyed by kind: no branch on a kind's name. */
const OPENERS: Readonly<Record<AudioKindId, Opener>> = {
  none: async () => 'none (--audio none)',
  test: async (_spec, options) => ({
    capture: testTone(options.scheduler ? { scheduler: options.scheduler } : {}),
    label: 'test tone (1 kHz beep on every whole second)',
  }),
  // `auto` never fails a start: a device found but not working is left to the restart (and /healthz).
  auto: async (_spec, options) => {
    const found = await firstCaptureDevice(options.procPcm ?? PROC_ASOUND_PCM);
    return found ? alsa(plugName(found), options, found.name) : `none (no ALSA capture device in ${options.procPcm ?? PROC_ASOUND_PCM})`;
  },
  alsa: async (spec, options) => {
    const device = spec.device!;
    const problem = await alsaDeviceProblem(options.ffmpeg(), device);
    if (problem) throw new AudioCheckError(audioText(spec), problem);
    return alsa(device, options);
  },
};

/**
 * Opens the sound the options name: `auto` the first ALSA capture device or none, `test` the beep, `alsa:DEVICE`
 * that device (checked now: missing or busy throws {@link AudioCheckError}), `none` nothing, or the host's own
 * Observable of PCM chunks. The hub it builds captures and encodes only while someone listens.
 */
export async function openAudio(audio: AudioSpec | Observable<PcmChunk>, options: OpenAudioOptions): Promise<OpenedAudio> {
  const opened: Capture | string = isObservable(audio)
    ? { capture: audio, label: 'PCM from the host application' }
    : await OPENERS[audio.kind](audio, options);
  if (typeof opened === 'string') return { description: opened };
  const ffmpeg = options.ffmpeg();
  // An ffmpeg that cannot run fails the encoder later, with its own error (and restarts): not a reason to fail here.
  const wavInput = await probeFfmpeg(ffmpeg).then(
    (capabilities) => capabilities.wavMaxSize,
    () => false,
  );
  const hub = createAudioHub({
    capture: opened.capture,
    label: opened.label,
    ffmpeg,
    wavInput,
    bitrateKbps: options.bitrateKbps,
    restart: options.restart,
    watchdogMs: options.watchdogMs,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  return { hub, description: opened.label };
}
