// The bench's streams: their sizes, rates and bitrates, in one place (run.ts, encoder-latency.ts, publish.ts and
// bench/README.md's figures all come from here; spec/bench/readme-bitrates.spec.ts holds the README to it).
import type { StreamSpec } from './servers';

/** 640x480@24, MPEG-1 at 800 kbit/s: the bench's main stream (parts 1–4, 7, 8). */
export const SD: StreamSpec = { width: 640, height: 480, fps: 24, bitrateKbps: 800 };
/** 1280x720@30, MPEG-1 at 2000 kbit/s. */
export const HD: StreamSpec = { width: 1280, height: 720, fps: 30, bitrateKbps: 2000 };
/** 1920x1080@30: played by H.264 only (its bitrate from H264_KBPS). */
export const FHD: StreamSpec = { width: 1920, height: 1080, fps: 30, bitrateKbps: 0 };

/** A stream's size and rate as the bench names it: `640x480@24`. */
export const label = (s: { width: number; height: number; fps: number }): string => `${s.width}x${s.height}@${s.fps}`;

/**
 * The H.264 bitrates the bench runs libx264 at (`--codec h264 --bitrate …`), by stream: about 60–75% of MPEG-1's
 * bits per pixel. The bench's own choice, passed explicitly: the codec's default when no bitrate is given is
 * `H264_DEFAULT_BITRATE` (src/codecs/h264/encoder-args.ts), which the bench does not use.
 */
export const H264_KBPS: Readonly<Record<string, number>> = { '640x480@24': 500, '1280x720@30': 1500, '1920x1080@30': 3000 };

/** `spec` at the bench's H.264 bitrate for its size and rate. */
export function h264Spec(spec: StreamSpec): StreamSpec {
  const kbps = H264_KBPS[label(spec)];
  if (kbps === undefined) throw new Error(`no bench H.264 bitrate for ${label(spec)} (H264_KBPS in bench/streams.ts)`);
  return { ...spec, bitrateKbps: kbps };
}
