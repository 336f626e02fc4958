/*
 * The MSE player's box reader: what one fragmented-MP4 message of the server holds, read from its ISO BMFF boxes
 * as far as the player needs them (whether it starts with an init segment, the codec string from avcC and, with
 * sound, from the mp4a track's esds, the video's timescale, the picture fragment's decode time and the fragments'
 * sequence numbers).
 *
 * With sound (`/fmp4-sound`) a message holds the sound captured since the previous picture as a fragment of its
 * own (track 2) before the picture's fragment (track 1): the picture's is the message's last `moof`.
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
   * The length of the MPEG-4 descriptor whose length field starts at `at` (one to four bytes, 7 bits each), and where
   * its body starts.
   * @param {Uint8Array} bytes @param {number} at @param {number} end
   * @returns {{ length: number, body: number }}
   */
  function descriptorLength(bytes, at, end) {
    var length = 0;
    for (var i = 0; i < 4 && at < end; i++) {
      var b = bytes[at++];
      length = length * 128 + (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { length: length, body: at };
  }

  /**
   * The RFC 6381 codec string of an `esds` box's AAC ('mp4a.40.2' for AAC-LC): the DecoderConfigDescriptor's object
   * type (0x40, MPEG-4 audio) and the AudioSpecificConfig's audio object type; null when it is not there.
   * @param {Uint8Array} bytes @param {Mp4Box} esds
   */
  function esdsCodec(bytes, esds) {
    // esds: version and flags, then the ES_Descriptor (tag 3): ES_ID (2), flags (1), then its own descriptors.
    var at = esds.body + 4;
    if (bytes[at] !== 0x03) return null;
    var es = descriptorLength(bytes, at + 1, esds.end);
    var esFlags = bytes[es.body + 2];
    at = es.body + 3 + (esFlags & 0x80 ? 2 : 0) + (esFlags & 0x20 ? 3 : 0);
    if (esFlags & 0x40) at += 1 + bytes[at];
    if (bytes[at] !== 0x04) return null;
    var config = descriptorLength(bytes, at + 1, esds.end);
    var objectType = bytes[config.body];
    // DecoderConfigDescriptor: object type, stream type, buffer size (3), max and average bitrate (4 + 4).
    at = config.body + 13;
    if (objectType !== 0x40 || bytes[at] !== 0x05) return 'mp4a.' + hex2(objectType).toLowerCase();
    var specific = descriptorLength(bytes, at + 1, esds.end);
    return 'mp4a.40.' + (bytes[specific.body] >> 3);
  }

  /** @param {Uint8Array} bytes @param {Mp4Box | null} mdia */
  function avcCodec(bytes, mdia) {
    // stsd: version/flags and an entry count before its entries; avc1: a 78-byte visual sample entry header.
    var avcC = path(bytes, mdia, ['minf', 'stbl', ['stsd', 8], ['avc1', 78], 'avcC']);
    if (!avcC) avcC = path(bytes, mdia, ['minf', 'stbl', ['stsd', 8], ['avc3', 78], 'avcC']);
    if (!avcC || avcC.body + 4 > avcC.end) return null;
    return 'avc1.' + hex2(bytes[avcC.body + 1]) + hex2(bytes[avcC.body + 2]) + hex2(bytes[avcC.body + 3]);
  }

  /** @param {Uint8Array} bytes @param {Mp4Box | null} mdia */
  function aacCodec(bytes, mdia) {
    // mp4a: a 28-byte audio sample entry header before its esds.
    var esds = path(bytes, mdia, ['minf', 'stbl', ['stsd', 8], ['mp4a', 28], 'esds']);
    return esds ? esdsCodec(bytes, esds) : null;
  }

  /**
   * The init segment's facts: the first track's (the picture's) mdhd timescale, and the codec string: avcC's
   * ('avc1.PPCCLL'), followed by the sound track's ('avc1.PPCCLL,mp4a.40.2') when there is one.
   * @param {Uint8Array} bytes @param {Mp4Box} moov @param {MseMessageInfo} info
   */
  function readMoov(bytes, moov, info) {
    var traks = boxes(bytes, moov.body, moov.end).filter(function (box) {
      return box.type === 'trak';
    });
    /** @type {string[]} */
    var codecs = [];
    for (var i = 0; i < traks.length; i++) {
      var mdia = child(bytes, traks[i] || null, 'mdia');
      var mdhd = child(bytes, mdia, 'mdhd');
      if (i === 0 && mdhd) info.timescale = readUint32(bytes, mdhd.body + (bytes[mdhd.body] === 1 ? 20 : 12));
      var codec = avcCodec(bytes, mdia) || aacCodec(bytes, mdia);
      if (codec) codecs.push(codec);
    }
    if (codecs.length && codecs[0].indexOf('avc') === 0) info.codec = codecs.join(',');
  }

  /** mfhd's sequence number, or null. @param {Uint8Array} bytes @param {Mp4Box} moof */
  function sequenceOf(bytes, moof) {
    var mfhd = child(bytes, moof, 'mfhd');
    return mfhd ? readUint32(bytes, mfhd.body + 4) : null;
  }

  /**
   * The picture fragment's decode time in s (tfdt), when the timescale is known.
   * @param {Uint8Array} bytes @param {Mp4Box} moof @param {number | null} scale @param {MseMessageInfo} info
   */
  function readMoof(bytes, moof, scale, info) {
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
    var info = { init: false, codec: null, timescale: null, time: null, sequence: null, lastSequence: null };
    /** @type {Mp4Box | null} */
    var moof = null;
    for (var i = 0; i < top.length; i++) {
      var box = top[i];
      if (box.type === 'ftyp' || box.type === 'moov') info.init = true;
      if (box.type === 'moov') readMoov(bytes, box, info);
      if (box.type !== 'moof') continue;
      if (info.sequence === null) info.sequence = sequenceOf(bytes, box);
      info.lastSequence = sequenceOf(bytes, box);
      moof = box;
    }
    if (moof) readMoof(bytes, moof, info.timescale || timescale, info);
    return info;
  }

  var mse = window.pistreamMse || (window.pistreamMse = /** @type {PistreamMse} */ ({}));
  mse.inspect = inspect;
})();
