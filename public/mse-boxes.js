/*
 * The MSE player's box reader: what one fragmented-MP4 message of the server holds, read from its ISO BMFF boxes
 * as far as the player needs them (whether it starts with an init segment, the codec string from avcC, the
 * timescale, the first fragment's decode time and sequence number).
 *
 * Plain script, no build step: `window.pistreamMse.inspect(bytes, timescale)`; loaded before mse-player.js.
 */
(function () {
  'use strict';

  var TWO_32 = 4294967296;

  /** @param {Uint8Array} bytes @param {number} at */
  function fourcc(bytes, at) {
    return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  }

  /** @param {Uint8Array} bytes @param {number} at */
  function readUint32(bytes, at) {
    return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
  }

  /**
   * The boxes in bytes[from, to).
   * @param {Uint8Array} bytes @param {number} from @param {number} to
   * @returns {Mp4Box[]}
   */
  function boxes(bytes, from, to) {
    /** @type {Mp4Box[]} */
    var list = [];
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var at = from;
    while (at + 8 <= to) {
      var size = view.getUint32(at);
      var header = 8;
      if (size === 1) {
        if (at + 16 > to) break;
        size = view.getUint32(at + 8) * TWO_32 + view.getUint32(at + 12);
        header = 16;
      } else if (size === 0) {
        size = to - at;
      }
      if (size < header || at + size > to) break;
      list.push({ type: fourcc(bytes, at + 4), start: at, body: at + header, end: at + size });
      at += size;
    }
    return list;
  }

  /**
   * The first child of `box` of `type`, its children starting `skip` bytes into its body.
   * @param {Uint8Array} bytes @param {Mp4Box | null} box @param {string} type @param {number} [skip]
   * @returns {Mp4Box | null}
   */
  function child(bytes, box, type, skip) {
    if (!box) return null;
    var list = boxes(bytes, box.body + (skip || 0), box.end);
    for (var i = 0; i < list.length; i++) if (list[i].type === type) return list[i];
    return null;
  }

  /**
   * A path of boxes below `box`: each step a type, or [type, bytes of its own fields before its children] (stsd's
   * entry count, a sample entry's fields).
   * @param {Uint8Array} bytes @param {Mp4Box | null} box @param {(string | [string, number])[]} steps
   * @returns {Mp4Box | null}
   */
  function path(bytes, box, steps) {
    var skip = 0;
    for (var i = 0; i < steps.length && box; i++) {
      var step = steps[i];
      box = child(bytes, box, typeof step === 'string' ? step : step[0], skip);
      skip = typeof step === 'string' ? 0 : step[1];
    }
    return box;
  }

  /** @param {number} n */
  function hex2(n) {
    return (n < 16 ? '0' : '') + n.toString(16).toUpperCase();
  }

  /**
   * The init segment's facts: mdhd's timescale and the codec string from avcC ('avc1.PPCCLL').
   * @param {Uint8Array} bytes @param {Mp4Box} moov @param {MseMessageInfo} info
   */
  function readMoov(bytes, moov, info) {
    var mdia = child(bytes, child(bytes, moov, 'trak'), 'mdia');
    var mdhd = child(bytes, mdia, 'mdhd');
    if (mdhd) info.timescale = readUint32(bytes, mdhd.body + (bytes[mdhd.body] === 1 ? 20 : 12));
    // stsd: version/flags and an entry count before its entries; avc1: a 78-byte visual sample entry header.
    var avcC = path(bytes, mdia, ['minf', 'stbl', ['stsd', 8], ['avc1', 78], 'avcC']);
    if (!avcC) avcC = path(bytes, mdia, ['minf', 'stbl', ['stsd', 8], ['avc3', 78], 'avcC']);
    if (avcC && avcC.body + 4 <= avcC.end) {
      info.codec = 'avc1.' + hex2(bytes[avcC.body + 1]) + hex2(bytes[avcC.body + 2]) + hex2(bytes[avcC.body + 3]);
    }
  }

  /**
   * The first fragment's facts: mfhd's sequence number, and tfdt's decode time in s when the timescale is known.
   * @param {Uint8Array} bytes @param {Mp4Box} moof @param {number | null} scale @param {MseMessageInfo} info
   */
  function readMoof(bytes, moof, scale, info) {
    var mfhd = child(bytes, moof, 'mfhd');
    if (mfhd) info.sequence = readUint32(bytes, mfhd.body + 4);
    var tfdt = path(bytes, moof, ['traf', 'tfdt']);
    if (!tfdt || !scale) return;
    var base =
      bytes[tfdt.body] === 1
        ? readUint32(bytes, tfdt.body + 4) * TWO_32 + readUint32(bytes, tfdt.body + 8)
        : readUint32(bytes, tfdt.body + 4);
    info.time = base / scale;
  }

  /**
   * What a message holds (see MseMessageInfo). `timescale`: the one the last init segment gave, for a message
   * without its own. A key unit's time is what the buffer may be trimmed up to.
   * @param {Uint8Array} bytes @param {number | null} timescale
   * @returns {MseMessageInfo}
   */
  function inspect(bytes, timescale) {
    var top = boxes(bytes, 0, bytes.byteLength);
    /** @type {MseMessageInfo} */
    var info = { init: false, codec: null, timescale: null, time: null, sequence: null };
    /** @type {Mp4Box | null} */
    var moof = null;
    for (var i = 0; i < top.length; i++) {
      var box = top[i];
      if (box.type === 'ftyp' || box.type === 'moov') info.init = true;
      if (box.type === 'moov') readMoov(bytes, box, info);
      if (box.type === 'moof' && !moof) moof = box;
    }
    if (moof) readMoof(bytes, moof, info.timescale || timescale, info);
    return info;
  }

  var mse = window.pistreamMse || (window.pistreamMse = /** @type {PistreamMse} */ ({}));
  mse.inspect = inspect;
})();
