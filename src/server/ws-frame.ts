import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

/**
 * Sends one picture's bytes to many WebSockets, framing them once. A server-to-client frame is the same bytes for
 * every viewer (no mask, no compression: pistream turns permessage-deflate off), so header and payload are built
 * once per picture and written to each socket as one buffer: one `write` per viewer instead of ws's header
 * allocation, `cork`, two writes and `uncork`.
 *
 * This reaches into ws's internals (`_socket`, `_sender`), so ws is pinned exactly in package.json and
 * spec/server/ws-frame.spec.ts checks the guarantees `send` gives (bytes on the wire, order with ping and close
 * frames, `bufferedAmount`). Whenever the internals do not look exactly as expected — another ws version, a
 * client-side socket, compression, a fragmented message or a queued frame in ws's sender — it falls back to
 * `ws.send`, which is always correct.
 */

/** The shape of ws 8's server-side WebSocket internals that a direct write depends on. */
interface WsInternals {
  readonly _isServer?: boolean;
  readonly _socket?: Duplex | null;
  readonly _extensions?: Record<string, unknown>;
  readonly _sender?: { readonly _state?: number; readonly _queue?: readonly unknown[]; readonly _firstFragment?: boolean } | null;
}

/** ws's sender state when nothing is being compressed or read from a Blob (frames go straight to the socket). */
const SENDER_IDLE = 0;

/** Frames made so far, by payload: a picture's bytes are framed by the first viewer that sends them. */
const framed = new WeakMap<Buffer, Buffer>();

/**
 * One unmasked, final, binary WebSocket frame (RFC 6455 §5.2) holding `payload`.
 * @example
 * binaryFrame(Buffer.from([1, 2, 3])); // <Buffer 82 03 01 02 03>
 */
export function binaryFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x82; // FIN, opcode 2 (binary)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

export type SenderInternals = NonNullable<WsInternals['_sender']>;

const BINARY = { binary: true } as const;

/** The raw socket and ws's sender of a connection whose frames can be written directly (see {@link directTarget}). */
export interface DirectTarget {
  readonly socket: Duplex;
  readonly sender: SenderInternals;
}

/**
 * The socket and sender to write frames through, when `ws`'s internals have the shape a direct write needs: a
 * server-side socket without compression. These never change in a connection's life, so a sender checks them once.
 */
export function directTarget(ws: WebSocket): DirectTarget | undefined {
  const internals = ws as unknown as WsInternals;
  const sender = internals._sender;
  if (internals._isServer !== true || internals._socket == null || sender == null) return undefined;
  if (internals._extensions === undefined || 'permessage-deflate' in internals._extensions) return undefined;
  return { socket: internals._socket, sender };
}

/** Whether a frame written now goes straight out behind everything ws has sent: open, and nothing of ws's pending. */
function idle(ws: WebSocket, sender: SenderInternals): boolean {
  return ws.readyState === ws.OPEN && sender._state === SENDER_IDLE && sender._queue?.length === 0 && sender._firstFragment === true;
}

/** Whether a frame can be written to `ws`'s socket directly with exactly the effect of `ws.send`. */
export function canWriteFrames(ws: WebSocket): boolean {
  const target = directTarget(ws);
  return target !== undefined && idle(ws, target.sender);
}

/** The last payload framed and its frame: every viewer sends the same picture in a row, so this is the usual find. */
let lastPayload: Buffer | undefined;
let lastFrame: Buffer | undefined;

/** The frame holding `payload`, made by the first socket that sends it. */
function frameOf(payload: Buffer): Buffer {
  if (payload === lastPayload) return lastFrame!;
  let frame = framed.get(payload);
  if (frame === undefined) {
    frame = binaryFrame(payload);
    framed.set(payload, frame);
  }
  lastPayload = payload;
  lastFrame = frame;
  return frame;
}

/**
 * Sends one binary message on `ws` through `target` (its {@link directTarget}, found once per connection): the
 * payload's frame, made once for all sockets, written directly when that has exactly the effect of `ws.send`, else
 * `ws.send`. For a sender that keeps the target in its own fields rather than in a closure per connection.
 * @example
 * const target = directTarget(socket);
 * sendThrough(socket, target, picture.wire);
 */
export function sendThrough(ws: WebSocket, target: DirectTarget | undefined, payload: Buffer): void {
  if (target !== undefined && idle(ws, target.sender)) target.socket.write(frameOf(payload));
  else ws.send(payload, BINARY);
}

/**
 * A function that sends binary messages on `ws`: each payload's frame made once for all sockets and written
 * directly when that has exactly the effect of `ws.send`, else `ws.send`. What a connection's fixed internals
 * allow is decided here, once; each send checks only that nothing of ws's own is pending.
 * @example
 * const send = binarySender(socket);
 * hub.stream('mpegts').subscribe((picture) => send(picture.wire));
 */
export function binarySender(ws: WebSocket): (payload: Buffer) => void {
  const target = directTarget(ws);
  return (payload) => sendThrough(ws, target, payload);
}

/**
 * Sends `payload` as one binary message, once: {@link binarySender} for a single send.
 * @example
 * for (const socket of viewers) sendBinary(socket, picture.wire);
 */
export function sendBinary(ws: WebSocket, payload: Buffer): void {
  binarySender(ws)(payload);
}
