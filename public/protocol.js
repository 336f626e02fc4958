/*
 * The wire facts the page and the server share, defined here and nowhere else: the control messages the page sends
 * back over its stream socket (the page sends what this builds; the server, src/server/control-message.ts, requires
 * this same file), and the header of each `/h264` message (the server writes it with these constants in
 * src/formats/h264-units.ts; the page reads it with readUnitHeader).
 *
 * Plain ES5 script, no build step: the page loads it before viewer.js (window.pistreamProtocol), Node requires it
 * (module.exports).
 */
(
  /**
   * @param {object} root the page's window (unused under Node)
   * @param {() => object} factory
   */
  function (root, factory) {
    'use strict';
    var api = factory();
    if (typeof module === 'object' && module && module.exports) module.exports = api;
    else /** @type {Window} */ (root).pistreamProtocol = /** @type {Window['pistreamProtocol']} */ (api);
  }
)(
  this,
  /** @returns {Window['pistreamProtocol']} The shared script's API, as the server types it. */ function () {
    'use strict';

    /** `type` of an acknowledgement: "this connection has decoded `frames` pictures so far". */
    var ACK = 'ack';

    /** The text of an ack for `frames` decoded pictures: {"type":"ack","frames":N}. @param {number} frames */
    function ackMessage(frames) {
      return JSON.stringify({ type: ACK, frames: frames });
    }

    /*
     * The header of each `/h264` message (the server writes it in src/formats/h264-units.ts with these constants;
     * the page reads it with readUnitHeader). Big-endian:
     *   0  u8   version (1)
     *   1  u8   flags: bit 0 = key unit (an IDR with its SPS and PPS: a decoder can start here)
     *   2  u16  header length H: the access unit (Annex B) starts at byte H
     *   4  u16  width     6  u16 height
     *   8  u32  seq (source frame number)
     *   12 f64  capturedAt (ms since the Unix epoch, server clock)
     *   20 …    codec string, ASCII (H - 20 bytes, e.g. "avc1.42C01E"): on every key unit, empty otherwise
     */
    var UNIT_VERSION = 1;
    var UNIT_FLAG_KEY = 1;
    var UNIT_FIXED_SIZE = 20;

    /**
     * Reads an `/h264` message's header from an ArrayBuffer: { version, key, width, height, seq, capturedAt,
     * codec (a string, '' when absent), offset (where the access unit starts) }, or null when it is not one.
     * @param {ArrayBuffer} buffer
     */
    function readUnitHeader(buffer) {
      if (buffer.byteLength < UNIT_FIXED_SIZE) return null;
      var view = new DataView(buffer);
      var version = view.getUint8(0);
      var size = view.getUint16(2);
      if (version !== UNIT_VERSION || size < UNIT_FIXED_SIZE || size > buffer.byteLength) return null;
      var codec = '';
      for (var i = UNIT_FIXED_SIZE; i < size; i++) codec += String.fromCharCode(view.getUint8(i));
      return {
        version: version,
        key: (view.getUint8(1) & UNIT_FLAG_KEY) !== 0,
        width: view.getUint16(4),
        height: view.getUint16(6),
        seq: view.getUint32(8),
        capturedAt: view.getFloat64(12),
        codec: codec,
        offset: size,
      };
    }

    return {
      ACK: ACK,
      ackMessage: ackMessage,
      UNIT_VERSION: UNIT_VERSION,
      UNIT_FLAG_KEY: UNIT_FLAG_KEY,
      UNIT_FIXED_SIZE: UNIT_FIXED_SIZE,
      readUnitHeader: readUnitHeader,
    };
  }
);
