/** @test {toMpegTs} @test {MpegTsMuxer} */
import fc from 'fast-check';
import type { Mpeg1Picture as Picture } from '../../src/codecs/mpeg1/mpeg1-picture';
import { crc32Mpeg2 } from '../../src/formats/crc32-mpeg2';
import { MpegTsMuxer, ptsOf, toMpegTs, TS_PACKET_SIZE } from '../../src/formats/mpegts';
import { jsmpegVideoDemuxer } from '../helpers/jsmpeg-node';
import { demuxPes, psiSection, readTimestamp, tsPackets, type TsPacket } from '../helpers/mpegts-demux';
import { testScheduler } from '../helpers/test-scheduler';

const T0 = 1_700_000_000_000;
/** PES header bytes in front of the picture: start code, stream id, length, flags, header length, PTS. */
const PES_HEADER = 14;
/** Picture bytes that fill the first packet exactly (184 - 8 byte PCR adaptation field - PES header). */
const FIRST_FIT = 184 - 8 - PES_HEADER;
/** Largest picture whose PES_packet_length fits in 16 bits. */
const MAX_BOUNDED = 0xffff - 8;

/** Deterministic filler, so failures are reproducible and bytes are not all alike. */
function bytes(size: number, seed = 1): Buffer {
  const data = Buffer.allocUnsafe(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return data;
}

function picture(size: number, overrides: Partial<Picture> = {}): Picture {
  return {
    data: bytes(size, size),
    codec: 'mpeg1',
    type: 'P',
    keyframe: false,
    seq: 0,
    capturedAt: T0,
    width: 640,
    height: 480,
    ...overrides,
  };
}

function keyframe(size: number, overrides: Partial<Picture> = {}): Picture {
  return picture(size, { type: 'I', keyframe: true, ...overrides });
}

function videoPackets(ts: Buffer, pid = 0x100): TsPacket[] {
  return tsPackets(ts).filter((p) => p.pid === pid);
}

/** The invariants every muxed picture must keep, whatever its size. */
function expectWellFormed(ts: Buffer, pic: Picture): void {
  expect(ts.length % TS_PACKET_SIZE).toBe(0);
  const all = tsPackets(ts);
  const psi = pic.keyframe ? 2 : 0;
  expect(all.slice(0, psi).map((p) => p.pid)).toEqual(pic.keyframe ? [0, 0x1000] : []);
  expect(all.slice(psi).filter((p) => p.pid !== 0x100)).toHaveLength(0);
  const video = videoPackets(ts);
  const [first, ...tail] = video;
  expect(first!.pusi).toBe(true);
  expect(first!.afc).toBe(3);
  expect(first!.afFlags).toBe(pic.keyframe ? 0x50 : 0x10);
  expect(first!.pcr).toBe((ptsOf(pic.capturedAt) - 1800 + 2 ** 33) % 2 ** 33);
  expect(first!.stuffing!.every((b) => b === 0xff)).toBe(true);
  expect(tail.filter((p) => p.pusi)).toHaveLength(0);
  // a middle packet with an adaptation field would end the picture early in JSMpeg
  expect(tail.slice(0, -1).filter((p) => p.afc !== 1)).toHaveLength(0);
  const last = tail.at(-1);
  if (last && last.afc === 3) {
    expect(last.afFlags ?? 0).toBe(0);
    expect(last.stuffing?.every((b) => b === 0xff) ?? true).toBe(true);
  }
  const [pes, ...more] = demuxPes(ts);
  expect(more).toHaveLength(0);
  expect(pes!.streamId).toBe(0xe0);
  expect(pes!.flags).toBe(0x84);
  expect(pes!.pts).toBe(ptsOf(pic.capturedAt));
  expect(pes!.data.equals(pic.data)).toBe(true);
  if (pic.data.length <= MAX_BOUNDED) {
    expect(pes!.pesPacketLength).toBe(pic.data.length + 8);
  } else {
    expect(pes!.pesPacketLength).toBe(0);
    expect(last!.afc).toBe(3); // the only end-of-picture signal JSMpeg has for an unbounded PES
  }
}

describe('crc32Mpeg2', () => {
  it('gives the CRC-32/MPEG-2 check value', () => {
    expect(crc32Mpeg2(Buffer.from('123456789'))).toBe(0x0376e6e7);
  });

  it('is 0 over ffmpeg’s PAT section including its CRC', () => {
    expect(crc32Mpeg2(Buffer.from('00b00d0001c100000001f0002ab104b2', 'hex'))).toBe(0);
  });
});

describe('ptsOf', () => {
  it('counts 90 kHz ticks of the capture time, wrapped to 33 bits', () => {
    expect(ptsOf(0)).toBe(0);
    expect(ptsOf(1000)).toBe(90_000);
    expect(ptsOf(1.5)).toBe(135);
    expect(ptsOf(T0)).toBe((T0 * 90) % 2 ** 33);
    expect(ptsOf(2 ** 33 / 90)).toBe(0);
    expect(ptsOf(-1)).toBe(2 ** 33 - 90);
  });
});

describe('MpegTsMuxer', () => {
  it('makes whole 188-byte packets that each start with 0x47', () => {
    const muxer = new MpegTsMuxer();
    for (const size of [1, 100, FIRST_FIT, FIRST_FIT + 1, 1000, MAX_BOUNDED, MAX_BOUNDED + 1, 70_000, 200_000]) {
      for (const pic of [picture(size), keyframe(size)]) {
        const ts = muxer.mux(pic);
        expect(ts.length % 188).toBe(0);
        for (let i = 0; i < ts.length; i += 188) expect(ts[i]).toBe(0x47);
        expectWellFormed(ts, pic);
      }
    }
  });

  it('puts PAT and PMT with valid CRCs before keyframes only', () => {
    const muxer = new MpegTsMuxer();
    const [pat, pmt] = tsPackets(muxer.mux(keyframe(500)));
    expect(pat).toMatchObject({ pid: 0, pusi: true, afc: 1 });
    expect(pmt).toMatchObject({ pid: 0x1000, pusi: true, afc: 1 });
    const patSection = psiSection(pat!);
    const pmtSection = psiSection(pmt!);
    expect(crc32Mpeg2(patSection)).toBe(0);
    expect(crc32Mpeg2(pmtSection)).toBe(0);
    // table 0, length 13, transport_stream_id 1, version 0 current, program 1 → PMT PID 0x1000
    // byte for byte what ffmpeg writes, CRC included
    expect(patSection.toString('hex')).toBe('00b00d0001c100000001f0002ab104b2');
    // table 2, length 18, program 1, PCR PID 0x100, no program info, stream_type 0x01 on PID 0x100
    expect(pmtSection.subarray(0, -4).toString('hex')).toBe('02b0120001c10000e100f00001e100f000');
    // after the section: 0xFF to the end of the packet
    expect(pat!.payload.subarray(1 + patSection.length).every((b) => b === 0xff)).toBe(true);
    expect(pmt!.payload.subarray(1 + pmtSection.length).every((b) => b === 0xff)).toBe(true);

    expect(tsPackets(muxer.mux(picture(500))).every((p) => p.pid === 0x100)).toBe(true);
  });

  it('writes the PIDs, stream type and program it is given', () => {
    // with ffmpeg's stream_type, the PMT is byte for byte ffmpeg's
    const ffmpegLike = tsPackets(new MpegTsMuxer({ streamType: 0x02 }).mux(keyframe(10)));
    expect(psiSection(ffmpegLike[1]!).toString('hex')).toBe('02b0120001c10000e100f00002e100f0009e8b23d1');

    const muxer = new MpegTsMuxer({ videoPid: 0x44, pmtPid: 0x42, streamType: 0x02, programNumber: 0x1234 });
    const [pat, pmt, video] = tsPackets(muxer.mux(keyframe(10)));
    expect(psiSection(pat!).subarray(0, -4).toString('hex')).toBe('00b00d0001c100001234e042');
    expect(pmt!.pid).toBe(0x42);
    expect(psiSection(pmt!).subarray(0, -4).toString('hex')).toBe('02b0121234c10000e044f00002e044f000');
    expect(crc32Mpeg2(psiSection(pmt!))).toBe(0);
    expect(video!.pid).toBe(0x44);
  });

  it.each([
    [{ videoPid: 0 }, /videoPid must be a whole number from 0x10 to 0x1FFE, got 0/],
    [{ videoPid: 0x1fff }, /videoPid/],
    [{ pmtPid: 1.5 }, /pmtPid must be/],
    [{ pmtPid: 0x100 }, /videoPid and pmtPid must differ/],
    [{ streamType: 256 }, /streamType must be a whole number from 0 to 255, got 256/],
    [{ programNumber: 0 }, /programNumber must be a whole number from 1 to 65535, got 0/],
  ])('rejects options %j', (options, message) => {
    expect(() => new MpegTsMuxer(options)).toThrow(message);
    expect(() => toMpegTs(options)).toThrow(message);
  });

  it('rejects an empty picture', () => {
    expect(() => new MpegTsMuxer().mux(picture(0))).toThrow('cannot mux an empty picture');
  });

  it('advances a 4-bit continuity counter per PID for every packet', () => {
    const muxer = new MpegTsMuxer();
    const seen = new Map<number, number[]>();
    for (let i = 0; i < 40; i++) {
      const pic = i % 7 === 0 ? keyframe(3000 + i * 31) : picture(1 + i * 97);
      for (const p of tsPackets(muxer.mux(pic))) seen.set(p.pid, [...(seen.get(p.pid) ?? []), p.cc]);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual([0, 0x100, 0x1000]);
    for (const ccs of seen.values()) {
      expect(ccs.length).toBeGreaterThan(4);
      expect(ccs).toEqual(ccs.map((_, i) => i % 16));
    }
  });

  it('sets PES_packet_length for a small picture', () => {
    const pic = picture(5000);
    const [pes] = demuxPes(new MpegTsMuxer().mux(pic));
    expect(pes!.pesPacketLength).toBe(5008);
  });

  it('sets PES_packet_length up to 65 535 and 0 beyond', () => {
    const muxer = new MpegTsMuxer();
    expect(demuxPes(muxer.mux(picture(MAX_BOUNDED)))[0]!.pesPacketLength).toBe(0xffff);
    expect(demuxPes(muxer.mux(picture(MAX_BOUNDED + 1)))[0]!.pesPacketLength).toBe(0);
  });

  it('ends a picture over 64 KiB with a stuffed last packet and has no adaptation field in between', () => {
    const pic = keyframe(100_000);
    const ts = new MpegTsMuxer().mux(pic);
    expectWellFormed(ts, pic);
    const video = videoPackets(ts);
    // 176 bytes of PES in the first packet, then 184 per packet: 100 014 - 176 = 99 838 = 542 × 184 + 110
    expect(video).toHaveLength(1 + 542 + 1);
    const last = video.at(-1)!;
    expect(last).toMatchObject({ afc: 3, afLength: 184 - 110 - 1, afFlags: 0 });
    expect(last.payload).toHaveLength(110);
    expect(video.slice(1, -1).every((p) => p.afc === 1 && p.payload.length === 184)).toBe(true);
  });

  describe('exact fits', () => {
    it('fills the first packet exactly when the picture is 162 bytes', () => {
      const video = videoPackets(new MpegTsMuxer().mux(picture(FIRST_FIT)));
      expect(video).toHaveLength(1);
      expect(video[0]).toMatchObject({ afc: 3, afLength: 7 });
      expect(video[0]!.stuffing).toHaveLength(0);
    });

    it('stuffs the first packet of a one-packet picture', () => {
      const video = videoPackets(new MpegTsMuxer().mux(picture(1)));
      expect(video).toHaveLength(1);
      expect(video[0]).toMatchObject({ afc: 3, afLength: 7 + 161 });
      expect(video[0]!.payload).toHaveLength(PES_HEADER + 1);
    });

    it('spills one byte into a stuffed second packet at 163 bytes', () => {
      const video = videoPackets(new MpegTsMuxer().mux(picture(FIRST_FIT + 1)));
      expect(video).toHaveLength(2);
      expect(video[1]).toMatchObject({ afc: 3, afLength: 182, afFlags: 0 });
      expect(video[1]!.payload).toHaveLength(1);
    });

    it('lets a bounded picture end in a full packet (its length ends it)', () => {
      const pic = picture(FIRST_FIT + 184);
      const ts = new MpegTsMuxer().mux(pic);
      expectWellFormed(ts, pic);
      const video = videoPackets(ts);
      expect(video).toHaveLength(2);
      expect(video[1]).toMatchObject({ afc: 1 });
    });

    it('moves a byte out of the first packet when an unbounded remainder is whole packets', () => {
      const size = FIRST_FIT + 184 * 356; // 65 666: unbounded, remainder after the first packet exactly 356 packets
      expect(size).toBeGreaterThan(MAX_BOUNDED);
      const pic = picture(size);
      const ts = new MpegTsMuxer().mux(pic);
      expectWellFormed(ts, pic);
      const video = videoPackets(ts);
      expect(video).toHaveLength(1 + 356 + 1);
      expect(video[0]).toMatchObject({ afLength: 8 }); // PCR + one stuffing byte
      expect(video[0]!.stuffing).toEqual(Buffer.from([0xff]));
      expect(video.at(-1)).toMatchObject({ afc: 3, afLength: 182, afFlags: 0 });
      expect(video.at(-1)!.payload).toHaveLength(1);
    });

    it('pads with a bare adaptation_field_length of 0 when 183 bytes are left', () => {
      const pic = picture(FIRST_FIT + 184 * 356 - 1);
      const ts = new MpegTsMuxer().mux(pic);
      expectWellFormed(ts, pic);
      const last = videoPackets(ts).at(-1)!;
      expect(last).toMatchObject({ afc: 3, afLength: 0 });
      expect(last.payload).toHaveLength(183);
    });
  });

  describe('PTS', () => {
    it.each([
      [0, '2100010001'],
      [90_000, '210005bf21'],
      [2 ** 33 - 1, '2fffffffff'],
      [0x1_2345_6789, '298d15cf13' /* '0010' 100 1 | 010001101000101 1 | 011001111000100 1 */],
    ])('encodes %d as %s, with marker bits', (pts, hex) => {
      const ts = new MpegTsMuxer().mux(picture(10, { capturedAt: pts / 90 }));
      const first = videoPackets(ts)[0]!;
      expect(first.payload.subarray(9, 14).toString('hex')).toBe(hex);
      expect(readTimestamp(first.payload, 9)).toBe(pts);
    });
  });
});

describe('MpegTsMuxer (property)', () => {
  const pictureArb = fc.record({
    size: fc.oneof(
      fc.integer({ min: 1, max: 200_000 }),
      fc.integer({ min: 1, max: 2000 }),
      fc.integer({ min: MAX_BOUNDED - 400, max: MAX_BOUNDED + 400 }),
      // sizes where a packet is filled exactly, give or take a byte
      fc.tuple(fc.integer({ min: 0, max: 1086 }), fc.integer({ min: -1, max: 1 })).map(([k, d]) => FIRST_FIT + 184 * k + d),
    ),
    seed: fc.integer(),
    keyframe: fc.boolean(),
    capturedAt: fc.double({ min: 0, max: 4e12, noNaN: true }),
  });

  it('gives back exactly each picture’s bytes, and JSMpeg gets each picture from its own packets', () => {
    fc.assert(
      fc.property(fc.array(pictureArb, { minLength: 1, maxLength: 4 }), (specs) => {
        const muxer = new MpegTsMuxer();
        const jsmpeg = jsmpegVideoDemuxer();
        specs.forEach((s, k) => {
          const pic: Picture = {
            ...picture(0),
            data: bytes(s.size, s.seed),
            keyframe: s.keyframe,
            type: s.keyframe ? 'I' : 'P',
            capturedAt: s.capturedAt,
          };
          const ts = muxer.mux(pic);
          expectWellFormed(ts, pic);
          jsmpeg.write(ts);
          expect(jsmpeg.delivered).toHaveLength(k + 1);
          expect(jsmpeg.delivered[k]!.data.equals(pic.data)).toBe(true);
        });
      }),
      { numRuns: 150 },
    );
  });
});

describe('toMpegTs', () => {
  const a = keyframe(300, { seq: 0, capturedAt: T0 });
  const b = picture(40, { seq: 1, capturedAt: T0 + 40 });
  const c = picture(1000, { seq: 2, capturedAt: T0 + 80 });

  /** What one fresh muxer makes of these pictures in this order. */
  function muxed(...pictures: Picture[]) {
    const muxer = new MpegTsMuxer();
    return pictures.map((p) => ({ ...p, wire: muxer.mux(p), format: 'mpegts' }));
  }
  const [A, B, C] = muxed(a, b, c);

  it('muxes each picture in order', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b--c-|', { a, b, c });
      const subs = '        ^-------!';
      const expected = '    -A-B--C-|';
      expectObservable(source.pipe(toMpegTs())).toBe(expected, { A, B, C });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('gives every subscription its own muxer (continuity counters from 0)', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-|', { a, b });
      const result = source.pipe(toMpegTs());
      expectObservable(result).toBe('-A-B-|', { A, B });
      expectObservable(result).toBe('-A-B-|', { A, B });
      expectSubscriptions(source.subscriptions).toBe(['^----!', '^----!']);
    });
  });

  it('does not complete when the source never emits', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Picture>('-');
      expectObservable(source.pipe(toMpegTs())).toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^');
    });
  });

  it('completes when the source is empty', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Picture>('|');
      expectObservable(source.pipe(toMpegTs())).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('passes on an error after the pictures before it', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-#', { a }, new Error('encoder died'));
      const subs = '        ^--!';
      expectObservable(source.pipe(toMpegTs())).toBe('-A-#', { A }, new Error('encoder died'));
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('keeps going on a never-ending source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b--c--', { a, b, c });
      const subs = '        ^---------';
      expectObservable(source.pipe(toMpegTs())).toBe('-A-B--C--', { A, B, C });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('unsubscribes from the source when unsubscribed early', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -a-b--c--|', { a, b, c });
      const unsub = '      ----!';
      const subs = '       ^---!';
      expectObservable(source.pipe(toMpegTs()), unsub).toBe('-A-B', { A, B });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('errors, and unsubscribes, when a picture cannot be muxed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty = picture(0);
      const source = cold(' -a-e-c|', { a, e: empty, c });
      const subs = '        ^--!';
      expectObservable(source.pipe(toMpegTs())).toBe('-A-#', { A }, new RangeError('cannot mux an empty picture'));
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('keeps the picture’s fields and adds its packets as wire, tagged mpegts', () => {
    const [muxedA] = muxed(a);
    expect(muxedA).toEqual({ ...a, wire: expect.any(Buffer), format: 'mpegts' });
    expect(muxedA!.data).toBe(a.data);
  });
});
