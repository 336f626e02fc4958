import type { Writable } from 'node:stream';
import { concatMap, defer, from, type Observable, type OperatorFunction, type TeardownLogic } from 'rxjs';
import { fromChildProcess, type SpawnFn } from '../process/child-process';
import type { AudioCodec, AudioPacket } from './audio-codec';
import { frameMs, frameStart, SampleClock } from './audio-frames';
import { PCM, sampleCount, wavHeader, type PcmChunk } from './pcm';

export interface EncodeAudioOptions {
  /** The ffmpeg binary. */
  readonly ffmpeg: string;
  /** kbit/s (the codec snaps it to what it allows). */
  readonly bitrateKbps: number;
  /** Injected spawn (tests). */
  readonly spawn?: SpawnFn;
  /**
   * Whether the binary's WAV demuxer takes `-max_size` (`probeFfmpeg`'s `wavMaxSize`): then the PCM goes in as
   * WAV read in packets of {@link WAV_PACKET_BYTES}, else as raw `s16le` (read 1024 samples, 21 ms, at a time).
   */
  readonly wavInput?: boolean;
}

/**
 * The WAV demuxer's smallest packet (its `-max_size` allows no less): 512 samples, 10.7 ms. Measured here
 * (ffmpeg 5.1, PCM written every 5 ms in real time): an MP2 frame came out p50 4 ms after its last sample went in,
 * against 10 ms reading raw `s16le`.
 */
const WAV_PACKET_BYTES = 1024;

/**
 * PCM bytes ffmpeg has not read yet beyond which a chunk is dropped (and the gap stamped as one, see
 * {@link SampleClock}): 1 s of sound. An encoder that slow is stuck; a queue must not grow without bound.
 */
const MAX_UNREAD_BYTES = PCM.sampleRate * PCM.bytesPerSample * PCM.channels;

/** ffmpeg's arguments: PCM on stdin (as WAV with `wavInput`), the codec's raw frames on stdout, flushed per packet. */
export function audioEncoderArgs(codec: AudioCodec, bitrateKbps: number, wavInput = false): string[] {
  const input = wavInput
    ? ['-f', 'wav', '-max_size', String(WAV_PACKET_BYTES)]
    : ['-f', PCM.ffmpegFormat, '-ar', String(PCM.sampleRate), '-ac', String(PCM.channels)];
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    ...input,
    '-i',
    'pipe:0',
    ...codec.encoderArgs(bitrateKbps),
    // Each frame out at once: a pipe's output is otherwise held in ffmpeg's 32 KiB I/O buffer.
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

/**
 * Captured PCM in, the codec's frames out, through one ffmpeg child per subscription (spawned on subscribe, killed
 * on unsubscribe). Each frame is stamped on the capture clock: frame k holds input samples from
 * k·samplesPerFrame − encoderDelay, placed by the {@link SampleClock} of the chunks written. Chunks are written in
 * order; one that finds ffmpeg a second behind is dropped. Errors: ffmpeg missing or exiting, a broken framing.
 *
 * @example
 * capture$.pipe(encodeAudio(mp2, { ffmpeg: 'ffmpeg', bitrateKbps: 64 })).subscribe((packet) => …);
 */
export function encodeAudio(codec: AudioCodec, options: EncodeAudioOptions): OperatorFunction<PcmChunk, AudioPacket> {
  return (pcm$) =>
    defer(() => {
      const clock = new SampleClock();
      const splitter = codec.splitter();
      const duration = frameMs(codec);
      let frames = 0;
      const wavInput = options.wavInput ?? false;
      return fromChildProcess(options.ffmpeg, audioEncoderArgs(codec, options.bitrateKbps, wavInput), {
        ...(options.spawn ? { spawn: options.spawn } : {}),
        stdin: (stdin, fail) => {
          if (wavInput) stdin.write(wavHeader());
          return feed(pcm$, stdin, clock, fail);
        },
      }).pipe(
        concatMap((chunk) =>
          from(
            splitter.push(chunk).map((data): AudioPacket => {
              const capturedAt = frameStart(codec, frames, clock);
              frames++;
              clock.forgetBefore(frames * codec.samplesPerFrame - codec.encoderDelay);
              return { data, codec: codec.id, capturedAt, durationMs: duration };
            }),
          ),
        ),
      );
    });
}

/** Writes each chunk to ffmpeg's stdin, noting its anchor; a chunk that finds a second unread is dropped. */
function feed(pcm$: Observable<PcmChunk>, stdin: Writable, clock: SampleClock, fail: (err: unknown) => void): TeardownLogic {
  const subscription = pcm$.subscribe({
    next: (chunk) => {
      if (stdin.writableLength > MAX_UNREAD_BYTES) return;
      clock.wrote(sampleCount(chunk.data.length), chunk.capturedAt);
      stdin.write(chunk.data);
    },
    error: fail,
    complete: () => stdin.end(),
  });
  return () => subscription.unsubscribe();
}
