import Hapi from '@hapi/hapi';
import { interval, map, Subject, type Observable } from 'rxjs';
import { CODECS, codecById } from '../src/codecs';
import type { Codec } from '../src/codecs/codec';
import { FORMATS, formatsFor } from '../src/formats';
import type { WireFormat } from '../src/formats/wire-format';
import type { Frame } from '../src/frame';
import { createHub } from '../src/hub';
import type { MuxedPicture } from '../src/picture';
import { canPublish } from '../src/publish/publish-target';
import { segmentFormatFor } from '../src/recording/segment-muxer';
import { pistreamPlugin } from '../src/server/plugin';
import { toy } from './fixtures/toy-codec/toy-codec';
import { toyFrames } from './fixtures/toy-codec/toy-format';
import { connect } from './helpers/ws-client';

// Adding a codec is a folder (spec/fixtures/toy-codec/ here: a picture type, an encoder, a Codec value, and a wire
// format that carries it) plus one line in each registry. Here the lines are added for this file only.
const W = 64;
const H = 48;

const frame = (seq: number): Frame => ({
  data: Buffer.alloc((W * H * 3) / 2, seq & 0xff),
  width: W,
  height: H,
  seq,
  capturedAt: 1_700_000_000_000 + seq * 40,
});

describe('a toy codec: a folder plus one registry line', () => {
  beforeAll(() => {
    (CODECS as Codec[]).push(toy); // the codec registry's line
    (FORMATS as WireFormat[]).push(toyFrames); // the format registry's line
  });
  afterAll(() => {
    (CODECS as Codec[]).splice(CODECS.indexOf(toy), 1);
    (FORMATS as WireFormat[]).splice(FORMATS.indexOf(toyFrames), 1);
  });

  it('is found in the registries, and what it does not declare is refused by the value alone', () => {
    expect(codecById('toy')).toBe(toy);
    expect(formatsFor('toy')).toEqual([toyFrames]);
    expect(segmentFormatFor('toy')).toBeUndefined();
    expect(canPublish(toy, 'srt')).toBe(false);
  });

  it('flows through a hub and its format: the hub picks the format from the registry, muxes once per picture', () => {
    const frames = new Subject<Frame>();
    const hub = createHub({ source: frames, codec: toy, encoder: { width: W, height: H, fps: 25, gop: 3 }, graceMs: 0 });
    expect(hub.formats).toEqual([toyFrames]);
    const got: MuxedPicture[] = [];
    const subscription = hub.stream('toy-frames').subscribe((p) => got.push(p));
    for (let seq = 0; seq < 4; seq++) frames.next(frame(seq));
    subscription.unsubscribe();
    hub.close();
    expect(got.map((p) => [p.format, p.seq, p.keyframe, p.wire.subarray(0, 4).toString('latin1'), p.wire.readUInt32BE(4)])).toEqual([
      ['toy-frames', 0, true, 'TTOY', 0],
      ['toy-frames', 1, false, 'TTOY', 1],
      ['toy-frames', 2, false, 'TTOY', 2],
      ['toy-frames', 3, true, 'TTOY', 3],
    ]);
  });

  it('reaches a viewer of the plugin: /streams names it, its socket route gets the preamble, then pictures from a keyframe', async () => {
    const source: Observable<Frame> = interval(20).pipe(map(frame));
    const server = Hapi.server({ port: 0, host: '127.0.0.1' });
    await server.register({
      plugin: pistreamPlugin,
      options: { source, codec: toy, encoder: { width: W, height: H, fps: 25, gop: 3 }, graceMs: 0 },
    });
    await server.start();
    try {
      const port = server.info.port;
      const streams = (await (await fetch(`http://127.0.0.1:${port}/streams`)).json()) as { codec: string; formats: unknown[] };
      expect(streams.codec).toBe('toy');
      expect(streams.formats).toEqual([{ id: 'toy-frames', label: 'toy frames', path: '/toy' }]);
      const viewer = await connect(`ws://127.0.0.1:${port}/toy`);
      const [preamble, ...pictures] = await viewer.received(5);
      await viewer.close();
      expect(preamble!.toString('latin1')).toBe(`toy ${W}x${H}`);
      const seqs = pictures.map((wire) => {
        expect(wire.subarray(0, 4).toString('latin1')).toBe('TTOY');
        return wire.readUInt32BE(4);
      });
      expect(seqs[0]! % 3).toBe(0); // a keyframe first
      expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true); // then pictures in order
    } finally {
      await server.stop();
    }
  });
});
