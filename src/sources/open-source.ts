import { resolve as resolvePath } from 'node:path';
import type { Observable } from 'rxjs';
import { resolveFfmpeg, which } from '../process/ffmpeg-path';
import type { H264Picture } from '../codecs/h264/h264-picture';
import type { Frame } from '../frame';
import { detectSource } from './detect';
import { fileSource } from './file';
import { inCameraEncoder, isPiCameraKind, type InCameraEncoder, type PiCameraKind } from './in-camera';
import { raspivid } from './raspivid';
import { rpicam } from './rpicam';
import { CAMERA_PROGRAMS, DEFAULT_DEVICE, isUrl } from './source-programs';
import { sourceText, type SourceKindId } from './source-kinds';
import type { SourceOptions } from './source-options';
import { testPattern } from './test-pattern';
import { v4l2 } from './v4l2';

/** A source named in configuration (`--source`). */
export interface SourceSpec {
  readonly kind: SourceKindId;
  /** For `v4l2`: the device (default `/dev/video0`). */
  readonly device?: string;
  /** For `file`: the video file. */
  readonly path?: string;
  /** Mirror left–right (the camera does it, or ffmpeg for V4L2; the test pattern stays readable, unflipped). */
  readonly hflip?: boolean;
  /** Mirror top–bottom. */
  readonly vflip?: boolean;
  /** 0 or 180 only: the cameras can only flip; turn by 90° in the page's CSS. */
  readonly rotation?: 0 | 180;
}

export interface OpenedSource {
  /** The frames to encode; absent when the camera encodes by itself (`encodedSource`). */
  readonly source?: Observable<Frame>;
  /**
   * With a codec the Pi camera encodes by itself (`inCameraEncoder`: H.264) and a Pi camera: the camera's own
   * pictures (rpicam-vid, libcamera-vid or raspivid with `--codec h264`), no ffmpeg. For the hub's `encodedSource`.
   */
  readonly encodedSource?: Observable<H264Picture>;
  readonly kind: Exclude<SourceKindId, 'auto'>;
  /** What it reads, for the startup log: the file, the V4L2 device, the camera program (none for the test pattern). */
  readonly target?: string;
  /** For `auto`: why the sources tried before it were not chosen. */
  readonly reasons: readonly string[];
  /** The frames are full-range YUV (the Pi camera stacks): the encoder should convert to limited range. */
  readonly fullRange: boolean;
}

/** What {@link openSource} needs besides the spec: the frames' size and rate, and the codec the stream is sent in. */
export interface OpenSourceOptions extends SourceOptions {
  readonly ffmpeg?: string;
  /** The codec id. With one a Pi camera encodes by itself (`inCameraEncoder`), it does (`encodedSource`); other sources give frames. */
  readonly codec?: string;
  /** For a camera that encodes by itself: kbit/s and pictures per GOP (defaults: the codec's). */
  readonly bitrate?: number;
  readonly gop?: number;
}

/** The spec's orientation over the options' (the spec is what the user configured). */
function withSpecOrientation(spec: SourceSpec, given: OpenSourceOptions): OpenSourceOptions {
  return {
    ...given,
    ...(spec.hflip === undefined ? {} : { hflip: spec.hflip }),
    ...(spec.vflip === undefined ? {} : { vflip: spec.vflip }),
    ...(spec.rotation === undefined ? {} : { rotation: spec.rotation }),
  };
}

/** Frames from a source of `kind`, reading `target`. */
function framesOf(source: Observable<Frame>, kind: OpenedSource['kind'], target?: string, reasons: readonly string[] = []): OpenedSource {
  return {
    source,
    kind,
    ...(target === undefined ? {} : { target }),
    reasons,
    // The Pi camera stacks give full-range YUV (a V4L2 device, through ffmpeg, gives limited).
    fullRange: isPiCameraKind(kind),
  };
}

/** A Pi camera that encodes by itself: the camera's encoder instead of frames. */
function encodedBy(
  encoder: InCameraEncoder,
  kind: PiCameraKind,
  options: OpenSourceOptions,
  reasons: readonly string[] = [],
): OpenedSource {
  const { width, height, fps, hflip, vflip, rotation, bitrate, gop } = options;
  const command = encoder.programs[kind];
  return {
    encodedSource: encoder.open(kind, { width, height, fps, hflip, vflip, rotation, bitrate, gop }, command),
    kind,
    target: which(command) ?? command,
    reasons,
    fullRange: false,
  };
}

/** The frames of a source named by kind (not `auto`). */
function openNamed(spec: SourceSpec & { readonly kind: Exclude<SourceKindId, 'auto'> }, options: OpenSourceOptions): OpenedSource {
  const ffmpeg = (): string => resolveFfmpeg(options.ffmpeg).path;
  const program = (kind: PiCameraKind): string => which(CAMERA_PROGRAMS[kind]) ?? CAMERA_PROGRAMS[kind];
  switch (spec.kind) {
    case 'test':
      return framesOf(testPattern({ width: options.width, height: options.height, fps: options.fps }), 'test');
    case 'rpicam':
      return framesOf(rpicam(options), 'rpicam', program('rpicam'));
    case 'libcamera':
      return framesOf(rpicam({ ...options, command: 'libcamera-vid' }), 'libcamera', program('libcamera'));
    case 'raspivid':
      return framesOf(raspivid(options), 'raspivid', program('raspivid'));
    case 'v4l2': {
      const device = spec.device ?? DEFAULT_DEVICE;
      return framesOf(v4l2({ ...options, device, ffmpeg: ffmpeg() }), 'v4l2', device);
    }
    case 'file':
      if (!spec.path) throw new Error('source file needs a path (file:PATH)');
      return framesOf(
        fileSource({ ...options, path: spec.path, ffmpeg: ffmpeg() }),
        'file',
        isUrl(spec.path) ? spec.path : resolvePath(spec.path),
      );
  }
}

/**
 * Turns a configured source into frames: the named one, or for `auto` the first that works, in this order:
 * rpicam-vid, libcamera-vid, raspividyuv, a V4L2 device, else the test pattern. With a codec a Pi camera encodes by
 * itself (`inCameraEncoder`: H.264), a Pi camera gives its own pictures instead (`encodedSource`): the Pi 0–4 encode
 * H.264 in hardware.
 *
 * @example
 * const { source, kind, reasons } = await openSource({ kind: 'auto' }, { width: 640, height: 480, fps: 24 });
 */
export async function openSource(spec: SourceSpec, given: OpenSourceOptions): Promise<OpenedSource> {
  const options = withSpecOrientation(spec, given);
  const inCamera = inCameraEncoder(options.codec);
  if (spec.kind !== 'auto') {
    return inCamera && isPiCameraKind(spec.kind)
      ? encodedBy(inCamera, spec.kind, options)
      : openNamed({ ...spec, kind: spec.kind }, options);
  }
  const found = await detectSource({ ...options, testPattern: (o) => testPattern(o) });
  if (inCamera && isPiCameraKind(found.kind)) return encodedBy(inCamera, found.kind, options, found.reasons);
  return framesOf(found.source, found.kind, found.target, found.reasons);
}

export { sourceText };
