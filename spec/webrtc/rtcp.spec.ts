import fc from 'fast-check';
import { CLOCK_SLACK_MS, ntpMiddle32, readRtcp, roundTripMs, type ReceptionReport } from '../../src/webrtc/rtcp';

/** One RTCP packet: header (V=2, count/FMT, PT, length in words − 1) + body, padded to 32 bits with the P bit. */
function packet(count: number, type: number, body: Buffer, padding = 0): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc(padding)]);
  if (padding > 0) padded[padded.length - 1] = padding;
  const header = Buffer.alloc(4);
  header[0] = 0x80 | (padding > 0 ? 0x20 : 0) | count;
  header[1] = type;
  header.writeUInt16BE((4 + padded.length) / 4 - 1, 2);
  return Buffer.concat([header, padded]);
}

function block(r: ReceptionReport): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32BE(r.ssrc, 0);
  b.writeUInt32BE(((Math.round(r.fractionLost * 256) << 24) | (r.cumulativeLost & 0xffffff)) >>> 0, 4);
  b.writeUInt32BE(r.highestSequence, 8);
  b.writeUInt32BE(r.jitter, 12);
  b.writeUInt32BE(r.lastSenderReport, 16);
  b.writeUInt32BE(r.delaySinceLastSenderReport, 20);
  return b;
}

const u32 = (...values: number[]): Buffer =>
  Buffer.concat(
    values.map((v) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(v >>> 0);
      return b;
    }),
  );
const rr = (reports: ReceptionReport[]): Buffer => packet(reports.length, 201, Buffer.concat([u32(0x1111), ...reports.map(block)]));
const sr = (reports: ReceptionReport[]): Buffer =>
  packet(reports.length, 200, Buffer.concat([u32(0x2222, 1, 2, 3, 4, 5), ...reports.map(block)]));
const pli = (): Buffer => packet(1, 206, u32(0x1111, 0xabcd));
const fir = (): Buffer => packet(4, 206, u32(0x1111, 0, 0xabcd, 0x01000000));
const nack = (...items: [pid: number, mask: number][]): Buffer =>
  packet(1, 205, Buffer.concat([u32(0x1111, 0xabcd), ...items.map(([pid, mask]) => u32((pid << 16) | mask))]));
const sdes = (): Buffer => packet(1, 202, Buffer.from([0, 0, 0x11, 0x11, 1, 2, 0x61, 0x62, 0, 0, 0, 0]));

const report: ReceptionReport = {
  ssrc: 0xabcd,
  fractionLost: 0.25,
  cumulativeLost: -3,
  highestSequence: 0x1_0005,
  jitter: 450,
  lastSenderReport: 0x12345678,
  delaySinceLastSenderReport: 0x8000,
};

describe('readRtcp', () => {
  it('reads a receiver report block', () => {
    expect(readRtcp(rr([report]))).toEqual({ pli: 0, fir: 0, nacked: [], reports: [report], malformed: false });
  });

  it('reads a compound packet: sender report, SDES, PLI, FIR and NACK', () => {
    const other = { ...report, ssrc: 7, fractionLost: 0, cumulativeLost: 12 };
    const read = readRtcp(Buffer.concat([sr([report, other]), sdes(), pli(), fir(), nack([100, 0b101])]));
    expect(read).toEqual({ pli: 1, fir: 1, nacked: [100, 101, 103], reports: [report, other], malformed: false });
  });

  it('reads NACK bitmasks across the 16-bit sequence wrap', () => {
    expect(readRtcp(nack([0xfffe, 0x8003])).nacked).toEqual([0xfffe, 0xffff, 0, 14]);
  });

  it('skips padding (P bit) and unknown packet types', () => {
    const read = readRtcp(
      Buffer.concat([packet(0, 204, u32(1, 2), 8), pli(), packet(1, 201, Buffer.concat([u32(0x1111), block(report)]), 4)]),
    );
    expect(read).toEqual({ pli: 1, fir: 0, nacked: [], reports: [report], malformed: false });
  });

  it.each([
    ['empty', Buffer.alloc(0), false, 0],
    ['a length past the end', pli().subarray(0, 8), true, 0],
    ['version 1', Buffer.from([0x41, 206, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]), true, 0],
    ['an RTP packet (PT 96)', Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0]), true, 0],
    ['a report count larger than the packet', Buffer.concat([pli(), packet(2, 201, Buffer.concat([u32(1), block(report)]))]), true, 1],
    ['three stray bytes after a PLI', Buffer.concat([pli(), Buffer.from([0x80, 201, 0])]), true, 1],
    ['padding longer than the packet', Buffer.concat([pli(), packet(0, 204, Buffer.from([0, 0, 0, 200]))]).fill(0xa0, 12, 13), true, 1],
  ])('stops at %s, keeping what came before', (_label, bytes, malformed, plis) => {
    const read = readRtcp(bytes);
    expect(read.malformed).toBe(malformed);
    expect(read.pli).toBe(plis);
  });

  it('reads back every well-formed compound packet (property)', () => {
    const reportArb = fc.record({
      ssrc: fc.nat({ max: 0xffffffff }),
      fractionLost: fc.nat({ max: 255 }).map((n) => n / 256),
      cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
      highestSequence: fc.nat({ max: 0xffffffff }),
      jitter: fc.nat({ max: 0xffffffff }),
      lastSenderReport: fc.nat({ max: 0xffffffff }),
      delaySinceLastSenderReport: fc.nat({ max: 0xffffffff }),
    });
    const part = fc.oneof(
      fc.array(reportArb, { maxLength: 3 }).map((rs) => ({ bytes: rr(rs), reports: rs, pli: 0, fir: 0, nacks: 0 })),
      fc.array(reportArb, { maxLength: 3 }).map((rs) => ({ bytes: sr(rs), reports: rs, pli: 0, fir: 0, nacks: 0 })),
      fc.constant({ bytes: pli(), reports: [], pli: 1, fir: 0, nacks: 0 }),
      fc.constant({ bytes: fir(), reports: [], pli: 0, fir: 1, nacks: 0 }),
      fc
        .tuple(fc.nat({ max: 0xffff }), fc.nat({ max: 0xffff }))
        .map(([pid, mask]) => ({ bytes: nack([pid, mask]), reports: [], pli: 0, fir: 0, nacks: 1 + popcount(mask) })),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
        const read = readRtcp(Buffer.concat(parts.map((p) => p.bytes)));
        expect(read).toEqual({
          pli: sum(parts.map((p) => p.pli)),
          fir: sum(parts.map((p) => p.fir)),
          malformed: false,
          nacked: expect.any(Array),
          reports: parts.flatMap((p) => p.reports),
        });
        expect(read.nacked).toHaveLength(sum(parts.map((p) => p.nacks)));
      }),
    );
  });

  it('never throws on any bytes, and reports no more than the bytes can hold (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 7 }), (bytes, offset) => {
        // A view into a larger buffer, as node hands out slices of its pools.
        const backing = new Uint8Array(bytes.length + offset);
        backing.set(bytes, offset);
        const read = readRtcp(backing.subarray(offset));
        expect(read.reports.length * 24).toBeLessThanOrEqual(bytes.length);
        expect(read.pli + read.fir).toBeLessThanOrEqual(bytes.length / 12);
        expect(read.nacked.length).toBeLessThanOrEqual((bytes.length / 4) * 17);
      }),
      { numRuns: 3000 },
    );
  });
});

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const popcount = (n: number): number =>
  n
    .toString(2)
    .split('')
    .filter((c) => c === '1').length;

describe('round trip from reception reports', () => {
  it('ntpMiddle32 is the low 16 bits of NTP seconds and the high 16 bits of the fraction', () => {
    // 1970-01-01T00:00:00.5Z is NTP second 2208988800 (0x83AA7E80) and a half.
    expect(ntpMiddle32(500)).toBe(0x7e80_8000);
    expect(ntpMiddle32(1000)).toBe(0x7e81_0000);
  });

  it('is arrival − LSR − DLSR, in ms', () => {
    const lsr = ntpMiddle32(1_000_000);
    const dlsr = 0.1 * 65536; // the receiver held our SR for 100 ms
    const arrival = ntpMiddle32(1_000_000 + 130);
    expect(roundTripMs({ ...report, lastSenderReport: lsr, delaySinceLastSenderReport: dlsr }, arrival)).toBeCloseTo(30, 0);
  });

  it("reads a loopback round trip, below the arrival clock's millisecond, as 0 rather than unknown", () => {
    const lsr = ntpMiddle32(1_000_000);
    const dlsr = 0.0004 * 65536; // held 0.4 ms; the report arrives in the same whole ms of Date.now()
    expect(roundTripMs({ ...report, lastSenderReport: lsr, delaySinceLastSenderReport: dlsr }, lsr)).toBe(0);
    const justOutside = lsr - Math.ceil((CLOCK_SLACK_MS / 1000) * 65536) - 1;
    expect(roundTripMs({ ...report, lastSenderReport: lsr, delaySinceLastSenderReport: 0 }, justOutside)).toBeUndefined();
  });

  it('is unknown before the first sender report, or when the clocks make no sense', () => {
    expect(roundTripMs({ ...report, lastSenderReport: 0 }, ntpMiddle32(5000))).toBeUndefined();
    const lsr = ntpMiddle32(5000);
    expect(roundTripMs({ ...report, lastSenderReport: lsr, delaySinceLastSenderReport: 65536 }, lsr)).toBeUndefined();
  });
});
