/**
 * A tiny, strict MPEG-TS reader for tests only: it checks what our muxer promises (whole packets, sync bytes) and
 * takes the packets apart so specs can look at every field. Not a general demuxer: one PES per PUSI, no
 * scrambling, no multi-packet PSI sections.
 */

export interface TsPacket {
  /** Byte offset of the packet in the buffer. */
  readonly offset: number;
  readonly pid: number;
  readonly pusi: boolean;
  /** adaptation_field_control: 1 payload only, 2 adaptation field only, 3 both. */
  readonly afc: number;
  readonly cc: number;
  /** adaptation_field_length, when there is an adaptation field. */
  readonly afLength?: number;
  /** The adaptation field's flags byte, when the field is at least 1 byte long. */
  readonly afFlags?: number;
  /** PCR base (90 kHz), when the PCR flag is set. */
  readonly pcr?: number;
  /** Bytes of the adaptation field after flags and PCR: all must be 0xFF stuffing. */
  readonly stuffing?: Buffer;
  readonly payload: Buffer;
}

export interface PesUnit {
  readonly pid: number;
  readonly streamId: number;
  /** PES_packet_length as written (0 = unbounded). */
  readonly pesPacketLength: number;
  /** The two-bit-prefixed flags byte after the length (0x84 = '10' + data_alignment_indicator). */
  readonly flags: number;
  readonly pts?: number;
  /** Elementary stream bytes of the PES. */
  readonly data: Buffer;
  readonly packets: readonly TsPacket[];
}

/** Decodes the 5-byte PTS/DTS field at `pos` (with its marker bits checked). */
export function readTimestamp(buf: Uint8Array, pos: number): number {
  const b = buf;
  if ((b[pos]! & 1) !== 1 || (b[pos + 2]! & 1) !== 1 || (b[pos + 4]! & 1) !== 1) throw new Error('PTS marker bit not set');
  return ((b[pos]! >> 1) & 7) * 2 ** 30 + ((b[pos + 1]! << 7) | (b[pos + 2]! >> 1)) * 2 ** 15 + ((b[pos + 3]! << 7) | (b[pos + 4]! >> 1));
}

/** Splits a buffer into TS packets, throwing unless it is whole 188-byte packets that each start with 0x47. */
export function tsPackets(buf: Buffer): TsPacket[] {
  if (buf.length % 188 !== 0) throw new Error(`TS length ${buf.length} is not a multiple of 188`);
  const packets: TsPacket[] = [];
  for (let offset = 0; offset < buf.length; offset += 188) {
    if (buf[offset] !== 0x47) throw new Error(`no sync byte at ${offset}`);
    const b1 = buf[offset + 1]!;
    const b3 = buf[offset + 3]!;
    if (b1 & 0x80) throw new Error(`transport_error_indicator set at ${offset}`);
    if (b3 & 0xc0) throw new Error(`scrambled packet at ${offset}`);
    const afc = (b3 >> 4) & 3;
    if (afc === 0) throw new Error(`reserved adaptation_field_control at ${offset}`);
    let pos = offset + 4;
    let afLength: number | undefined;
    let afFlags: number | undefined;
    let pcr: number | undefined;
    let stuffing: Buffer | undefined;
    if (afc & 2) {
      afLength = buf[pos++]!;
      const afEnd = pos + afLength;
      if (afEnd > offset + 188 || ((afc & 1) === 0 && afEnd !== offset + 188)) throw new Error(`bad adaptation field at ${offset}`);
      if (afLength > 0) {
        afFlags = buf[pos++]!;
        if (afFlags & 0x10) {
          pcr = buf.readUInt32BE(pos) * 2 + (buf[pos + 4]! >> 7);
          if ((buf[pos + 4]! & 0x7e) !== 0x7e) throw new Error(`PCR reserved bits not set at ${offset}`);
          pos += 6;
        }
        if (afFlags & 0x0f) throw new Error(`unexpected adaptation field flags ${afFlags} at ${offset}`);
        stuffing = buf.subarray(pos, afEnd);
      }
      pos = afEnd;
    }
    packets.push({
      offset,
      pid: ((b1 & 0x1f) << 8) | buf[offset + 2]!,
      pusi: (b1 & 0x40) !== 0,
      afc,
      cc: b3 & 0x0f,
      afLength,
      afFlags,
      pcr,
      stuffing,
      payload: afc & 1 ? buf.subarray(pos, offset + 188) : buf.subarray(0, 0),
    });
  }
  return packets;
}

/** The PSI section a PUSI packet carries (after its pointer_field), cut to its section_length. */
export function psiSection(packet: TsPacket): Buffer {
  if (!packet.pusi) throw new Error('PSI packet without payload_unit_start_indicator');
  const start = 1 + packet.payload[0]!;
  const sectionLength = ((packet.payload[start + 1]! & 0x0f) << 8) | packet.payload[start + 2]!;
  return packet.payload.subarray(start, start + 3 + sectionLength);
}

/** Reassembles the PES packets on `pid` (one per PUSI), checking the PES header and its declared length. */
export function demuxPes(buf: Buffer, pid = 0x100): PesUnit[] {
  const units: PesUnit[] = [];
  let current: TsPacket[] | undefined;
  const finish = () => {
    if (!current) return;
    const payload = Buffer.concat(current.map((p) => p.payload));
    if (payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) throw new Error('PES without start code prefix');
    const streamId = payload[3]!;
    const pesPacketLength = payload.readUInt16BE(4);
    const flags = payload[6]!;
    const ptsDts = payload[7]! >> 6;
    const headerDataLength = payload[8]!;
    const pts = ptsDts & 2 ? readTimestamp(payload, 9) : undefined;
    if (pts !== undefined && payload[9]! >> 4 !== (ptsDts === 2 ? 0x2 : 0x3)) throw new Error('bad PTS prefix');
    if (pesPacketLength !== 0 && pesPacketLength !== payload.length - 6) {
      throw new Error(`PES_packet_length ${pesPacketLength} but ${payload.length - 6} bytes follow it`);
    }
    units.push({ pid, streamId, pesPacketLength, flags, pts, data: payload.subarray(9 + headerDataLength), packets: current });
    current = undefined;
  };
  for (const packet of tsPackets(buf)) {
    if (packet.pid !== pid) continue;
    if (packet.pusi) {
      finish();
      current = [];
    }
    if (!current) throw new Error(`packet at ${packet.offset} continues a PES that never started`);
    current.push(packet);
  }
  finish();
  return units;
}
