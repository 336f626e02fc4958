/*
 * The WebCodecs player's barcode read, for glass-to-glass: the test pattern's barcode off each picture's top strip
 * only, copied out of the Y plane (copyTo of a 512x32 rect, ~24 KB) where the frame is YUV, else drawn and read
 * from RGB (strip-barcode.js).
 *
 * Plain script, no build step: `window.pistreamFrameBarcode(frame, then)`; loaded before webcodecs-player.js.
 */
(function () {
  'use strict';

  /** Pixel formats whose first plane is luma, read with copyTo. */
  var LUMA_FORMATS = ['I420', 'I420A', 'I422', 'I444', 'NV12'];

  var barcodeReader = window.pistreamBarcode;

  /**
   * Reads `frame`'s barcode, and calls `then(barcode, how)` with it (null: none), at once or (copyTo) once copied;
   * not at all when the copy fails. The copy takes its own reference to the picture: the frame may be closed as
   * soon as this returns.
   * @param {VideoFrame} frame @param {(barcode: BarcodeValue | null, how: 'copyTo' | 'canvas') => void} then
   */
  function readFrameBarcode(frame, then) {
    var width = barcodeReader.WIDTH;
    var height = barcodeReader.HEIGHT;
    if (frame.displayWidth < width || frame.displayHeight < height) return;
    var rect = frame.visibleRect;
    if (!frame.format || LUMA_FORMATS.indexOf(frame.format) < 0 || !rect) {
      then(window.pistreamStripBarcode(frame, frame.displayWidth, frame.displayHeight), 'canvas');
      return;
    }
    var strip = { x: rect.x, y: rect.y, width: width, height: height };
    var buffer = new Uint8Array(frame.allocationSize({ rect: strip }));
    frame.copyTo(buffer, { rect: strip }).then(
      function (layout) {
        var luma = buffer.subarray(layout[0].offset);
        then(barcodeReader.readPlane(luma, layout[0].stride, height), 'copyTo');
      },
      function () {}
    );
  }

  window.pistreamFrameBarcode = readFrameBarcode;
})();
