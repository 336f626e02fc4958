import type { Observable } from 'rxjs';
import { resolveFfmpeg } from '../process/ffmpeg-path';
import type { Frame } from '../frame';
import { detectSource, type SourceKind } from './detect';
import { fileSource } from './file';
import { raspivid } from './raspivid';
import { rpicam } from './rpicam';
import type { SourceOptions } from './source-options';
import { testPattern } from './test-pattern';
import { v4l2 } from './v4l2';

/** A source named in configuration (`--source`). */
export interface SourceSpec {
  readonly kind: 'auto' | SourceKind | 'file';
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
  readonly source: Observable<Frame>;
  readonly kind: SourceKind | 'file';
  /** For `auto`: why the sources tried before it were not chosen. */
  readonly reasons: readonly string[];
  /** The frames are full-range YUV (the Pi camera stacks): the encoder should convert to limited range. */
  readonly fullRange: boolean;
}

/**
 * Turns a configured source into frames: the named one, or for `auto` the first that works, in this order:
 * rpicam-vid, libcamera-vid, raspividyuv, a V4L2 device, else the test pattern.
 *
 * @example
 * const { source, kind, reasons } = await openSource({ kind: 'auto' }, { width: 640, height: 480, fps: 24 });
 */
export async function openSource(
  spec: SourceSpec,
  given: SourceOptions & { readonly ffmpeg?: string },
): Promise<OpenedSource> {
  // The spec's orientation wins over the options' (the spec is what the user configured).
  const options = {
    ...given,
    ...(spec.hflip === undefined ? {} : { hflip: spec.hflip }),
    ...(spec.vflip === undefined ? {} : { vflip: spec.vflip }),
    ...(spec.rotation === undefined ? {} : { rotation: spec.rotation }),
  };
  const { width, height, fps } = options;
  const ffmpeg = (): string => resolveFfmpeg(options.ffmpeg).path;
  const opened = (source: Observable<Frame>, kind: OpenedSource['kind'], reasons: readonly string[] = []): OpenedSource => ({
    source,
    kind,
    reasons,
    fullRange: kind === 'rpicam' || kind === 'libcamera' || kind === 'raspivid',
  });
  switch (spec.kind) {
    case 'test':
      return opened(testPattern({ width, height, fps }), 'test');
    case 'rpicam':
      return opened(rpicam(options), 'rpicam');
    case 'libcamera':
      return opened(rpicam({ ...options, command: 'libcamera-vid' }), 'libcamera');
    case 'raspivid':
      return opened(raspivid(options), 'raspivid');
    case 'v4l2':
      return opened(v4l2({ ...options, device: spec.device ?? '/dev/video0', ffmpeg: ffmpeg() }), 'v4l2');
    case 'file':
      if (!spec.path) throw new Error('source file needs a path (file:PATH)');
      return opened(fileSource({ ...options, path: spec.path, ffmpeg: ffmpeg() }), 'file');
    case 'auto': {
      const found = await detectSource({ ...options, testPattern: (o) => testPattern(o) });
      return opened(found.source, found.kind, found.reasons);
    }
  }
}
