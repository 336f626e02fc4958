/*
 * The wire facts the page and the server share, defined here and nowhere else: the control messages the page sends
 * back over its stream socket (the page sends what this builds; the server, src/server/control-message.ts, requires
 * this same file), the header of each `/h264` message and of the sound messages beside them (the server writes it with these constants in
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

    /**
     * `type` of a sound request on an `/h264` socket: {"type":"sound","on":true} asks for the server's sound beside the
     * pictures (the SOUND messages below), "on":false stops it. A socket starts without sound, so a muted page gets
     * no sound bytes; the page asks once its speaker button is on.
     */
    var SOUND = 'sound';

    /** The text of a sound request. @param {boolean} on */
    function soundMessage(on) {
      return JSON.stringify({ type: SOUND, on: on });
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

    /*
     * The header of a sound message on an `/h264` socket (sent only after a sound request; the server writes it in
     * src/formats/h264-units.ts, the page reads it with readSoundHeader). Byte 0 tells it from an access unit's
     * header (whose byte 0 is UNIT_VERSION). Big-endian:
     *   0  u8   kind (2: a sound frame)
     *   1  u8   channels
     *   2  u16  header length H: the coded frame starts at byte H
     *   4  u32  sample rate (Hz)
     *   8  f64  capturedAt of the frame's first sample (ms since the Unix epoch, the pictures' clock)
     *   16 …    codec string, ASCII (H - 16 bytes: "opus", as WebCodecs' AudioDecoder names it)
     *   H  …    one coded frame (an Opus packet, 20 ms)
     */
    var SOUND_KIND = 2;
    var SOUND_FIXED_SIZE = 16;

    /**
     * Reads a sound message's header from an ArrayBuffer: { channels, sampleRate, capturedAt, codec, offset (where the
     * coded frame starts) }, or null when it is not one (an access unit, or a malformed message).
     * @param {ArrayBuffer} buffer
     */
    function readSoundHeader(buffer) {
      if (buffer.byteLength < SOUND_FIXED_SIZE) return null;
      var view = new DataView(buffer);
      var size = view.getUint16(2);
      if (view.getUint8(0) !== SOUND_KIND || size < SOUND_FIXED_SIZE || size > buffer.byteLength) return null;
      var codec = '';
      for (var i = SOUND_FIXED_SIZE; i < size; i++) codec += String.fromCharCode(view.getUint8(i));
      return {
        channels: view.getUint8(1),
        sampleRate: view.getUint32(4),
        capturedAt: view.getFloat64(8),
        codec: codec,
        offset: size,
      };
    }

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
      SOUND: SOUND,
      soundMessage: soundMessage,
      UNIT_VERSION: UNIT_VERSION,
      UNIT_FLAG_KEY: UNIT_FLAG_KEY,
      UNIT_FIXED_SIZE: UNIT_FIXED_SIZE,
      readUnitHeader: readUnitHeader,
      SOUND_KIND: SOUND_KIND,
      SOUND_FIXED_SIZE: SOUND_FIXED_SIZE,
      readSoundHeader: readSoundHeader,
    };
  }
);
