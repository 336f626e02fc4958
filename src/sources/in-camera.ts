import type { Observable } from 'rxjs';
import type { Codec } from '../codecs/codec';
import { h264 } from '../codecs/h264/h264-codec';
import type { H264Picture } from '../codecs/h264/h264-picture';
import { raspividH264, rpicamH264, type H264CameraOptions } from './camera-h264';
import { CAMERA_PROGRAMS, H264_PROGRAMS } from './source-programs';

/** The Pi camera kinds: each can encode some codecs by itself. */
export type PiCameraKind = keyof typeof CAMERA_PROGRAMS;

/**
 * Whether a source kind is a Pi camera (rpicam-vid, libcamera-vid, raspivid): full-range YUV frames, and an encoder
 * of its own.
 * @example
 * isPiCameraKind('libcamera'); // true
 * isPiCameraKind('v4l2'); // false
 */
export function isPiCameraKind(kind: string): kind is PiCameraKind {
  return Object.hasOwn(CAMERA_PROGRAMS, kind);
}

/** A codec a Pi camera encodes by itself (no ffmpeg): which program each camera kind runs, and its pictures. */
export interface InCameraEncoder {
  readonly codec: Codec;
  /** The program each camera kind runs to encode the codec (the legacy stack's raspivid, not raspividyuv). */
  readonly programs: Readonly<Record<PiCameraKind, string>>;
  /** The camera's own pictures, spawning `command` (one of `programs`, or found on `PATH`). */
  open(kind: PiCameraKind, options: H264CameraOptions, command: string): Observable<H264Picture>;
}

/** The codecs the Pi cameras encode by themselves. A camera encoder for another codec is one more line here. */
export const IN_CAMERA_ENCODERS: readonly InCameraEncoder[] = [
  {
    codec: h264,
    programs: { ...CAMERA_PROGRAMS, ...H264_PROGRAMS },
    open: (kind, options, command) => (kind === 'raspivid' ? raspividH264(options) : rpicamH264({ ...options, command })),
  },
];

/**
 * The Pi camera's own encoder for the codec called `codec`, or undefined (the camera then gives frames to encode).
 * @example
 * inCameraEncoder('h264')?.programs.raspivid; // 'raspivid'
 */
export function inCameraEncoder(codec: string | undefined): InCameraEncoder | undefined {
  return IN_CAMERA_ENCODERS.find((encoder) => encoder.codec.id === codec);
}
