import { skipWhile, type MonoTypeOperatorFunction } from 'rxjs';
import type { Picture } from '../picture';

/**
 * Skips pictures until the first keyframe (sequence header + I picture), where a decoder can start.
 *
 * @example
 * hub.pictures$.pipe(fromKeyframe()).subscribe((p) => socket.send(p.data));
 */
export function fromKeyframe<P extends Picture>(): MonoTypeOperatorFunction<P> {
  return skipWhile((picture) => !picture.keyframe);
}
