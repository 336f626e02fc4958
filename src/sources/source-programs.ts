/** The V4L2 device a spec without one reads. */
export const DEFAULT_DEVICE = '/dev/video0';

/** The program each named camera runs, and where it comes from, for the message when it is missing. */
export const CAMERA_PROGRAMS = { rpicam: 'rpicam-vid', libcamera: 'libcamera-vid', raspivid: 'raspividyuv' } as const;
/** With H.264 the legacy stack's encoding program is raspivid (same package as raspividyuv). */
export const H264_PROGRAMS = { raspivid: 'raspivid' } as const;
export const CAMERA_PACKAGES = { rpicam: 'rpicam-apps', libcamera: 'libcamera-apps', raspivid: 'libraspberrypi-bin' } as const;

/** ffmpeg reads URLs as well as files (`rtsp://cam/stream`): those are not looked for on disk. */
export function isUrl(path: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(path);
}
