/**
 * The control messages a viewer page sends up its stream socket, and the server's reading of them. The format is
 * built in one place, public/protocol.js, which the page loads as a script and this module requires: the ack the
 * page sends and the one {@link ackMessage} returns are the same function's output.
 */

import { LIMITS } from '../defaults';

import { protocol as shared } from '../protocol';

/** Largest control message a viewer may send, in bytes; anything longer is a policy violation. */
export const MAX_CONTROL_MESSAGE: number = LIMITS.controlMessageBytes;

/** `type` of an ack: the page has decoded `frames` pictures on this connection. */
export const ACK_TYPE: string = shared.ACK;

/** `type` of a sound request: the page wants the server's sound beside its pictures (`on`), or no more. */
export const SOUND_TYPE: string = shared.SOUND;

/** Why a message was refused (the viewer is then closed with 1008, these as the reason). */
export const INVALID_REASON = {
  notSmallText: 'viewers send only small JSON control messages',
  notJson: 'control message is not JSON',
  notObject: 'control message is not a JSON object',
} as const;

export type ControlMessage =
  | { readonly kind: 'ack'; readonly frames: number }
  | { readonly kind: 'sound'; readonly on: boolean }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** The text of an ack for `frames` decoded pictures, exactly as the page builds it. */
export function ackMessage(frames: number): string {
  return shared.ackMessage(frames);
}

/** The text of a sound request, exactly as the page builds it. */
export function soundMessage(on: boolean): string {
  return shared.soundMessage(on);
}

/**
 * Reads one message from a viewer (`data` and `isBinary` as ws hands them over). Binary or oversized messages,
 * text that is not JSON, and JSON that is not an object are invalid; an ack with a finite `frames` is an ack; a sound
 * request with a boolean `on` is one; any other object is ignored, so newer pages with new message types keep working with older servers.
 */
export function parseControlMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): ControlMessage {
  const length = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
  if (isBinary || length > MAX_CONTROL_MESSAGE) return { kind: 'invalid', reason: INVALID_REASON.notSmallText };
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  let message: unknown;
  try {
    message = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { kind: 'invalid', reason: INVALID_REASON.notJson };
  }
  // An array is an object to `typeof` and has no `type`: ignored below, like any message this server does not know.
  if (typeof message !== 'object' || message === null) return { kind: 'invalid', reason: INVALID_REASON.notObject };
  const { type, frames, on } = message as { type?: unknown; frames?: unknown; on?: unknown };
  if (type === ACK_TYPE && typeof frames === 'number' && Number.isFinite(frames)) return { kind: 'ack', frames };
  if (type === SOUND_TYPE && typeof on === 'boolean') return { kind: 'sound', on };
  return { kind: 'ignored' };
}
