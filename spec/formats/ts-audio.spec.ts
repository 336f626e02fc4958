import type { AudioPacket } from '../../src/audio/audio-codec';
import { mp2 } from '../../src/audio/mp2';
import { mpegts, ptsOf, TS_PACKET_SIZE } from '../../src/formats/mpegts';
import { toTsSound } from '../../src/formats/ts-audio';
import { demuxPes, psiSection, tsPackets } from '../helpers/mpegts-demux';
import { pic } from '../helpers/pictures';
import { testScheduler } from '../helpers/test-scheduler';

const TRACK = { ...mp2.mpegts!, pid: 0x101 };

/** An audio frame of `size` bytes (its first byte `tag`), captured at `capturedAt`. */
function frame(tag: number, capturedAt: number, size = 192): AudioPacket {
  const data = Buffer.alloc(size, tag);
  data[0] = tag;
  return { data, codec: mp2.id, capturedAt, durationMs: 24 };
}

describe('toTsSound: each audio frame a message of its own', () => {
  it('makes one closed PES per frame in whole TS packets on the track, PTS from its capture time, the continuity counter running on', () => {
    const frames = [frame(1, 1_000), frame(2, 1_024), frame(3, 1_048, 600)];
    const messages: Buffer[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const sound$ = cold('a-b-c|', { a: frames[0]!, b: frames[1]!, c: frames[2]! }).pipe(toTsSound(TRACK, 'mpegts'));
      sound$.subscribe((sound) => messages.push(sound.wire));
      expectObservable(sound$).toBe('a-b-c|', {
        a: expect.objectContaining({ capturedAt: 1_000, format: 'mpegts' }),
        b: expect.objectContaining({ capturedAt: 1_024, format: 'mpegts' }),
        c: expect.objectContaining({ capturedAt: 1_048, format: 'mpegts' }),
      });
    });
    for (const [i, message] of messages.entries()) {
      expect(message.length % TS_PACKET_SIZE).toBe(0);
      const [pes, ...more] = demuxPes(message, TRACK.pid);
      expect(more).toEqual([]);
      // Closed: PES_packet_length set, so a demuxer (JSMpeg's) hands the frame on at its last byte.
      expect(pes).toMatchObject({ streamId: TRACK.streamId, pts: ptsOf(frames[i]!.capturedAt), data: frames[i]!.data });
      expect(pes!.pesPacketLength).toBeGreaterThan(0);
    }
    // 14 + 192 bytes: two packets of 184 each; 14 + 600: four.
    const ccs = messages.flatMap((message) => tsPackets(message).map((p) => p.cc));
    expect(ccs).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('gives each subscription its own continuity counter (one writer per subscription, shared by the hub)', () => {
    const ccs: number[][] = [[], []];
    testScheduler().run(({ cold, flush }) => {
      const sound$ = cold('ab|', { a: frame(1, 0), b: frame(2, 24) }).pipe(toTsSound(TRACK, 'mpegts'));
      for (const list of ccs) sound$.subscribe((sound) => list.push(...tsPackets(sound.wire).map((p) => p.cc)));
      flush();
    });
    expect(ccs).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2, 3],
    ]);
  });

  it('follows the checklist: never, empty, error, never-ending and early unsubscribe', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const never = cold<AudioPacket>('-');
      expectObservable(never.pipe(toTsSound(TRACK, 'mpegts'))).toBe('-');
      const empty = cold<AudioPacket>('|');
      expectObservable(empty.pipe(toTsSound(TRACK, 'mpegts'))).toBe('|');
      const failing = cold<AudioPacket>('#', undefined, new Error('encoder gone'));
      expectObservable(failing.pipe(toTsSound(TRACK, 'mpegts'))).toBe('#', undefined, new Error('encoder gone'));
      const endless = hot<AudioPacket>('-a-a-a-', { a: frame(1, 0) });
      expectObservable(endless.pipe(toTsSound(TRACK, 'mpegts')), '^--!').toBe('-a-', { a: expect.objectContaining({ format: 'mpegts' }) });
      expectSubscriptions(endless.subscriptions).toBe('^--!');
    });
  });
});

describe('mpegts with its sound sent apart', () => {
  it('declares the sound on the PID its sound messages use, and writes no sound into the pictures', () => {
    const wires: Buffer[] = [];
    testScheduler().run(({ cold, flush }) => {
      cold('a|', { a: pic('I', 0) })
        .pipe(mpegts.mux({ fps: 24, soundTrack: true }))
        .subscribe((p) => wires.push(p.wire));
      cold('a|', { a: frame(1, 0) })
        .pipe(mpegts.muxSound!())
        .subscribe((s) => wires.push(s.wire));
      flush();
    });
    const [picture, sound] = wires;
    const pmt = psiSection(tsPackets(picture!).find((p) => p.pid === 0x1000)!);
    // The PMT's second stream: MP2's stream_type on 0x101.
    expect(pmt.includes(Buffer.from([mp2.mpegts!.streamType, 0xe1, 0x01]))).toBe(true);
    expect(demuxPes(picture!, 0x101)).toEqual([]);
    expect(demuxPes(sound!, 0x101)).toHaveLength(1);
    expect(tsPackets(sound!).every((p) => p.pid === 0x101)).toBe(true);
  });
});
