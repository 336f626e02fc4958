/*
 * The test pattern's barcode reader: the one rule the page's latency HUD and the server side (src/barcode.ts, used
 * by the benchmark and the tests) read barcodes by, so the two can never disagree on what a picture carries.
 *
 * The barcode: two rows of 32 luma blocks of 16x16 px from the top-left corner, ONE (235) for a 1 bit and ZERO (16)
 * for a 0 bit, most significant bit first. Row 0 holds the frame number (u32), row 1 the capture time in ms since
 * the epoch mod 2^32.
 *
 * Plain ES5 script, no build step: the page loads it before viewer.js (window.pistreamBarcode), Node requires it
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
    else /** @type {Window} */ (root).pistreamBarcode = /** @type {Window['pistreamBarcode']} */ (api);
  }
)(
  this,
  /** @returns {Window['pistreamBarcode']} The shared script's API, as the server types it. */ function () {
    'use strict';

    var BLOCK = 16;
    var BITS = 32;
    var WIDTH = BLOCK * BITS;
    var HEIGHT = 2 * BLOCK;
    /** Luma of a 1 bit and of a 0 bit: video range white and black, so every decoder and renderer keeps them apart. */
    var ONE = 235;
    var ZERO = 16;
    /**
     * Each block is read as the mean of its centre SAMPLE x SAMPLE pixels: clear of the block edges, where coding
     * artefacts gather, and still inside the block when a decode is blurred or shifted by a few pixels.
     */
    var SAMPLE = 8;
    /** A block whose mean lies strictly between these is neither clearly dark nor clearly bright: no barcode there. */
    var DARK_MAX = 90;
    var BRIGHT_MIN = 160;
    /** Mean luma from which a block counts as a 1 bit. */
    var CUT = 128;

    /**
     * Reads a barcode through `luma(x, y)` (any 0-255 brightness: Y of a decoded picture, or the mean of R, G, B from
     * a canvas). Returns { frame, time }, or null when a block is neither clearly dark nor clearly bright.
     * @param {(x: number, y: number) => number} luma
     * @returns {{ frame: number, time: number } | null}
     */
    function read(luma) {
      var from = (BLOCK - SAMPLE) / 2;
      var words = [0, 0];
      for (var row = 0; row < 2; row++) {
        var word = 0;
        for (var bit = 0; bit < BITS; bit++) {
          var sum = 0;
          for (var dy = from; dy < from + SAMPLE; dy++) {
            for (var dx = from; dx < from + SAMPLE; dx++) sum += luma(bit * BLOCK + dx, row * BLOCK + dy);
          }
          var mean = sum / (SAMPLE * SAMPLE);
          if (mean > DARK_MAX && mean < BRIGHT_MIN) return null;
          // Doubling, not shifting: JS shifts are signed 32-bit, and the top bit is a bit of the word like any other.
          word = word * 2 + (mean >= CUT ? 1 : 0);
        }
        words[row] = word;
      }
      return { frame: words[0], time: words[1] };
    }

    /**
     * Reads a barcode from a luma plane (`plane[y * stride + x]`, e.g. a decoder's Y buffer whose rows are padded to
     * `stride`), or returns null when the picture is too small to hold one or holds none.
     * @param {ArrayLike<number>} plane @param {number} stride @param {number} height
     */
    function readPlane(plane, stride, height) {
      if (stride < WIDTH || height < HEIGHT) return null;
      return read(function (/** @type {number} */ x, /** @type {number} */ y) {
        return plane[y * stride + x];
      });
    }

    return {
      BLOCK: BLOCK,
      BITS: BITS,
      WIDTH: WIDTH,
      HEIGHT: HEIGHT,
      ONE: ONE,
      ZERO: ZERO,
      SAMPLE: SAMPLE,
      DARK_MAX: DARK_MAX,
      BRIGHT_MIN: BRIGHT_MIN,
      CUT: CUT,
      read: read,
      readPlane: readPlane,
    };
  }
);
