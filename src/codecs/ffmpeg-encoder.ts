import type { Writable } from 'node:stream';
import { asyncScheduler, defer, from, map, switchMap, type Observable, type OperatorFunction, type TeardownLogic } from 'rxjs';
import { yuv420Size, type Frame, type FrameMeta } from '../frame';
import { LatestWins } from '../operators/latest-wins';
import type { Picture } from '../picture';
import { fromChildProcess } from '../process/child-process';
import { probeFfmpeg, resolveFfmpeg, type FfmpegCapabilities } from '../process/ffmpeg-path';
import { createEncoderCounters, type EncodeOptions, type EncoderCounters } from './codec';
import { multipartParts } from './multipart-parts';

/** Frames in flight inside ffmpeg are at most a few; a longer queue means ffmpeg dropped frames after all. */
const MAX_IN_FLIGHT = 64;

/**
 * How many frames may wait for ffmpeg to start (until its first picture): its start takes a few frame periods
 * (about 100 ms here, more on a Pi Zero), and without the wait the first frames after frame 0 were dropped.
 * Beyond this, later ones are dropped; after the first picture, none wait.
 */
export const STARTUP_FRAMES = 8;

/** What a codec tells {@link ffmpegEncoder}: its arguments, and how to read one of its pictures. */
export interface FfmpegEncoderSpec<P extends Picture> {
  /** ffmpeg's arguments: what it reads on stdin, and one picture per `mpjpeg` part on stdout. */
  args(caps: FfmpegCapabilities): string[];
  /** One part's bytes (one coded picture) and the frame it encodes, as the codec's picture; throws when not one. */
  picture(data: Buffer, frame: FrameMeta): P;
  /**
   * What stdin gets instead of raw frames (a transcoder's input): coded pictures, which depend on earlier ones,
   * so after a dropped one the next are dropped too until a keyframe; `bytes` is what to write for one (default
   * its `data`). Without it, inputs are raw frames of the settings' size, checked.
   */
  readonly coded?: { bytes?(picture: Picture): Buffer };
}

/**
 * Frames in, pictures out, through one ffmpeg child per subscription: the machinery every ffmpeg codec shares.
 * Frames go to ffmpeg's stdin **latest wins** ({@link LatestWins}): once ffmpeg runs, a frame that arrives while the
 * previous one is still being written is dropped and counted, never queued. Only while ffmpeg starts (until its
 * first picture) do the first {@link STARTUP_FRAMES} frames wait for it, in order, so a stream starts #0, #1, #2
 * rather than #0, #2. Each picture is emitted the moment ffmpeg has written its last byte (ffmpeg's `mpjpeg` framing
 * carries its length), carrying the `seq` and `capturedAt` of the frame it encodes: the codec must make one
 * picture per frame, in order (no B-frames, no frame dropping: `passthrough`). A frame is released
 * (`Frame.release`, so its source can reuse the buffer) as soon as the pipe has its bytes, or when it is dropped.
 *
 * Errors: a frame of the wrong size (naming both sizes), a missing ffmpeg, ffmpeg exiting non-zero (with its
 * last stderr lines). Unsubscribing kills ffmpeg (TERM, then KILL).
 *
 * @example
 * const encode = ffmpegEncoder({ width: 640, height: 480, fps: 24 }, { args: () => myArgs, picture: myPicture });
 * frames$.pipe(encode).subscribe((picture) => …);
 */
export function ffmpegEncoder<P extends Picture>(options: EncodeOptions, spec: FfmpegEncoderSpec<P>): OperatorFunction<Frame, P>;
export function ffmpegEncoder<P extends Picture>(
  options: EncodeOptions,
  spec: FfmpegEncoderSpec<P> & { coded: object },
): OperatorFunction<Picture, P>;
export function ffmpegEncoder<P extends Picture>(options: EncodeOptions, spec: FfmpegEncoderSpec<P>): OperatorFunction<Input, P> {
  const counters = options.counters ?? createEncoderCounters();
  return (frames$) =>
    defer(() => {
      const ffmpeg = resolveFfmpeg(options.ffmpeg);
      return from(probeFfmpeg(ffmpeg.path)).pipe(
        switchMap((caps) => encodeInOneChild(frames$, ffmpeg.path, caps, options, spec, counters)),
      );
    });
}

/** What stdin takes: a raw frame, or (a transcoder's input) a coded picture. */
type Input = Frame & Partial<Picture>;

/** One ffmpeg child: spawned on subscribe, fed by a {@link StdinFeed}, its `mpjpeg` parts read back as pictures. */
function encodeInOneChild<P extends Picture>(
  frames$: Observable<Input>,
  command: string,
  caps: FfmpegCapabilities,
  options: EncodeOptions,
  spec: FfmpegEncoderSpec<P>,
  counters: EncoderCounters,
): Observable<P> {
  const feed = new StdinFeed(options, spec.coded, counters);
  return fromChildProcess(command, spec.args(caps), {
    spawn: options.spawn,
    onSpawn: options.onSpawn,
    stdin: (stdin, fail) => feed.attach(frames$, stdin, fail),
  }).pipe(
    multipartParts(),
    map((data): P => {
      const picture = spec.picture(data, feed.encoded());
      counters.pictures++;
      return picture;
    }),
  );
}

/**
 * The frames of one ffmpeg child on their way into its stdin (the edge that writes; what to write is
 * {@link LatestWins}'s decision), and the FIFO of those written, which stamps each picture coming out.
 */
class StdinFeed {
  private readonly inFlight: FrameMeta[] = [];
  /** Until ffmpeg's first picture, frames that find a write in progress wait here (at most STARTUP_FRAMES). */
  private readonly waiting: Input[] = [];
  /** Coded input after a drop: nothing until the next keyframe. Raw frames stand alone. */
  private readonly latest: LatestWins;
  private readonly frameBytes: number;
  private started = false;
  private writing = false;
  private stdin: Writable | undefined;

  constructor(
    private readonly settings: { readonly width: number; readonly height: number },
    private readonly coded: FfmpegEncoderSpec<Picture>['coded'],
    private readonly counters: EncoderCounters,
  ) {
    this.latest = new LatestWins({ dependent: coded !== undefined });
    this.frameBytes = yuv420Size(settings.width, settings.height);
  }

  /** Subscribes to the frames and writes them to `stdin`; the teardown releases every frame still waiting. */
  attach(frames$: Observable<Input>, stdin: Writable, fail: (err: unknown) => void): TeardownLogic {
    this.stdin = stdin;
    stdin.on('drain', this.onDrain);
    const subscription = frames$.subscribe({
      next: (frame) => this.offer(frame, fail),
      error: fail,
      complete: () => {
        // The frames still waiting for ffmpeg's start go first (the stream buffers them for the pipe).
        for (const frame of this.waiting.splice(0)) this.write(frame);
        stdin.end();
      },
    });
    return () => {
      subscription.unsubscribe();
      stdin.off('drain', this.onDrain);
      for (const frame of this.waiting.splice(0)) frame.release?.();
    };
  }

  /** The frame the next picture out of ffmpeg encodes (with `-bf 0`, picture n is frame n); ffmpeg has started. */
  encoded(): FrameMeta {
    this.started = true;
    return this.inFlight.shift() ?? { seq: -1, capturedAt: asyncScheduler.now() };
  }

  private offer(frame: Input, fail: (err: unknown) => void): void {
    if (
      !this.coded &&
      (frame.width !== this.settings.width || frame.height !== this.settings.height || frame.data.length !== this.frameBytes)
    ) {
      frame.release?.();
      fail(this.sizeError(frame));
      return;
    }
    this.counters.framesIn++;
    const busy = this.writing || this.waiting.length > 0;
    const mayQueue = !this.started && this.waiting.length < STARTUP_FRAMES;
    switch (this.latest.step(busy, frame.keyframe === true, mayQueue)) {
      case 'write':
        this.write(frame);
        break;
      case 'queue':
        this.waiting.push(frame);
        break;
      default:
        this.counters.framesDropped++;
        frame.release?.();
    }
  }

  private write(frame: Input): void {
    this.inFlight.push({ seq: frame.seq, capturedAt: frame.capturedAt });
    if (this.inFlight.length > MAX_IN_FLIGHT) this.inFlight.shift();
    // A whole frame is far above the stream's high-water mark, so write() returns false until
    // ffmpeg has read all but the last pipe-full: that is exactly "not yet drained". Its callback comes
    // once the pipe has every byte (or the write failed): then the source may fill the buffer again.
    this.writing = !this.stdin!.write(this.coded?.bytes ? this.coded.bytes(frame as Picture) : frame.data, frame.release);
  }

  private readonly onDrain = (): void => {
    this.writing = false;
    // Small frames may all fit under the high-water mark: write on until one does not (or none wait).
    while (!this.writing && this.waiting.length > 0) this.write(this.waiting.shift()!);
  };

  private sizeError(frame: Input): RangeError {
    const { width, height } = this.settings;
    return new RangeError(
      `frame of ${frame.width}x${frame.height} (${frame.data.length} bytes) does not match the ` +
        `encoder's ${width}x${height} (${this.frameBytes} bytes)`,
    );
  }
}
