import type { Observable, OperatorFunction } from 'rxjs';
import type { AudioCodec, AudioPacket } from '../audio/audio-codec';
import type { MuxedPicture, Picture } from '../picture';

/**
 * A wire format, as a value: the bytes one kind of viewer gets. `mux` runs once per picture for every viewer of
 * the format (the hub calls it before sharing, so a viewer's path only decides and sends), and `preamble` is what
 * a viewer gets first when it joins. Adding a format is a new file in `src/formats/` plus one line in
 * `src/formats/index.ts`; the plugin then serves it at `path`.
 *
 * @example
 * hub.stream(mpegts).subscribe((p) => socket.send(p.wire));
 */
export interface WireFormat {
  /** Short name, as in `MuxedPicture.format`, metrics labels and `formats` options: `'mpegts'`. */
  readonly id: string;
  /** For people: `'MPEG-TS (JSMpeg)'`. */
  readonly label: string;
  /** The WebSocket path the plugin serves it at, below its route prefix: `'/stream'`. */
  readonly path: string;
  /** The `Codec.id`s whose pictures it can carry. */
  readonly codecs: readonly string[];
  /**
   * The audio codec it carries when the server has sound (its players decode that one: MP2 for JSMpeg); absent:
   * the format is silent. The hub hands the muxer that codec's frames (`StreamFacts.audio`).
   */
  readonly audio?: AudioCodec;
  /**
   * For a format that sends its sound apart (`muxSound`): `true` when only a viewer that asks for it (a control
   * message, `protocol.soundMessage(true)`) gets it, so a muted viewer gets no sound bytes and starts no encoder
   * (`/h264`'s Opus); absent: every viewer that is sent pictures gets it (`/stream`'s MP2, which stock JSMpeg
   * clients, that ask for nothing, expect).
   */
  readonly soundOnRequest?: boolean;
  /**
   * A fresh muxer (one per hub stream, so a stateful one such as MPEG-TS keeps its continuity counters
   * running across encoder restarts): each picture in, the same picture with its `wire` bytes out. `stream`
   * tells the stream's nominal frame rate, for formats that write durations (fMP4).
   */
  mux(stream?: StreamFacts): OperatorFunction<Picture, MuxedPicture>;
  /**
   * When present, the format sends its sound apart from its pictures: each frame of its `audio` codec as a message
   * of its own, the moment the encoder has it (made once for every viewer, like `mux`), instead of in the next
   * picture's message, where it waited up to a frame interval (42 ms at 24 fps). `mux` is then told only that the
   * stream has a sound track (`StreamFacts.soundTrack`). A viewer is sent sound only while it is sent pictures.
   */
  muxSound?(): OperatorFunction<AudioPacket, MuxedSound>;
  /**
   * The bytes a viewer gets before its first picture (the first picture is a keyframe, so its headers are at
   * hand: a jsmp header, an init segment), or undefined when the format needs none. Called once per joining viewer:
   * a format that builds something costly caches it per configuration.
   */
  preamble?(first: Picture): Buffer | undefined;
}

/** What a muxer may want to know of the stream it muxes. */
export interface StreamFacts {
  /** Nominal frames per second (pictures may come less often: a busy camera drops frames). */
  readonly fps: number;
  /**
   * With sound, the frames of the format's `audio` codec, stamped on the pictures' clock: the muxer puts the frames
   * that came since the previous picture into the next picture's bytes (a picture never waits for sound). It
   * never errors (the sound hub restarts a failing capture behind it).
   */
  readonly audio?: Observable<AudioPacket>;
  /** For a format with `muxSound`: the stream has sound, sent apart (declare the track; its frames are not here). */
  readonly soundTrack?: boolean;
}

/** One sound frame's bytes in a format that sends sound apart from its pictures ({@link WireFormat.muxSound}). */
export interface MuxedSound {
  /** The bytes of one WebSocket message. */
  readonly wire: Buffer;
  /** Capture time (ms since the epoch) of the frame's first sample. */
  readonly capturedAt: number;
  /** The wire format's `id`. */
  readonly format: string;
}

/** Whether `format` can carry pictures of `codec`. */
export function carries(format: WireFormat, codec: string): boolean {
  return format.codecs.includes(codec);
}
