/**
 * Captured sound as it travels from the capture to the encoders: signed 16-bit little-endian samples, mono, at
 * 48 kHz (what every codec pistream sends takes: MP2, AAC-LC and Opus all do 48 kHz), each chunk stamped with the
 * capture time of its first sample on the clock the video frames' `capturedAt` uses (ms since the epoch). That one
 * clock is what keeps sound and picture in step in every container: no sync step anywhere else.
 */

/** The one PCM layout between capture and encoders. */
export const PCM = {
  sampleRate: 48_000,
  channels: 1,
  /** s16le. */
  bytesPerSample: 2,
  /** ffmpeg's name of the layout (`-f s16le`). */
  ffmpegFormat: 's16le',
} as const;

/** One chunk of captured samples. */
export interface PcmChunk {
  /** Whole samples (s16le mono): an even number of bytes. */
  readonly data: Buffer;
  /** Capture time of the first sample, in ms since the epoch (fractions kept: a sample is 1/48 ms). */
  readonly capturedAt: number;
}

/** Samples in `bytes` of PCM. */
export function sampleCount(bytes: number): number {
  return Math.floor(bytes / (PCM.bytesPerSample * PCM.channels));
}

/** How long `samples` samples last, in ms. */
export function samplesToMs(samples: number): number {
  return (samples * 1000) / PCM.sampleRate;
}

/**
 * A WAV header for an endless stream of {@link PCM} (its sizes "unknown", 0xFFFFFFFF), for an ffmpeg that reads PCM
 * from a pipe as WAV: its WAV demuxer takes `-max_size`, so it hands the encoder packets of a few ms of sound,
 * where the raw `s16le` demuxer waits for 1024 samples (21 ms) or more.
 */
export function wavHeader(): Buffer {
  const header = Buffer.alloc(44);
  const blockAlign = PCM.bytesPerSample * PCM.channels;
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(0xffffffff, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // integer PCM
  header.writeUInt16LE(PCM.channels, 22);
  header.writeUInt32LE(PCM.sampleRate, 24);
  header.writeUInt32LE(PCM.sampleRate * blockAlign, 28); // bytes per second
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(PCM.bytesPerSample * 8, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(0xffffffff, 40);
  return header;
}
