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
   * Sound sent beside the pictures as messages of their own, to a viewer that asks for it (a control message): the
   * codec, and each frame's message, made once per frame for every viewer that listens. Absent: no sound on request.
   * (`audio` muxes sound into the pictures' bytes for every viewer; this leaves a muted viewer without sound bytes.)
   */
  readonly soundOnRequest?: SoundMessages;
  /**
   * A fresh muxer (one per hub stream, so a stateful one such as MPEG-TS keeps its continuity counters
   * running across encoder restarts): each picture in, the same picture with its `wire` bytes out. `stream`
   * tells the stream's nominal frame rate, for formats that write durations (fMP4).
   */
  mux(stream?: StreamFacts): OperatorFunction<Picture, MuxedPicture>;
  /**
   * The bytes a viewer gets before its first picture (the first picture is a keyframe, so its headers are at
   * hand: a jsmp header, an init segment), or undefined when the format needs none. Called once per joining viewer:
   * a format that builds something costly caches it per configuration.
   */
  preamble?(first: Picture): Buffer | undefined;
}

/** How a format sends sound frames as messages of their own (see {@link WireFormat.soundOnRequest}). */
export interface SoundMessages {
  /** The codec of the frames (the sound hub encodes it once for every listener of every format and player). */
  readonly codec: AudioCodec;
  /** One frame's whole message. */
  message(packet: AudioPacket): Buffer;
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
}

/** Whether `format` can carry pictures of `codec`. */
export function carries(format: WireFormat, codec: string): boolean {
  return format.codecs.includes(codec);
}
