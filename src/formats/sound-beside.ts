import { map, type Observable, type OperatorFunction } from 'rxjs';
import { MAX_HELD_AUDIO, type AudioPacket } from '../audio/audio-codec';
import { gatherBetween } from '../operators/gather-between';
import type { MuxedPicture, Picture } from '../picture';

/**
 * Muxes each picture with the sound frames captured since the previous one (at most {@link MAX_HELD_AUDIO} held),
 * or alone without sound: how every format that carries sound puts it beside the pictures. A picture never waits.
 * @example
 * pictures$.pipe(muxBeside(stream.audio, 'mpegts', (picture, frames) => muxer.mux(picture, frames)));
 */
export function muxBeside<P extends Picture>(
  audio$: Observable<AudioPacket> | undefined,
  format: string,
  mux: (picture: P, audio: readonly AudioPacket[]) => Buffer,
): OperatorFunction<P, MuxedPicture<P>> {
  if (!audio$) return map((picture): MuxedPicture<P> => ({ ...picture, wire: mux(picture, []), format }));
  return (pictures$) =>
    pictures$.pipe(
      gatherBetween(audio$, MAX_HELD_AUDIO),
      map(({ value, side }): MuxedPicture<P> => ({ ...value, wire: mux(value, side), format })),
    );
}
