import { opus } from '../../src/audio/opus';

/**
 * An Ogg Opus file (RFC 7845) of received RTP Opus payloads, for ffmpeg to decode: one packet a page, each page's
 * granule position the packet's end in samples counted from the first packet's RTP timestamp, so a lost packet
 * leaves its gap in the decoded time line. Pre-skip 0: decoded sample n stands for RTP timestamp first + n.
 */

/** CRC-32 of Ogg pages (polynomial 0x04c11db7, not reflected, initial 0). */
const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let r = i << 24;
  for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  return r >>> 0;
});

function oggCrc(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}

function page(packet: Buffer, sequence: number, granule: bigint, flags: number): Buffer {
  const lacing = [...Array<number>(Math.floor(packet.length / 255)).fill(255), packet.length % 255];
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header.writeUInt8(flags, 5);
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(0x5049, 14); // stream serial
  header.writeUInt32LE(sequence, 18);
  header.writeUInt8(lacing.length, 26);
  const bytes = Buffer.concat([header, Buffer.from(lacing), packet]);
  bytes.writeUInt32LE(oggCrc(bytes), 22);
  return bytes;
}

/** The Ogg Opus file of `packets` (each with its RTP timestamp), each one frame of the server's Opus encoder, mono. */
export function oggOpus(
  packets: readonly { readonly timestamp: number; readonly payload: Buffer }[],
  samplesPerPacket: number = opus.samplesPerFrame,
): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head.writeUInt8(1, 8); // version
  head.writeUInt8(1, 9); // channels
  head.writeUInt16LE(0, 10); // pre-skip
  head.writeUInt32LE(48_000, 12);
  const tags = Buffer.concat([Buffer.from('OpusTags', 'latin1'), Buffer.alloc(8)]);
  const first = packets[0]?.timestamp ?? 0;
  const pages = [page(head, 0, 0n, 0x02), page(tags, 1, 0n, 0)];
  packets.forEach((p, i) => {
    const at = ((p.timestamp - first) | 0) + samplesPerPacket;
    pages.push(page(p.payload, i + 2, BigInt(at), i === packets.length - 1 ? 0x04 : 0));
  });
  return Buffer.concat(pages);
}
