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

/** Whether a frame can be written to `ws`'s socket directly with exactly the effect of `ws.send`. */
export function canWriteFrames(ws: WebSocket): boolean {
  const internals = ws as unknown as WsInternals;
  const sender = internals._sender;
  return (
    ws.readyState === ws.OPEN &&
    internals._isServer === true &&
    internals._socket != null &&
    internals._extensions !== undefined &&
    !('permessage-deflate' in internals._extensions) &&
    sender != null &&
    sender._state === SENDER_IDLE &&
    sender._queue?.length === 0 &&
    sender._firstFragment === true
  );
}

/**
 * Sends `payload` as one binary message: the frame made once for all sockets when it can be written directly,
 * else `ws.send`.
 * @example
 * for (const socket of viewers) sendBinary(socket, picture.wire);
 */
export function sendBinary(ws: WebSocket, payload: Buffer): void {
  if (!canWriteFrames(ws)) {
    ws.send(payload, { binary: true });
    return;
  }
  let frame = framed.get(payload);
  if (frame === undefined) {
    frame = binaryFrame(payload);
    framed.set(payload, frame);
  }
  (ws as unknown as { _socket: Duplex })._socket.write(frame);
}
