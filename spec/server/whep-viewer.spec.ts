import { NEVER, Subject } from 'rxjs';
import { LIMITS } from '../../src/defaults';
import type { Gop } from '../../src/operators/gop-cache';
import type { MuxedPicture } from '../../src/picture';
import type { AudioPacket } from '../../src/audio/audio-codec';
import { feedSound, holdStream, spsOf, WHEP_LOSSY_FRACTION, WhepViewer, type WhepPeer } from '../../src/server/whep-viewer';

const START = Buffer.from([0, 0, 0, 1]);
const SPS_A = Buffer.from([0x67, 0x42, 0xc0, 0x1e, 0xaa]);
const SPS_B = Buffer.from([0x67, 0x4d, 0x00, 0x1f, 0xbb]);
const PPS = Buffer.from([0x68, 0xce, 0x38, 0x80]);

/** An H.264 access unit: a key unit with its SPS and PPS in front, or a P slice. */
function unit(seq: number, key: boolean, sps = SPS_A): MuxedPicture {
  const slice = key ? Buffer.from([0x65, 0x88, seq]) : Buffer.from([0x41, 0x9a, seq]);
  const data = key ? Buffer.concat([START, sps, START, PPS, START, slice]) : Buffer.concat([START, slice]);
  return { data, wire: data, format: 'h264', codec: 'h264', keyframe: key, seq, capturedAt: 1000 + seq, width: 640, height: 480 };
}

/** A stand-in peer: what it was sent, its receiver reports (`report(loss)` gives a new one), whether it was closed. */
function peer() {
  const sent: number[] = [];
  const state = { closed: false, reports: 0, fractionLost: 0 };
  const stand: WhepPeer = {
    sendAccessUnit: (data: Buffer) => {
      sent.push(data[data.length - 1]!);
      return true;
    },
    lossReport: () => (state.reports ? { number: state.reports, fractionLost: state.fractionLost } : undefined),
    close: () => {
      state.closed = true;
    },
  };
  const report = (fractionLost: number): void => {
    state.reports++;
    state.fractionLost = fractionLost;
  };
  return { stand, sent, state, report };
}

describe('spsOf', () => {
  it('finds the SPS of a key unit, none in a P unit', () => {
    expect(spsOf(unit(0, true).data)).toEqual(SPS_A);
    expect(spsOf(unit(1, false).data)).toBeUndefined();
  });
});

describe('WhepViewer', () => {
  it('sends the GOP so far as a burst on joining, then each new picture', () => {
    const gops = new Subject<Gop<MuxedPicture>>();
    const { stand, sent } = peer();
    const viewer = new WhepViewer(stand, SPS_A, jest.fn()).subscribeTo(gops);
    gops.next([unit(0, true), unit(1, false), unit(2, false)]);
    gops.next([unit(0, true), unit(1, false), unit(2, false), unit(3, false)]);
    expect(sent).toEqual([0, 1, 2, 3]);
    viewer.unsubscribe();
    expect(gops.observed).toBe(false);
  });

  it('drops the peer to the next keyframe on a lossy receiver report, and resumes there', () => {
    const gops = new Subject<Gop<MuxedPicture>>();
    const { stand, sent, report } = peer();
    new WhepViewer(stand, SPS_A, jest.fn()).subscribeTo(gops);
    gops.next([unit(0, true)]);
    report(WHEP_LOSSY_FRACTION + 0.1);
    gops.next([unit(0, true), unit(1, false)]);
    report(0);
    gops.next([unit(0, true), unit(1, false), unit(2, false)]);
    gops.next([unit(3, true)]);
    gops.next([unit(3, true), unit(4, false)]);
    expect(sent).toEqual([0, 3, 4]);
  });

  it('acts on a lossy report once: a peer that reports nothing more still gets the next keyframe and what follows', () => {
    // libdatachannel's receiver reports only in answer to our sender reports, which go out with our packets: a
    // report that held the peer until a clean one came would hold it for good (the fan-out bench's viewers that got
    // nothing).
    const gops = new Subject<Gop<MuxedPicture>>();
    const { stand, sent, report } = peer();
    new WhepViewer(stand, SPS_A, jest.fn()).subscribeTo(gops);
    gops.next([unit(0, true)]);
    report(0.9);
    gops.next([unit(0, true), unit(1, false)]);
    gops.next([unit(0, true), unit(1, false), unit(2, false)]);
    gops.next([unit(3, true)]);
    gops.next([unit(3, true), unit(4, false)]);
    gops.next([unit(3, true), unit(4, false), unit(5, false)]);
    expect(sent).toEqual([0, 3, 4, 5]);
  });

  it('never drops a keyframe for loss: a lossy report read at a keyframe drops nothing', () => {
    const gops = new Subject<Gop<MuxedPicture>>();
    const { stand, sent, report } = peer();
    new WhepViewer(stand, SPS_A, jest.fn()).subscribeTo(gops);
    gops.next([unit(0, true)]);
    gops.next([unit(0, true), unit(1, false)]);
    report(0.5);
    gops.next([unit(2, true)]);
    gops.next([unit(2, true), unit(3, false)]);
    expect(sent).toEqual([0, 1, 2, 3]);
  });

  it('ends the session at a key unit with another SPS (its answer named the old profile)', () => {
    const gops = new Subject<Gop<MuxedPicture>>();
    const { stand, sent, state } = peer();
    const ended = jest.fn();
    new WhepViewer(stand, SPS_A, ended).subscribeTo(gops);
    gops.next([unit(0, true)]);
    gops.next([unit(1, true, SPS_B)]);
    expect(sent).toEqual([0]);
    expect(state.closed).toBe(true);
    expect(ended).toHaveBeenCalledWith(expect.stringMatching(/SPS/));
    expect(gops.observed).toBe(false);
  });

  it.each([
    ['completes', (g: Subject<Gop<MuxedPicture>>) => g.complete(), /ended/],
    ['fails', (g: Subject<Gop<MuxedPicture>>) => g.error(new Error('encoder gone')), /failed: encoder gone/],
  ])('closes the peer once when the stream %s', (_how, finish, why) => {
    const gops = new Subject<Gop<MuxedPicture>>();
    const { stand, state } = peer();
    const ended = jest.fn();
    new WhepViewer(stand, SPS_A, ended).subscribeTo(gops);
    finish(gops);
    expect(state.closed).toBe(true);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(ended).toHaveBeenCalledWith(expect.stringMatching(why));
  });

  it('sends nothing on a stream that never gives a picture, and lets go of it on unsubscribe', () => {
    const gops = new Subject<Gop<MuxedPicture>>();
    const { stand, sent } = peer();
    new WhepViewer(stand, SPS_A, jest.fn()).subscribeTo(gops).unsubscribe();
    expect(sent).toEqual([]);
    expect(gops.observed).toBe(false);
  });
});

describe('holdStream', () => {
  afterEach(() => jest.useRealTimers());

  it('gives the first key unit and holds the stream until released', async () => {
    const gops = new Subject<Gop<MuxedPicture>>();
    const held = holdStream(gops, 5000);
    expect(gops.observed).toBe(true);
    gops.next([unit(7, true), unit(8, false)]);
    expect((await held.keyframe)?.seq).toBe(7);
    expect(gops.observed).toBe(true);
    held.release();
    held.release();
    expect(gops.observed).toBe(false);
  });

  it('gives undefined when no picture comes within the wait, or the stream ends', async () => {
    jest.useFakeTimers();
    const never = holdStream(NEVER, 5000);
    jest.advanceTimersByTime(5000);
    expect(await never.keyframe).toBeUndefined();
    never.release();
    const gops = new Subject<Gop<MuxedPicture>>();
    const ended = holdStream(gops, 5000);
    gops.complete();
    expect(await ended.keyframe).toBeUndefined();
    ended.release();
  });
});

describe('feedSound', () => {
  const packet = (capturedAt: number): AudioPacket => ({
    data: Buffer.from([capturedAt & 0xff]),
    codec: 'opus',
    capturedAt,
    durationMs: 20,
  });

  it('sends each packet as it comes, but none older than LIMITS.maxSoundAgeMs (a starting encoder’s backlog)', () => {
    const sent: number[] = [];
    const packets = new Subject<AudioPacket>();
    let now = 10_000;
    const subscription = feedSound({ sendAudio: (_data, capturedAt) => (sent.push(capturedAt), true) }, packets, () => now);
    // The backlog: a second of sound out at once.
    for (let at = now - 1000; at < now - 40; at += 20) packets.next(packet(at));
    // Sent: captured from now − LIMITS.maxSoundAgeMs on (the last at now − 60).
    expect(sent).toEqual(Array.from({ length: (LIMITS.maxSoundAgeMs - 60) / 20 + 1 }, (_, i) => now - LIMITS.maxSoundAgeMs + i * 20));
    sent.length = 0;
    now += 20;
    packets.next(packet(now - 45));
    expect(sent).toEqual([now - 45]);
    subscription.unsubscribe();
    packets.next(packet(now));
    expect(sent).toEqual([now - 45]);
  });
});
