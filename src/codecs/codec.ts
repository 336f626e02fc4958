import type Joi from 'joi';
import type { OperatorFunction } from 'rxjs';
import type { Frame } from '../frame';
import type { Picture } from '../picture';
import type { ChildProcessOptions, SpawnFn } from '../process/child-process';

/** What every encoder is told: the frames' size and rate, and how to spend bits. */
export interface EncoderSettings {
  readonly width: number;
  readonly height: number;
  /** Frames per second of the input (the codec may allow only some rates). */
  readonly fps: number;
  /** Target bitrate in kbit/s. Default: the codec's {@link Codec.defaultBitrate}. Not with `quality`. */
  readonly bitrate?: number;
  /** Fixed quantiser instead of a bitrate: steady quality, variable bandwidth (the codec says the range). */
  readonly quality?: number;
  /** Pictures per GOP: a viewer can only start at a keyframe. Default: the codec's {@link Codec.defaultGop}. */
  readonly gop?: number;
  /** Encoder threads. Default: the encoder's choice. */
  readonly threads?: number;
  /** Input is full-range YUV (the Pi cameras): convert to the limited range players expect (costs CPU). */
  readonly fullRange?: boolean;
  /** Allow frame rates the codec has no standard code for, where its encoder has a workaround. */
  readonly allowNonstandardFps?: boolean;
  /** Path of the ffmpeg binary. Default: `resolveFfmpeg()` (PISTREAM_FFMPEG, PATH, @ffmpeg-installer). */
  readonly ffmpeg?: string;
}

/** Counters an encoder keeps, for stats and metrics. */
export interface EncoderCounters {
  /** Frames offered to the encoder. */
  framesIn: number;
  /** Frames dropped because the encoder had not taken the previous one yet (latest wins: no queue). */
  framesDropped: number;
  /** Pictures the encoder produced. */
  pictures: number;
}

export function createEncoderCounters(): EncoderCounters {
  return { framesIn: 0, framesDropped: 0, pictures: 0 };
}

/** Encoder settings plus the effects a host or a test injects. */
export interface EncodeOptions extends EncoderSettings {
  /** Injected spawn (tests). */
  readonly spawn?: SpawnFn;
  /** Called with the encoder child right after it starts. */
  readonly onSpawn?: ChildProcessOptions['onSpawn'];
  /** Counters to update (shared with the hub's stats). */
  readonly counters?: EncoderCounters;
}

/**
 * How an ffmpeg reads a codec's pictures back from a pipe, as the hub has them (the publishers copy them to a
 * target, the MPEG-1 transcode and the snapshots decode them). `pipeInputArgs()` builds the arguments.
 */
export interface PipeInput {
  /** ffmpeg's demuxer for the raw stream: `-f h264`, `-f mpegvideo`. */
  readonly demuxer: string;
  /** Input options for a live pipe, before `-f` (e.g. no probing, where the first keyframe says all). */
  readonly live: readonly string[];
  /** Input options when ffmpeg decodes the pictures (not when it only copies them), before `-f`. */
  readonly decode: readonly string[];
  /** The bytes one picture is written as, so ffmpeg's parser ends it at once (not when the next one begins). */
  bytes(picture: Picture): Buffer;
}

/**
 * A codec, as a value: what it is called, what settings it accepts (one schema, used by the plugin's option
 * validation, the CLI and the encoder itself, so the rules cannot disagree), its defaults, how to turn frames
 * into its pictures, and what the rest of pistream needs to know of it (how ffmpeg reads it back, where it can be
 * published and recorded, what a player calls it). Adding a codec is a new folder under `src/codecs/` plus one line
 * in `src/codecs/index.ts`; nothing outside `src/codecs/` names a codec.
 *
 * @example
 * const pictures$ = testPattern().pipe(mpeg1.encode({ width: 640, height: 480, fps: 24 }));
 */
export interface Codec<P extends Picture = Picture> {
  /** Short name, as in `Picture.codec`, `--codec` and the formats' `codecs` lists: `'mpeg1'`. */
  readonly id: string;
  /** For people: `'MPEG-1'`. */
  readonly label: string;
  /** Bitrate in kbit/s when neither `bitrate` nor `quality` is given. */
  readonly defaultBitrate: number;
  /** Pictures per GOP when `gop` is not given, for a frame rate. */
  defaultGop(fps: number): number;
  /**
   * The one schema of {@link EncoderSettings} for this codec: ranges, and the codec's own rules (e.g. the frame
   * rates it can code). Validating converts where the codec is exact (`29.97` → `30000/1001`).
   */
  readonly settings: Joi.ObjectSchema<EncoderSettings>;
  /** Its settings in a person's words, for `--help`: the frame rates it takes, and its `quality` scale. */
  readonly settingsHelp: { readonly fps: string; readonly quality: string };
  /** Frames in, pictures out, one encoder per subscription; settings are checked at once (RangeError). */
  encode(options: EncodeOptions): OperatorFunction<Frame, P>;
  /**
   * How ffmpeg reads the pictures from a pipe. Without it, nothing decodes or publishes them: no snapshots, no
   * publishing, no MPEG-1 transcode.
   */
  readonly pipeInput?: PipeInput;
  /**
   * The ffmpeg muxers that carry the pictures as they are (`-c:v copy`) when publishing: `'flv'` (RTMP),
   * `'mpegts'` (SRT), `'rtsp'`. A target whose muxer is not listed cannot take this codec.
   */
  readonly publishMuxers?: readonly string[];
  /** The wire format whose muxer writes its recording segments (`'mpegts'`, `'fmp4'`); none: it is not recordable. */
  readonly recordAs?: string;
  /**
   * Whether the hub also serves MPEG-1's formats to old players through an on-demand transcode (ffmpeg decodes
   * the pictures through `pipeInput`).
   */
  readonly mpeg1Transcode?: boolean;
  /** What a player calls the codec of a picture (RFC 6381, `'avc1.42C01F'`), where it needs one. */
  codecString?(picture: P): string;
}
