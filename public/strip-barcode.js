/*
 * Reads the test pattern's barcode off a picture the page can draw (a <video>, a VideoFrame): its 512x32 top-left
 * strip is drawn into a small canvas of its own and read from RGB through barcode.js. The players that cannot read
 * a luma plane use it (MSE always, WebCodecs for frames whose pixel format is not YUV).
 *
 * Plain script, no build step: `window.pistreamStripBarcode(source, width, height)`; loaded after barcode.js,
 * before the players.
 */
(function () {
  'use strict';

  var barcodeReader = window.pistreamBarcode;
  /** The strip's canvas and context, made on first use. */
  /** @type {CanvasRenderingContext2D | null} */
  var stripCtx = null;

  /**
   * The barcode of `source` (`width` x `height` as it is shown), or null when it is too small or holds none.
   * @param {CanvasImageSource} source @param {number} width @param {number} height
   * @returns {BarcodeValue | null}
   */
  function readStripBarcode(source, width, height) {
    var w = barcodeReader.WIDTH;
    var h = barcodeReader.HEIGHT;
    if (width < w || height < h) return null;
    if (!stripCtx) {
      var strip = document.createElement('canvas');
      strip.width = w;
      strip.height = h;
      stripCtx = strip.getContext('2d', { willReadFrequently: true });
      if (!stripCtx) return null;
    }
    stripCtx.drawImage(source, 0, 0, w, h, 0, 0, w, h);
    var pixels = stripCtx.getImageData(0, 0, w, h).data;
    return barcodeReader.read(function (x, y) {
      var i = (y * w + x) * 4;
      return (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
    });
  }

  window.pistreamStripBarcode = readStripBarcode;
})();
