import type { AudioCodec, AudioSplitter, HeaderFramedCodec } from './audio-codec';
import { samplesToMs } from './pcm';

/**
 * Cuts an encoder's raw output (MP2 frames, ADTS frames) into whole frames by their headers: chunk boundaries of a
 * pipe are no contract. Holds at most one unfinished frame.
 */
export class AudioFrameSplitter implements AudioSplitter {
  private held = Buffer.alloc(0);

  constructor(private readonly codec: Pick<HeaderFramedCodec, 'frameLength'>) {}

  /** The frames completed by `chunk`. Throws when the stream loses its framing. */
  push(chunk: Buffer): Buffer[] {
    const bytes = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const frames: Buffer[] = [];
    let at = 0;
    for (;;) {
      const length = this.codec.frameLength(bytes, at);
      if (length === undefined || at + length > bytes.length) break;
      frames.push(Buffer.from(bytes.subarray(at, at + length)));
      at += length;
    }
    this.held = Buffer.from(bytes.subarray(at));
    return frames;
  }
}

/**
 * Input sample index → capture time, for an encoder's input: each chunk written sets an anchor (its first sample's
 * index and capture time), so a gap in the capture (lost samples, a restart) moves the stamps of what follows
 * instead of shifting every later frame. Anchors that no frame can need any more are dropped.
 */
export class SampleClock {
  private readonly anchors: { index: number; at: number }[] = [];
  private written = 0;

  /** A chunk of `samples` samples captured from `capturedAt` was written to the encoder. */
  wrote(samples: number, capturedAt: number): void {
    this.anchors.push({ index: this.written, at: capturedAt });
    this.written += samples;
  }

  /** Capture time of input sample `index` (negative: before the first, the encoder's priming). */
  at(index: number): number {
    if (this.anchors.length === 0) return NaN;
    let anchor = this.anchors[0]!;
    for (const next of this.anchors) {
      if (next.index > index) break;
      anchor = next;
    }
    return anchor.at + samplesToMs(index - anchor.index);
  }

  /** Frames will not ask about samples before `index` again. */
  forgetBefore(index: number): void {
    while (this.anchors.length > 1 && this.anchors[1]!.index <= index) this.anchors.shift();
  }
}

/** The capture time of frame `frame` of an encoder's output, by its input's clock. */
export function frameStart(codec: Pick<AudioCodec, 'samplesPerFrame' | 'encoderDelay'>, frame: number, clock: SampleClock): number {
  return clock.at(frame * codec.samplesPerFrame - codec.encoderDelay);
}

/** One frame's length in ms. */
export function frameMs(codec: Pick<AudioCodec, 'samplesPerFrame'>): number {
  return samplesToMs(codec.samplesPerFrame);
}
