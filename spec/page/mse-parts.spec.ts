import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { FMP4_TIMESCALE, fragment, initSegment } from '../../src/formats/mp4-boxes';
import { soundFragment } from '../../src/formats/mp4-sound';
import { PUBLIC_DIR } from '../../src/server/pages';

/** A message as the MSE player's box reader sees it (mse-boxes.js's MseMessageInfo). */
interface MessageInfo {
  init: boolean;
  codec: string | null;
  timescale: number | null;
  time: number | null;
  sequence: number | null;
  lastSequence: number | null;
}

interface Queued {
  bytes: Uint8Array;
  init: boolean;
  codec: string | null;
  keyTime: number | null;
}

interface AppendQueue {
  readonly items: readonly Queued[];
  push(item: Queued): void;
  bound(appendable: boolean): { dropped: number; lost: boolean };
  dropToKey(): number;
  clear(): number;
  takeBatch(codec: string | null): { data: Uint8Array; items: Queued[] };
}

/** What the MSE player's pure parts put on `window.pistreamMse`. */
interface MseParts {
  readonly inspect: (bytes: Uint8Array, timescale: number | null) => MessageInfo;
  readonly appendQueue: () => AppendQueue;
  readonly trimPoint: (keyTimes: number[], playhead: number) => number | null;
  readonly edgeStep: (
    ranges: number[][],
    playhead: number,
    frameS: number,
    sound?: boolean,
  ) => { seek: number | null; gap: boolean; rate: number };
}

/** The page's scripts as the page runs them: plain scripts in a browser-like global, read off `window`. */
function loadParts(): MseParts {
  const window: { pistreamMse?: MseParts } = {};
  const context = vm.createContext({ window, DataView, Uint8Array, ArrayBuffer, String, Math });
  for (const file of ['mse-boxes.js', 'mse-append-queue.js', 'mse-live-edge.js']) {
    vm.runInContext(readFileSync(join(PUBLIC_DIR, file), 'utf8'), context, { filename: file });
  }
  return window.pistreamMse!;
}

// A baseline level-3.0 SPS's first bytes (profile 0x42, constraints 0xC0, level 0x1E) and a PPS: enough for avcC.
const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00]);
const PPS = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const SLICE = Buffer.from([0x65, 0x88, 0x84, 0x00]);
const TICKS_PER_FRAME = FMP4_TIMESCALE / 25;

/** A key unit's message (init segment, then its fragment) and a delta unit's, as the server's fmp4 format sends them. */
function keyMessage(sequence: number, decodeTime: number): Uint8Array {
  return new Uint8Array(Buffer.concat([initSegment(SPS, PPS, 640, 480), fragment(sequence, decodeTime, TICKS_PER_FRAME, true, [SLICE])]));
}
function deltaMessage(sequence: number, decodeTime: number): Uint8Array {
  return new Uint8Array(fragment(sequence, decodeTime, TICKS_PER_FRAME, false, [SLICE]));
}

/** The server's /fmp4-sound messages: the sound captured since the previous picture as a fragment before the picture's. */
const SOUND = { sampleRate: 48_000, channels: 1 };
const ADTS_FRAME = {
  data: Buffer.from([0xff, 0xf1, 0x4c, 0x40, 0x02, 0x1f, 0xfc, 0x21, 0x00]),
  codec: 'aac',
  capturedAt: 0,
  durationMs: 21,
};
function soundKeyMessage(sequence: number, decodeTime: number): Uint8Array {
  return new Uint8Array(
    Buffer.concat([
      initSegment(SPS, PPS, 640, 480, SOUND),
      soundFragment(sequence, decodeTime / 2, 1024, [ADTS_FRAME, ADTS_FRAME]),
      fragment(sequence + 1, decodeTime, TICKS_PER_FRAME, true, [SLICE]),
    ]),
  );
}

function queued(init: boolean, codec: string | null = 'avc1.42C01E', size = 10): Queued {
  return { bytes: new Uint8Array(size), init, codec, keyTime: init ? 0 : null };
}

describe("the MSE player's box reader (public/mse-boxes.js) on the server's own fMP4 (src/formats/mp4-boxes.ts)", () => {
  const { inspect } = loadParts();

  it('reads a key unit: an init segment, its codec string from avcC, the timescale, decode time and sequence number', () => {
    const decodeTime = 2 ** 33 + 5 * TICKS_PER_FRAME; // past 32 bits: tfdt version 1's high word is read too
    expect(inspect(keyMessage(7, decodeTime), null)).toEqual({
      init: true,
      codec: 'avc1.42C01E',
      timescale: FMP4_TIMESCALE,
      time: decodeTime / FMP4_TIMESCALE,
      sequence: 7,
      lastSequence: 7,
    });
  });

  it("reads a key unit with sound (/fmp4-sound): both codecs, the picture's timescale and time, the sound's and the picture's sequence numbers", () => {
    const decodeTime = 10 * FMP4_TIMESCALE;
    expect(inspect(soundKeyMessage(7, decodeTime), null)).toEqual({
      init: true,
      codec: 'avc1.42C01E,mp4a.40.2',
      timescale: FMP4_TIMESCALE,
      time: 10,
      sequence: 7,
      lastSequence: 8,
    });
  });

  it("reads a delta unit's time by the timescale the last init segment gave, and knows no time without one", () => {
    expect(inspect(deltaMessage(8, 3 * FMP4_TIMESCALE), FMP4_TIMESCALE)).toEqual({
      init: false,
      codec: null,
      timescale: null,
      time: 3,
      sequence: 8,
      lastSequence: 8,
    });
    expect(inspect(deltaMessage(8, 3 * FMP4_TIMESCALE), null).time).toBeNull();
  });

  it('reads nothing from bytes that are no boxes (truncated, or a size past the end)', () => {
    const key = keyMessage(1, 0);
    const none = { init: false, codec: null, timescale: null, time: null, sequence: null, lastSequence: null };
    expect(inspect(new Uint8Array(0), null)).toEqual(none);
    expect(inspect(key.subarray(0, 7), null)).toEqual(none);
    const lying = new Uint8Array(key);
    lying[0] = 0x7f; // ftyp's size now runs far past the end: no box is read
    expect(inspect(lying, null)).toEqual(none);
  });
});

describe("the MSE player's append queue (public/mse-append-queue.js)", () => {
  const { appendQueue } = loadParts();

  it('appends everything queued in one batch, up to a key unit of another codec string', () => {
    const queue = appendQueue();
    queue.push(queued(true, 'avc1.42C01E', 3));
    queue.push(queued(false, null, 2));
    queue.push(queued(true, 'avc1.640028', 4));
    const batch = queue.takeBatch('avc1.42C01E');
    expect(batch.items).toHaveLength(2);
    expect(batch.data.byteLength).toBe(5);
    expect(queue.items).toHaveLength(1);
    expect(queue.takeBatch('avc1.640028').data.byteLength).toBe(4);
    expect(queue.items).toHaveLength(0);
  });

  it('lets a joining burst in whole before there is a SourceBuffer, and jumps to the newest key unit once there is', () => {
    const queue = appendQueue();
    queue.push(queued(true));
    for (let i = 0; i < 30; i++) queue.push(queued(i === 20));
    expect(queue.bound(false)).toEqual({ dropped: 0, lost: false });
    expect(queue.items).toHaveLength(31);
    expect(queue.bound(true)).toEqual({ dropped: 21, lost: false });
    expect(queue.items[0]!.init).toBe(true);
    expect(queue.items).toHaveLength(10);
  });

  it('drops everything past its hard bound when no key unit is queued (the player then waits for one)', () => {
    const queue = appendQueue();
    for (let i = 0; i < 241; i++) queue.push(queued(false));
    expect(queue.bound(true)).toEqual({ dropped: 241, lost: true });
    expect(queue.items).toHaveLength(0);
  });

  it('drops to its first key unit, or clears, counting what it dropped', () => {
    const queue = appendQueue();
    [false, false, true, false].forEach((init) => queue.push(queued(init)));
    expect(queue.dropToKey()).toBe(2);
    expect(queue.items[0]!.init).toBe(true);
    expect(queue.clear()).toBe(2);
    expect(queue.dropToKey()).toBe(0);
  });
});

describe("the MSE player's trim point (public/mse-live-edge.js)", () => {
  const { trimPoint } = loadParts();

  it('ends a trim at the newest key unit at least 2 s behind the playhead, forgetting the ones before it', () => {
    const keyTimes = [1, 2, 3, 9];
    expect(trimPoint(keyTimes, 5.5)).toBe(3);
    expect(keyTimes).toEqual([3, 9]);
  });

  it('trims nothing while no key unit is 2 s behind the playhead', () => {
    const keyTimes = [4, 9];
    expect(trimPoint(keyTimes, 5.5)).toBeNull();
    expect(keyTimes).toEqual([4, 9]);
    expect(trimPoint([], 100)).toBeNull();
  });
});

describe("the MSE player's live edge (public/mse-live-edge.js)", () => {
  const { edgeStep } = loadParts();
  const FRAME_S = 1 / 24;

  it('seeks to just before the buffered end when more than 150 ms behind it', () => {
    expect(edgeStep([[0, 10]], 9.8, FRAME_S)).toEqual({ seek: 9.995, gap: false, rate: 1 });
  });

  it('catches up (never slows down) while more than 1.5 pictures are ahead, else plays at 1', () => {
    expect(edgeStep([[0, 10]], 9.9, FRAME_S)).toEqual({ seek: null, gap: false, rate: 1.25 });
    expect(edgeStep([[0, 10]], 9.95, FRAME_S)).toEqual({ seek: null, gap: false, rate: 1 });
  });

  it('jumps a hole in the buffer (a sound frame the server dropped): from the end of the older range or inside the hole, to the next range', () => {
    const holed = [
      [0, 9.9],
      [9.921, 10],
    ];
    // Stopped at the hole's edge, as a <video> does there:
    expect(edgeStep(holed, 9.9, FRAME_S)).toEqual({ seek: 9.921, gap: true, rate: 1 });
    expect(edgeStep(holed, 9.91, FRAME_S)).toEqual({ seek: 9.921, gap: true, rate: 1 });
    // With three ranges, to the one right after the playhead, not past it:
    expect(
      edgeStep(
        [
          [0, 9.86],
          [9.88, 9.9],
          [9.92, 10],
        ],
        9.86,
        FRAME_S,
      ),
    ).toEqual({ seek: 9.88, gap: true, rate: 1 });
    // A hole far behind the edge: the live-edge seek takes it.
    expect(edgeStep(holed, 9.5, FRAME_S)).toEqual({ seek: 9.995, gap: false, rate: 1 });
    // Inside the newest range, a hole behind the playhead is nothing to jump.
    expect(edgeStep(holed, 9.95, FRAME_S)).toEqual({ seek: null, gap: false, rate: 1 });
  });

  it("with sound in the buffer: lands 200 ms behind the end (Chromium's audio renderer plays only with that much), seeks past 500 ms, never speeds up, still jumps holes", () => {
    expect(edgeStep([[0, 10]], 9.45, FRAME_S, true)).toEqual({ seek: 9.8, gap: false, rate: 1 });
    expect(edgeStep([[0, 10]], 9.6, FRAME_S, true)).toEqual({ seek: null, gap: false, rate: 1 });
    expect(
      edgeStep(
        [
          [0, 9.7],
          [9.721, 10],
        ],
        9.7,
        FRAME_S,
        true,
      ),
    ).toEqual({ seek: 9.721, gap: true, rate: 1 });
  });
});
