/**
 * The audio codec seam, like the video `Codec`: a value carries everything about its codec (how ffmpeg encodes it,
 * how its frames are found in the encoder's raw output, its frame length, its encoder's priming, how MPEG-TS and
 * players name it), so formats and the server ask the value instead of branching on a name.
 */

/** One coded audio frame, stamped on the capture clock. */
export interface AudioPacket {
  /** One whole frame as the codec's raw stream has it (an MP2 frame; an ADTS frame, header included). */
  readonly data: Buffer;
  /** The {@link AudioCodec.id} that made it. */
  readonly codec: string;
  /** Capture time (ms since the epoch, the video frames' clock) of the frame's first sample. */
  readonly capturedAt: number;
  /** Its length in ms (samples per frame at 48 kHz). */
  readonly durationMs: number;
}

/** How MPEG-TS carries a codec: the PMT's stream_type and the PES stream_id. */
export interface TsAudio {
  readonly streamType: number;
  readonly streamId: number;
}

export interface AudioCodec {
  /** Short name: `'mp2'`, `'aac'`. */
  readonly id: string;
  /** For people: `'MP2'`. */
  readonly label: string;
  /** What players call it (MSE/WebCodecs codec string; JSMpeg: `mp2`). */
  readonly codecString: string;
  /** Samples in one frame. */
  readonly samplesPerFrame: number;
  /**
   * Samples the encoder emits before the input's first sample (its priming, what ffmpeg writes as the first
   * packet's negative timestamp): frame k holds input samples from k·samplesPerFrame − encoderDelay.
   */
  readonly encoderDelay: number;
  /** ffmpeg's output arguments: encoder, bitrate, raw muxer (after `-i`). */
  encoderArgs(bitrateKbps: number): string[];
  /**
   * A new cutter of the encoder's raw output (what {@link encoderArgs} makes ffmpeg write) into this codec's frames,
   * one per encoder run: chunk boundaries of a pipe are no contract.
   */
  splitter(): AudioSplitter;
  /** How MPEG-TS carries it, when it can. */
  readonly mpegts?: TsAudio;
  /** How RTP carries it (WebRTC), when it can: the SDP encoding name, clock rate and channels of its `a=rtpmap`. */
  readonly rtp?: RtpAudio;
}

/** Cuts an encoder's raw output into whole frames; throws when the stream loses its framing. */
export interface AudioSplitter {
  /** The frames completed by `chunk`, in order. */
  push(chunk: Buffer): Buffer[];
}

/** A codec whose raw stream is its frames back to back, each starting with a header that gives its length. */
export interface HeaderFramedCodec extends AudioCodec {
  /**
   * The length of the frame starting at `at` in `bytes`, or undefined when its header is not all there yet.
   * Throws when `at` is not a frame header (the stream lost its framing).
   */
  frameLength(bytes: Buffer, at: number): number | undefined;
}

/** How RTP carries an audio codec (RFC 7587 for Opus: `opus/48000/2` whatever the stream's channels). */
export interface RtpAudio {
  readonly encodingName: string;
  readonly clockRate: number;
  readonly channels: number;
}

/**
 * Audio frames held for the next picture at most, by whoever puts sound beside pictures (the muxers, the recorder):
 * about 2 s of sound, so a stalled camera holds no growing queue.
 */
export const MAX_HELD_AUDIO = 80;
