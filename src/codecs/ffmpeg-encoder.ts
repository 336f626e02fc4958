import type { Writable } from 'node:stream';
import { asyncScheduler, defer, from, map, switchMap, type Observable, type OperatorFunction } from 'rxjs';
import { yuv420Size, type Frame, type FrameMeta } from '../frame';
import type { Picture } from '../picture';
import { fromChildProcess } from '../process/child-process';
import { probeFfmpeg, resolveFfmpeg, type FfmpegCapabilities } from '../process/ffmpeg-path';
import { createEncoderCounters, type EncodeOptions } from './codec';
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
 * Frames go to ffmpeg's stdin **latest wins**: once ffmpeg runs, a frame that arrives while the previous one is
 * still being written is dropped and counted, never queued. Only while ffmpeg starts (until its first picture)
 * do the first {@link STARTUP_FRAMES} frames wait for it, in order, so a stream starts #0, #1, #2 rather than
 * #0, #2. Each picture is emitted the moment ffmpeg has written its last byte (ffmpeg's `mpjpeg` framing
 * carries its length), carrying the `seq` and `capturedAt` of the frame it encodes: the codec must make one
 * picture per frame, in order (no B-frames, no frame dropping: `passthrough`). A frame is released
 * (`Frame.release`, so its source can reuse the buffer) as soon as the pipe has its bytes, or when it is dropped.
 *
 * Errors: a frame of the wrong size (naming both sizes), a missing ffmpeg, ffmpeg exiting non-zero (with its
 * last stderr lines). Unsubscribing kills ffmpeg (TERM, then KILL).
 */
export function ffmpegEncoder<P extends Picture>(options: EncodeOptions, spec: FfmpegEncoderSpec<P>): OperatorFunction<Frame, P>;
export function ffmpegEncoder<P extends Picture>(options: EncodeOptions, spec: FfmpegEncoderSpec<P> & { coded: object }): OperatorFunction<Picture, P>;
export function ffmpegEncoder<P extends Picture>(options: EncodeOptions, spec: FfmpegEncoderSpec<P>): OperatorFunction<Frame & Partial<Picture>, P> {
  const coded = spec.coded;
  const { width, height } = options;
  const frameBytes = yuv420Size(width, height);
  const counters = options.counters ?? createEncoderCounters();
  return (frames$) =>
    defer(() => {
      const ffmpeg = resolveFfmpeg(options.ffmpeg);
      return from(probeFfmpeg(ffmpeg.path)).pipe(
        switchMap((caps): Observable<P> => {
          const inFlight: FrameMeta[] = [];
          // Until ffmpeg's first picture, frames that find a write in progress wait here (at most STARTUP_FRAMES).
          const waiting: (Frame & Partial<Picture>)[] = [];
          // Coded input after a drop: nothing until the next keyframe (a picture without its reference is garbage).
          let awaitingKey = false;
          let started = false;
          const feed = (stdin: Writable, fail: (err: unknown) => void) => {
            let writing = false;
            const write = (frame: Frame & Partial<Picture>): void => {
              inFlight.push({ seq: frame.seq, capturedAt: frame.capturedAt });
              if (inFlight.length > MAX_IN_FLIGHT) inFlight.shift();
              // A whole frame is far above the stream's high-water mark, so write() returns false until
              // ffmpeg has read all but the last pipe-full: that is exactly "not yet drained". Its callback comes
              // once the pipe has every byte (or the write failed): then the source may fill the buffer again.
              writing = !stdin.write(coded?.bytes ? coded.bytes(frame as Picture) : frame.data, frame.release);
            };
            const onDrain = (): void => {
              writing = false;
              // Small frames may all fit under the high-water mark: write on until one does not (or none wait).
              while (!writing && waiting.length > 0) write(waiting.shift()!);
            };
            stdin.on('drain', onDrain);
            const subscription = frames$.subscribe({
              next: (frame) => {
                if (!coded && (frame.width !== width || frame.height !== height || frame.data.length !== frameBytes)) {
                  frame.release?.();
                  fail(
                    new RangeError(
                      `frame of ${frame.width}x${frame.height} (${frame.data.length} bytes) does not match the ` +
                        `encoder's ${width}x${height} (${frameBytes} bytes)`,
                    ),
                  );
                  return;
                }
                counters.framesIn++;
                if (coded && awaitingKey && !frame.keyframe) {
                  counters.framesDropped++;
                  frame.release?.();
                } else if (!writing && waiting.length === 0) {
                  awaitingKey = false;
                  write(frame);
                } else if (!started && waiting.length < STARTUP_FRAMES) {
                  waiting.push(frame);
                } else {
                  counters.framesDropped++;
                  frame.release?.();
                  awaitingKey = coded !== undefined;
                }
              },
              error: fail,
              complete: () => {
                // The frames still waiting for ffmpeg's start go first (the stream buffers them for the pipe).
                for (const frame of waiting.splice(0)) write(frame);
                stdin.end();
              },
            });
            return () => {
              subscription.unsubscribe();
              stdin.off('drain', onDrain);
              for (const frame of waiting.splice(0)) frame.release?.();
            };
          };
          return fromChildProcess(ffmpeg.path, spec.args(caps), {
            spawn: options.spawn,
            onSpawn: options.onSpawn,
            stdin: feed,
          }).pipe(
            multipartParts(),
            map((data): P => {
              const meta = inFlight.shift() ?? { seq: -1, capturedAt: asyncScheduler.now() };
              const picture = spec.picture(data, meta);
              counters.pictures++;
              started = true;
              return picture;
            }),
          );
        }),
      );
    });
}
