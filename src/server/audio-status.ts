import type { AudioCodec } from '../audio/audio-codec';
import type { AudioHub } from '../audio/audio-hub';
import type { OpenedAudio } from '../audio/open-audio';
import type { WireFormat } from '../formats/wire-format';

/** The sound as `/healthz` shows it. */
export interface AudioHealth {
  /** What captures it: `'ALSA plughw:1,0 (USB Audio)'`, `'test tone …'`; or why there is none. */
  readonly source: string;
  /** `off` (nobody listens, or no sound), `running`, `restarting`. */
  readonly state: 'off' | 'running' | 'restarting';
  readonly restarts: number;
  readonly failures: number;
  readonly lastError?: string;
}

/** `/healthz`'s `audio` field (pure). */
export function audioHealth(opened: OpenedAudio): AudioHealth {
  const stats = opened.hub?.stats;
  if (!stats) return { source: opened.description, state: 'off', restarts: 0, failures: 0 };
  return {
    source: opened.description,
    state: stats.state,
    restarts: stats.restarts,
    failures: stats.failures,
    ...(stats.lastError ? { lastError: stats.lastError } : {}),
  };
}

/**
 * Why `/healthz` is `degraded` for sound, or undefined: the capture or its encoder failed and waits to restart. The
 * picture goes on meanwhile (sound never holds a picture back).
 * @example
 * audioProblem(hub); // 'sound failing: ffmpeg exited with code 1: … (restart 3, with backoff); the picture goes on'
 */
export function audioProblem(hub: AudioHub | undefined): string | undefined {
  const stats = hub?.stats;
  if (!stats || stats.state !== 'restarting') return undefined;
  return `sound failing (${hub!.label}): ${stats.lastError ?? 'unknown error'}; restarting with backoff (attempt ${stats.failures}); the picture goes on`;
}

/** What `GET /streams` says of one format's sound: its codec, or nothing for a silent format. */
export interface FormatAudio {
  /** The codec's id (`'mp2'`), label and player codec string. */
  readonly codec: string;
  readonly label: string;
  readonly codecString: string;
  readonly sampleRate: number;
  readonly channels: number;
}

/**
 * A format's sound as `GET /streams` lists it (pure): present only when the server has sound and the format carries
 * it, muxed into its pictures or sent beside them on request (`/h264`'s Opus).
 */
export function formatAudio(format: WireFormat, hub: AudioHub | undefined, sampleRate: number, channels: number): FormatAudio | undefined {
  return format.audio ? codecAudio(format.audio, hub, sampleRate, channels) : undefined;
}

/** A codec's sound as `GET /streams` lists it (pure): present only when the server has sound. */
export function codecAudio(codec: AudioCodec, hub: AudioHub | undefined, sampleRate: number, channels: number): FormatAudio | undefined {
  if (!hub) return undefined;
  const { id, label, codecString } = codec;
  return { codec: id, label, codecString, sampleRate, channels };
}
