/**
 * H.264 levels (ITU-T H.264 Table A-1): the limits a decoder declares it can meet. A stream's level must cover
 * its macroblocks per frame and per second, or a strict decoder (a phone's hardware) may refuse it; a level far
 * above what is needed makes decoders reserve a larger picture buffer than the stream uses.
 */
interface Level {
  /** As ffmpeg's `-level` and rpicam-vid's `--level` spell it: `'3.1'`. */
  readonly name: string;
  /** level_idc in the SPS: 31 for 3.1. */
  readonly idc: number;
  /** Macroblocks per second. */
  readonly maxMbps: number;
  /** Macroblocks per frame. */
  readonly maxFs: number;
  /** Baseline/Main bitrate, kbit/s. */
  readonly maxKbps: number;
}

const LEVELS: readonly Level[] = [
  { name: '1', idc: 10, maxMbps: 1485, maxFs: 99, maxKbps: 64 },
  { name: '1.1', idc: 11, maxMbps: 3000, maxFs: 396, maxKbps: 192 },
  { name: '1.2', idc: 12, maxMbps: 6000, maxFs: 396, maxKbps: 384 },
  { name: '1.3', idc: 13, maxMbps: 11880, maxFs: 396, maxKbps: 768 },
  { name: '2', idc: 20, maxMbps: 11880, maxFs: 396, maxKbps: 2000 },
  { name: '2.1', idc: 21, maxMbps: 19800, maxFs: 792, maxKbps: 4000 },
  { name: '2.2', idc: 22, maxMbps: 20250, maxFs: 1620, maxKbps: 4000 },
  { name: '3', idc: 30, maxMbps: 40500, maxFs: 1620, maxKbps: 10000 },
  { name: '3.1', idc: 31, maxMbps: 108000, maxFs: 3600, maxKbps: 14000 },
  { name: '3.2', idc: 32, maxMbps: 216000, maxFs: 5120, maxKbps: 20000 },
  { name: '4', idc: 40, maxMbps: 245760, maxFs: 8192, maxKbps: 20000 },
  { name: '4.1', idc: 41, maxMbps: 245760, maxFs: 8192, maxKbps: 50000 },
  { name: '4.2', idc: 42, maxMbps: 522240, maxFs: 8704, maxKbps: 50000 },
  { name: '5', idc: 50, maxMbps: 589824, maxFs: 22080, maxKbps: 135000 },
  { name: '5.1', idc: 51, maxMbps: 983040, maxFs: 36864, maxKbps: 240000 },
  { name: '5.2', idc: 52, maxMbps: 2073600, maxFs: 36864, maxKbps: 240000 },
];

/** Macroblocks (16x16) in a frame of this size. */
export function macroblocks(width: number, height: number): number {
  return Math.ceil(width / 16) * Math.ceil(height / 16);
}

/**
 * The lowest level that covers a stream: its frame size, rate and (when known) bitrate. Each frame side is
 * also bounded (at most √(8·MaxFS) macroblocks), which rules out very long thin frames at low levels.
 * @example
 * h264Level({ width: 640, height: 480, fps: 24 }).name;  // '3'
 * h264Level({ width: 1280, height: 720, fps: 30 }).name; // '3.1'
 * h264Level({ width: 1920, height: 1080, fps: 30 }).name; // '4'
 */
export function h264Level(stream: { width: number; height: number; fps: number; bitrate?: number }): { name: string; idc: number } {
  const fs = macroblocks(stream.width, stream.height);
  const mbps = fs * stream.fps;
  const side = Math.max(Math.ceil(stream.width / 16), Math.ceil(stream.height / 16));
  const level = LEVELS.find(
    (l) => fs <= l.maxFs && mbps <= l.maxMbps && side <= Math.sqrt(8 * l.maxFs) && (stream.bitrate ?? 0) <= l.maxKbps,
  );
  const chosen = level ?? LEVELS[LEVELS.length - 1]!;
  return { name: chosen.name, idc: chosen.idc };
}
