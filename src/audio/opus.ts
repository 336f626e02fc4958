import type { AudioCodec, AudioSplitter } from './audio-codec';

/** Samples in one Opus frame: 10 ms at 48 kHz. */
const FRAME_SAMPLES = 480;
/** The MPEG-TS PID ffmpeg is told to give the one stream it writes (`-mpegts_start_pid`). */
const OPUS_PID = 0x100;
const TS_PACKET = 188;

/**
 * The least bitrate that puts every packet out at once: ffmpeg's MPEG-TS muxer gathers audio packets of up to 170
 * bytes (its smallest `pes_payload_size`, whatever is asked) into one PES, Opus up to 120 ms of them, and writes a
 * larger packet at once. At constant bitrate a 10 ms packet is kbps · 1.25 bytes: 144 kbit/s gives 180 (128 gives
 * 160, and the packets came out in pairs, 20 ms apart). (At 64 kbit/s with variable bitrate and 20 ms frames the
 * packets came out in bursts of about 100 ms.) 18 kB/s per WebRTC viewer: nothing on a LAN.
 */
const MIN_KBPS = 144;

/** The Opus bitrate for `kbps`: at least {@link MIN_KBPS}, at most libopus's 510 kbit/s. */
export function opusBitrate(kbps: number): number {
  return Math.min(510, Math.max(MIN_KBPS, Math.round(kbps)));
}

/**
 * The Opus packets of one PES payload of ffmpeg's MPEG-TS (Opus in MPEG-TS as ffmpeg writes it: each access unit
 * behind a control header `0x7FE0` + flags, its size as a run of 0xFF bytes plus one more, then the optional trim and
 * extension fields).
 */
export function opusAccessUnits(payload: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let at = 0;
  while (at < payload.length) {
    if (at + 2 > payload.length || payload[at] !== 0x7f || (payload[at + 1]! & 0xe0) !== 0xe0) {
      throw new Error(`no Opus control header at byte ${at} of a PES payload`);
    }
    const flags = payload[at + 1]!;
    at += 2;
    let size = 0;
    for (let byte = 0xff; byte === 0xff; at++) {
      if (at >= payload.length) throw new Error('an Opus control header ends inside its size');
      byte = payload[at]!;
      size += byte;
    }
    if (flags & 0x10) at += 2; // start trim
    if (flags & 0x08) at += 2; // end trim
    if (flags & 0x04) at += 1 + (payload[at] ?? 0); // control extension
    if (at + size > payload.length) throw new Error(`an Opus access unit of ${size} bytes runs past its PES`);
    packets.push(Buffer.from(payload.subarray(at, at + size)));
    at += size;
  }
  return packets;
}

/**
 * Cuts ffmpeg's MPEG-TS with one Opus stream into Opus packets: the stream's PID only, a PES complete once its
 * PES_packet_length is in (ffmpeg sets it for audio), so each packet comes out the moment its last TS packet is read.
 * (ffmpeg has no raw Opus muxer, and its Ogg muxer holds each page back until the next packet: 20 ms more.)
 */
export class OpusTsSplitter implements AudioSplitter {
  private held = Buffer.alloc(0);
  /** The PES being gathered, from its first TS packet's payload; undefined before a payload unit start. */
  private pes: Buffer[] | undefined;

  push(chunk: Buffer): Buffer[] {
    const bytes = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const packets: Buffer[] = [];
    let at = 0;
    for (; at + TS_PACKET <= bytes.length; at += TS_PACKET) {
      if (bytes[at] !== 0x47) throw new Error(`no MPEG-TS sync byte at byte ${at}`);
      if ((((bytes[at + 1]! & 0x1f) << 8) | bytes[at + 2]!) !== OPUS_PID) continue;
      const control = (bytes[at + 3]! >> 4) & 0x03;
      if (!(control & 0x01)) continue; // adaptation field only
      const start = at + 4 + (control & 0x02 ? 1 + bytes[at + 4]! : 0);
      if (start > at + TS_PACKET) throw new Error(`an adaptation field runs past its TS packet at byte ${at}`);
      packets.push(...this.take(bytes.subarray(start, at + TS_PACKET), (bytes[at + 1]! & 0x40) !== 0));
    }
    this.held = Buffer.from(bytes.subarray(at));
    return packets;
  }

  /** Adds one TS payload to the PES; gives its Opus packets once it is complete. */
  private take(payload: Buffer, unitStart: boolean, packets: Buffer[] = []): Buffer[] {
    if (unitStart) this.pes = [];
    if (!this.pes) return packets;
    this.pes.push(Buffer.from(payload));
    const pes = Buffer.concat(this.pes);
    if (pes.length < 9) return packets;
    if (pes.readUIntBE(0, 3) !== 1) throw new Error('an Opus PES without its start code');
    const length = pes.readUInt16BE(4);
    if (length === 0) throw new Error('an Opus PES without PES_packet_length');
    if (pes.length < 6 + length) return packets;
    this.pes = undefined;
    return opusAccessUnits(pes.subarray(9 + pes[8]!, 6 + length));
  }
}

/**
 * Opus for WebRTC (RFC 7874 makes it the browsers' audio codec; RTP per RFC 7587): ffmpeg's `libopus` (in Debian's
 * ffmpeg and the bundled one), read out of MPEG-TS, in 10 ms frames with `-application lowdelay` (CELT only): a
 * frame leaves 10 ms after its first sample instead of 20, and the receiver's jitter buffer counts in packets of
 * 10 ms; the low-delay mode's lookahead is 120 samples (2.5 ms) instead of 312 (6.5 ms), its priming, which ffmpeg
 * writes as the first packet's start trim. Browsers take packets down to 10 ms (`minptime=10`). Measured here
 * (ffmpeg 5.1, PCM written every 5 ms as WAV in small packets): a packet came out p50 10 ms after its last sample
 * went in, against 21 ms with 20 ms frames from raw PCM. Twice the packets (and SRTP work) per viewer.
 */
export const opus: AudioCodec = {
  id: 'opus',
  label: 'Opus',
  codecString: 'opus',
  samplesPerFrame: FRAME_SAMPLES,
  encoderDelay: 120,
  encoderArgs: (kbps) => [
    ...['-c:a', 'libopus', '-b:a', `${opusBitrate(kbps)}k`, '-vbr', 'off', '-frame_duration', String((FRAME_SAMPLES * 1000) / 48_000)],
    ...['-application', 'lowdelay'],
    // One PES per packet, written at once: constant bitrate keeps every packet above what the muxer gathers.
    ...['-f', 'mpegts', '-mpegts_start_pid', String(OPUS_PID), '-pes_payload_size', '0'],
  ],
  splitter: () => new OpusTsSplitter(),
  rtp: { encodingName: 'opus', clockRate: 48_000, channels: 2 },
};
