import { defer, type Observable, type OperatorFunction } from 'rxjs';
import type { AudioPacket, TsAudio } from '../audio/audio-codec';
import { mp2 } from '../audio/mp2';
import { muxBeside } from './sound-beside';
import { toTsSound, TsAudioWriter, type TsAudioTrack } from './ts-audio';
import { mpeg1 } from '../codecs/mpeg1/mpeg1-codec';
import type { MuxedPicture, Picture } from '../picture';
import { crc32Mpeg2 } from './crc32-mpeg2';
import { ptsOf, TIMESTAMP_MODULO, writePcr, writePts } from './mpeg-timestamps';

export { ptsOf };
import type { WireFormat } from './wire-format';

/** Bytes in one MPEG-TS packet: a muxed picture's `wire.length` is always a multiple of it. */
export const TS_PACKET_SIZE = 188;

/** Options of {@link MpegTsMuxer} and {@link toMpegTs}. The defaults are ffmpeg's, so tools show familiar PIDs. */
export interface MpegTsOptions {
  /** PID of the video elementary stream (and of the PCR). Default 0x100. */
  readonly videoPid?: number;
  /** PID of the program map table. Default 0x1000. */
  readonly pmtPid?: number;
  /**
   * PMT stream_type. Default 0x01, ISO/IEC 11172-2 (MPEG-1) video: what ffmpeg's mpeg1video encoder makes.
   * ffmpeg's own muxer writes 0x02 (MPEG-2 video), which covers MPEG-1 only with constrained parameters, and our
   * streams usually are not (bit rates above 1.856 Mbit/s, big pictures). JSMpeg ignores the PMT; ffmpeg and VLC
   * accept either.
   */
  readonly streamType?: number;
  /** program_number in the PAT and PMT. Default 1. */
  readonly programNumber?: number;
  /**
   * A sound track beside the video (declared in the PMT; each picture's `mux` call writes the audio frames given
   * with it before the picture): how MPEG-TS names the codec, and its PID (default 0x101, ffmpeg's second stream).
   */
  readonly audio?: TsAudio & { readonly pid?: number };
}

const SYNC_BYTE = 0x47;
/** The sound's PID unless told otherwise: ffmpeg's second stream's (and the one sound apart goes on). */
export const AUDIO_PID = 0x101;
const PAT_PID = 0x0000;
const VIDEO_STREAM_ID = 0xe0;
/** 4 header bytes: what is left of a packet for adaptation field + payload. */
const PACKET_BODY = TS_PACKET_SIZE - 4;
/** Adaptation field with flags and PCR: length byte, flags byte, 6 PCR bytes. */
const PCR_AF_SIZE = 8;
/** PES payload room in a picture's first packet, after the PCR adaptation field. */
const FIRST_PAYLOAD = PACKET_BODY - PCR_AF_SIZE;
/** 00 00 01 E0, PES_packet_length, flags, PTS_DTS_flags, PES_header_data_length, PTS (5 bytes). */
const PES_HEADER_SIZE = 14;
/** PES_packet_length counts the bytes after itself: flags (2), header length (1), PTS (5), then the picture. */
const PES_LENGTH_OVERHEAD = PES_HEADER_SIZE - 6;
const MAX_PES_PACKET_LENGTH = 0xffff;
/**
 * How far the PCR runs behind the PTS, in 90 kHz ticks (20 ms). It is the decoding buffer a player that honours
 * PCR (VLC, ffplay) keeps; JSMpeg ignores the PCR. Small, because we send each picture the moment it is coded.
 */
const PCR_LEAD = 90 * 20;

interface ResolvedOptions {
  readonly audio?: TsAudioTrack;
  readonly videoPid: number;
  readonly pmtPid: number;
  readonly streamType: number;
  readonly programNumber: number;
}

function resolveOptions(options: MpegTsOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    videoPid: options.videoPid ?? 0x100,
    pmtPid: options.pmtPid ?? 0x1000,
    streamType: options.streamType ?? 0x01,
    programNumber: options.programNumber ?? 1,
    ...(options.audio ? { audio: { ...options.audio, pid: options.audio.pid ?? AUDIO_PID } } : {}),
  };
  // 0x0000–0x000F are reserved for PAT, CAT and other tables; 0x1FFF is the null packet.
  for (const key of ['videoPid', 'pmtPid'] as const) {
    const pid = resolved[key];
    if (!Number.isInteger(pid) || pid < 0x10 || pid > 0x1ffe) {
      throw new RangeError(`MPEG-TS ${key} must be a whole number from 0x10 to 0x1FFE, got ${pid}`);
    }
  }
  if (resolved.audio && (resolved.audio.pid === resolved.videoPid || resolved.audio.pid === resolved.pmtPid)) {
    throw new RangeError(`MPEG-TS audio pid must differ from videoPid and pmtPid, got ${resolved.audio.pid}`);
  }
  if (resolved.videoPid === resolved.pmtPid) {
    throw new RangeError(`MPEG-TS videoPid and pmtPid must differ, both are ${resolved.videoPid}`);
  }
  if (!Number.isInteger(resolved.streamType) || resolved.streamType < 0 || resolved.streamType > 0xff) {
    throw new RangeError(`MPEG-TS streamType must be a whole number from 0 to 255, got ${resolved.streamType}`);
  }
  // program_number 0 in a PAT means "network PID", not a program.
  if (!Number.isInteger(resolved.programNumber) || resolved.programNumber < 1 || resolved.programNumber > 0xffff) {
    throw new RangeError(`MPEG-TS programNumber must be a whole number from 1 to 65535, got ${resolved.programNumber}`);
  }
  return resolved;
}

/** A whole 188-byte packet holding one PSI section (pointer_field 0), continuity counter 0, 0xFF after it. */
function psiPacket(pid: number, section: Buffer): Buffer {
  const packet = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  packet[0] = SYNC_BYTE;
  packet[1] = 0x40 | (pid >> 8); // payload_unit_start_indicator: a section starts here
  packet[2] = pid & 0xff;
  packet[3] = 0x10; // payload only, CC 0 (patched per use)
  packet[4] = 0; // pointer_field
  section.copy(packet, 5);
  return packet;
}

/** A PSI section: the 8-byte long-form header, `body`, CRC. */
function section(tableId: number, tableIdExtension: number, body: readonly number[]): Buffer {
  const sectionLength = 5 + body.length + 4; // after the length field: 5 header bytes, body, CRC
  const bytes = Buffer.from([
    tableId,
    0xb0 | (sectionLength >> 8), // section_syntax_indicator 1, '0', reserved '11'
    sectionLength & 0xff,
    tableIdExtension >> 8,
    tableIdExtension & 0xff,
    0xc1, // reserved '11', version 0, current_next_indicator 1
    0x00, // section_number
    0x00, // last_section_number
    ...body,
    0,
    0,
    0,
    0,
  ]);
  bytes.writeUInt32BE(crc32Mpeg2(bytes, 0, bytes.length - 4), bytes.length - 4);
  return bytes;
}

/**
 * Packs MPEG-1 pictures into MPEG-TS, one closed PES per picture, shaped so that JSMpeg's TS demuxer hands each
 * picture to its decoder on the picture's own last packet (its TS demuxer ends a PES when the length is reached or a
 * packet is padded): PES_packet_length is written when it
 * fits, and otherwise the last packet, and only the last, carries an adaptation field.
 *
 * Stateful (continuity counters), so use one muxer per output stream; {@link toMpegTs} does that per subscription.
 * @example
 * const muxer = new MpegTsMuxer();
 * socket.send(muxer.mux(picture)); // whole 188-byte packets, PAT + PMT first on keyframes
 */
export class MpegTsMuxer {
  private readonly videoPid: number;
  private readonly pat: Buffer;
  private readonly pmt: Buffer;
  private patCc = 0;
  private pmtCc = 0;
  private videoCc = 0;
  private readonly audio: TsAudioWriter | undefined;

  constructor(options?: MpegTsOptions) {
    const { videoPid, pmtPid, streamType, programNumber, audio } = resolveOptions(options);
    this.videoPid = videoPid;
    this.audio = audio ? new TsAudioWriter(audio) : undefined;
    // PAT and PMT never change: build them once, with their CRCs, and patch only the continuity counter.
    this.pat = psiPacket(
      PAT_PID,
      section(0x00, 1 /* transport_stream_id */, [programNumber >> 8, programNumber & 0xff, 0xe0 | (pmtPid >> 8), pmtPid & 0xff]),
    );
    this.pmt = psiPacket(
      pmtPid,
      section(0x02, programNumber, [
        0xe0 | (videoPid >> 8), // PCR_PID: the PCR rides in each picture's first packet
        videoPid & 0xff,
        0xf0, // program_info_length 0
        0x00,
        streamType,
        0xe0 | (videoPid >> 8),
        videoPid & 0xff,
        0xf0, // ES_info_length 0
        0x00,
        ...(audio ? [audio.streamType, 0xe0 | (audio.pid >> 8), audio.pid & 0xff, 0xf0, 0x00] : []),
      ]),
    );
  }

  /**
   * The picture as whole TS packets in one new Buffer: PAT and PMT first when it is a keyframe (so a viewer that
   * starts there has them), then the audio frames given with it (with an audio track: those captured since the
   * previous picture), then the picture's PES. Throws on an empty picture.
   */
  mux(picture: Picture, audio: readonly AudioPacket[] = []): Buffer {
    const data = picture.data;
    if (data.length === 0) throw new RangeError('cannot mux an empty picture');
    const plan = planPackets(data.length);
    const psiPackets = picture.keyframe ? 2 : 0;
    const frames = this.audio ? audio : [];
    const audioBytes = this.audio ? this.audio.size(frames) : 0;
    const out = Buffer.allocUnsafe((psiPackets + 1 + plan.tailPackets) * TS_PACKET_SIZE + audioBytes);
    let pos = picture.keyframe ? this.writeTables(out, 0) : 0;
    if (this.audio) pos = this.audio.write(out, pos, frames);
    pos = this.writeFirstPacket(out, pos, picture, plan);
    this.writeTail(out, pos, data, plan);
    return out;
  }

  /** PAT and PMT, each with its continuity counter advanced; returns the next offset. */
  private writeTables(out: Buffer, at: number): number {
    let pos = at;
    this.pat.copy(out, pos);
    out[pos + 3] = 0x10 | this.patCc;
    this.patCc = (this.patCc + 1) & 0x0f;
    pos += TS_PACKET_SIZE;
    this.pmt.copy(out, pos);
    out[pos + 3] = 0x10 | this.pmtCc;
    this.pmtCc = (this.pmtCc + 1) & 0x0f;
    return pos + TS_PACKET_SIZE;
  }

  /** The PES's first packet: PUSI, adaptation field with PCR (random access on keyframes) and any stuffing, PES header. */
  private writeFirstPacket(out: Buffer, at: number, picture: Picture, plan: PacketPlan): number {
    const pts = ptsOf(picture.capturedAt);
    let pos = this.writeHeader(out, at, true, true);
    const afLength = PACKET_BODY - plan.firstPayload - 1;
    out[pos++] = afLength;
    out[pos++] = picture.keyframe ? 0x50 : 0x10; // random_access_indicator, PCR_flag
    pos = writePcr(out, pos, (pts - PCR_LEAD + TIMESTAMP_MODULO) % TIMESTAMP_MODULO);
    pos = stuff(out, pos, afLength - 7);
    out[pos++] = 0x00;
    out[pos++] = 0x00;
    out[pos++] = 0x01;
    out[pos++] = VIDEO_STREAM_ID;
    out.writeUInt16BE(plan.bounded ? plan.pesLength : 0, pos); // 0: unbounded, allowed for video only
    pos += 2;
    out[pos++] = 0x84; // '10', not scrambled, data_alignment_indicator: the PES starts with a start code
    out[pos++] = 0x80; // PTS only: no B pictures, so DTS = PTS
    out[pos++] = 5; // PES_header_data_length
    pos = writePts(out, pos, pts);
    const head = plan.firstPayload - PES_HEADER_SIZE;
    picture.data.copy(out, pos, 0, head);
    return pos + head;
  }

  /** The middle packets (payload only) and the last (stuffed so its payload ends at byte 188). */
  private writeTail(out: Buffer, at: number, data: Buffer, plan: PacketPlan): void {
    const { tailPackets, lastPayload } = plan;
    let pos = at;
    let src = plan.firstPayload - PES_HEADER_SIZE;
    // Middle packets: never an adaptation field (see planPackets).
    for (let i = 1; i < tailPackets; i++) {
      pos = this.writeHeader(out, pos, false, false);
      data.copy(out, pos, src, src + PACKET_BODY);
      src += PACKET_BODY;
      pos += PACKET_BODY;
    }
    if (tailPackets === 0) return;
    const padded = lastPayload < PACKET_BODY;
    pos = this.writeHeader(out, pos, false, padded);
    if (padded) {
      const length = PACKET_BODY - lastPayload - 1;
      out[pos++] = length; // 0 is allowed: the length byte alone is one byte of stuffing
      if (length > 0) {
        out[pos++] = 0x00; // no flags
        pos = stuff(out, pos, length - 1);
      }
    }
    data.copy(out, pos, src, src + lastPayload);
  }

  /** Writes a video packet header (payload present, continuity counter advanced) and returns the next offset. */
  private writeHeader(out: Buffer, pos: number, payloadStart: boolean, adaptationField: boolean): number {
    out[pos] = SYNC_BYTE;
    out[pos + 1] = (payloadStart ? 0x40 : 0) | (this.videoPid >> 8);
    out[pos + 2] = this.videoPid & 0xff;
    out[pos + 3] = (adaptationField ? 0x30 : 0x10) | this.videoCc;
    this.videoCc = (this.videoCc + 1) & 0x0f;
    return pos + 4;
  }
}

/** How one picture's PES is laid out in packets. */
interface PacketPlan {
  readonly pesLength: number;
  /** PES_packet_length fits: written (else 0, unbounded). */
  readonly bounded: boolean;
  /** PES header + picture bytes in the first packet. */
  readonly firstPayload: number;
  /** Packets after the first (the middle ones and the last). */
  readonly tailPackets: number;
  readonly lastPayload: number;
}

/**
 * Plans the packets of a picture of `size` bytes. Only the first and the last packet may carry an adaptation
 * field: JSMpeg ends an unbounded PES at the first non-first packet that has one. The last packet of an unbounded
 * PES must have one, or JSMpeg waits for the next picture to learn that this one ended.
 */
function planPackets(size: number): PacketPlan {
  const pesLength = PES_LENGTH_OVERHEAD + size;
  const bounded = pesLength <= MAX_PES_PACKET_LENGTH;
  const pesBytes = PES_HEADER_SIZE + size;
  let firstPayload = Math.min(pesBytes, FIRST_PAYLOAD);
  let rest = pesBytes - firstPayload;
  if (!bounded && rest % PACKET_BODY === 0) {
    // The last packet would be exactly full, with no room for an adaptation field: move one byte out of the
    // first packet (one stuffing byte there instead), so the last packet carries 1 byte and a padding field.
    firstPayload -= 1;
    rest += 1;
  }
  const tailPackets = Math.ceil(rest / PACKET_BODY); // middle packets + the last one
  const lastPayload = rest - (tailPackets - 1) * PACKET_BODY;
  return { pesLength, bounded, firstPayload, tailPackets, lastPayload };
}

function stuff(out: Buffer, pos: number, count: number): number {
  out.fill(0xff, pos, pos + count);
  return pos + count;
}

/**
 * Muxes each picture into MPEG-TS once, for every viewer: emits the picture with its packets as `wire`.
 * Each subscription gets its own muxer, so continuity counters start afresh. Options are checked at once.
 * @example
 * const muxed$ = pictures$.pipe(toMpegTs(), share());
 * muxed$.subscribe(p => socket.send(p.wire));
 */
export function toMpegTs<P extends Picture>(
  options?: MpegTsOptions,
  audio$?: Observable<AudioPacket>,
): OperatorFunction<P, MuxedPicture<P>> {
  resolveOptions(options); // fail fast on bad options, not at the first subscription
  return (source) =>
    defer(() => {
      const muxer = new MpegTsMuxer(options);
      return source.pipe(muxBeside<P>(audio$, 'mpegts', (picture, audio) => muxer.mux(picture, audio)));
    });
}

/**
 * MPEG-TS carrying MPEG-1 video, at `/stream`: what JSMpeg v1 (our page) plays. Every message is whole 188-byte
 * packets holding one picture as one closed PES, so JSMpeg decodes it the moment it arrives; PAT and PMT go before
 * every keyframe, so a viewer needs no preamble.
 */
export const mpegts: WireFormat = {
  id: 'mpegts',
  label: 'MPEG-TS (JSMpeg)',
  path: '/stream',
  codecs: [mpeg1.id],
  audio: mp2,
  mux: (stream) => {
    if (stream?.audio) return toMpegTs({ audio: mp2.mpegts! }, stream.audio);
    return stream?.soundTrack ? toMpegTs({ audio: mp2.mpegts! }) : toMpegTs();
  },
  // The sound on the PID the PMT declares (the muxer's default), each MP2 frame a message the moment it is encoded.
  muxSound: () => toTsSound({ ...mp2.mpegts!, pid: AUDIO_PID }, 'mpegts'),
};
