import { defer, map, type OperatorFunction } from 'rxjs';
import type { AudioPacket, TsAudio } from '../audio/audio-codec';
import { ptsOf, writePts } from './mpeg-timestamps';
import type { MuxedSound } from './wire-format';

const PACKET = 188;
const BODY = PACKET - 4;
/** 00 00 01 id, PES_packet_length, flags, PTS_DTS_flags, header length, PTS. */
const PES_HEADER = 14;

/** An audio elementary stream inside MPEG-TS: its PID and how the PMT and PES name it. */
export interface TsAudioTrack extends TsAudio {
  readonly pid: number;
}

/**
 * Writes audio frames as PES packets in TS packets: one closed PES per frame (its PES_packet_length set, so a
 * demuxer hands it on at its last byte, JSMpeg's included), PTS from the frame's capture time (the video's
 * clock), the last packet padded by adaptation-field stuffing. Stateful: the continuity counter runs on.
 */
export class TsAudioWriter {
  private cc = 0;

  constructor(private readonly track: TsAudioTrack) {}

  /** Bytes the frames take as TS packets. */
  size(frames: readonly AudioPacket[]): number {
    let packets = 0;
    for (const frame of frames) packets += Math.ceil((PES_HEADER + frame.data.length) / BODY);
    return packets * PACKET;
  }

  /** One frame as whole TS packets in a new Buffer: a message of its own. */
  frame(frame: AudioPacket): Buffer {
    const out = Buffer.allocUnsafe(this.size([frame]));
    this.writeFrame(out, 0, frame);
    return out;
  }

  /** Writes every frame at `at` in `out` (sized by {@link size}); returns the next offset. */
  write(out: Buffer, at: number, frames: readonly AudioPacket[]): number {
    let pos = at;
    for (const frame of frames) pos = this.writeFrame(out, pos, frame);
    return pos;
  }

  private writeFrame(out: Buffer, at: number, frame: AudioPacket): number {
    const pes = Buffer.allocUnsafe(PES_HEADER + frame.data.length);
    pes.writeUInt32BE(0x00000100 | this.track.streamId, 0);
    pes.writeUInt16BE(8 + frame.data.length, 4); // flags (2) + header length (1) + PTS (5) + the frame
    pes[6] = 0x84; // '10', data_alignment_indicator: the PES starts with a frame header
    pes[7] = 0x80; // PTS only
    pes[8] = 5;
    writePts(pes, 9, ptsOf(frame.capturedAt));
    frame.data.copy(pes, PES_HEADER);
    let pos = at;
    for (let src = 0; src < pes.length; src += BODY) {
      const payload = Math.min(BODY, pes.length - src);
      const stuffing = BODY - payload;
      out[pos] = 0x47;
      out[pos + 1] = (src === 0 ? 0x40 : 0) | (this.track.pid >> 8);
      out[pos + 2] = this.track.pid & 0xff;
      out[pos + 3] = (stuffing > 0 ? 0x30 : 0x10) | this.cc;
      this.cc = (this.cc + 1) & 0x0f;
      pos += 4;
      if (stuffing > 0) {
        out[pos++] = stuffing - 1; // adaptation_field_length (0: the length byte alone)
        if (stuffing > 1) {
          out[pos++] = 0x00; // no flags
          out.fill(0xff, pos, pos + stuffing - 2);
          pos += stuffing - 2;
        }
      }
      pes.copy(out, pos, src, src + payload);
      pos += payload;
    }
    return pos;
  }
}

/**
 * Each audio frame as its own message of whole TS packets on `track`, the moment it comes (JSMpeg's demuxer takes
 * any whole TS packets in a message, so sound need not wait for the next picture's message). Made once for every
 * viewer: each subscription has its own continuity counter, which runs on from frame to frame.
 * @example
 * mp2Frames$.pipe(toTsSound({ pid: 0x101, ...mp2.mpegts! }, 'mpegts')).subscribe((sound) => socket.send(sound.wire));
 */
export function toTsSound(track: TsAudioTrack, format: string): OperatorFunction<AudioPacket, MuxedSound> {
  return (frames$) =>
    defer(() => {
      const writer = new TsAudioWriter(track);
      return frames$.pipe(map((frame): MuxedSound => ({ wire: writer.frame(frame), capturedAt: frame.capturedAt, format })));
    });
}
