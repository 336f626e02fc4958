/*
 * When the MPEG-1 player's pictures are decoded and painted (jsmpeg-player.js hands each connection over). What stock
 * JSMpeg lacks for live viewing, and why it is here:
 *
 * - each picture is decoded in the handler of the message that brings it, not on the next animation frame (stock
 *   JSMpeg decodes one picture per animation frame, so a picture waits up to a refresh, and a backlog after any
 *   hiccup never drains), and painted at once unless a paint already waits for the next frame;
 * - on joining, the replayed GOP's keyframe is painted alone at once, and the rest of the burst decoded right after
 *   the frame that shows it.
 *
 * Plain script, no build step: `window.pistreamJsmpegPaint` (see JsmpegPaint in types/page.d.ts); loaded before
 * jsmpeg-player.js.
 */
(function () {
  'use strict';

  /** A bound on one go's decoding, so a huge backlog cannot freeze the page; the rest follows in the next task. */
  var MAX_DECODES_PER_TICK = 240;
  /** The join's catch-up runs after the next animation frame, or after this long if frames do not come. */
  var CATCH_UP_FALLBACK_MS = 100;

  /**
   * When pictures are decoded and painted. 'message' (the default): in the handler of the message that brings
   * them. 'frame' (`?paint=frame`): everything buffered on each animation frame, as the page did before; kept so
   * the benchmark can compare the two in one run.
   */
  /** @type {'message' | 'frame'} */
  var PAINT_MODE = new URL(window.location.href).searchParams.get('paint') === 'frame' ? 'frame' : 'message';

  var core = window.pistreamViewer;
  var barcodeReader = window.pistreamBarcode;
  /** The page's state with the MPEG-1 player's fields (its install adds them before the first connection). */
  var state = /** @type {JsmpegState} */ (core.state);

  /** Where decoding runs right now, or null: see state.decodes. */
  /** @type {'message' | 'frame' | 'catchUp' | null} */
  var decodeContext = null;

  /** @param {JsmpegPaintTarget} c */
  function current(c) {
    return core.isCurrent(c.s);
  }

  /**
   * Counts and reads one decoded picture; returns its barcode frame number, or null.
   * @param {JsmpegPaintTarget} c @param {Uint8Array} y
   */
  function onPictureDecoded(c, y) {
    state.decodes[decodeContext || 'other']++;
    c.decoded++;
    c.s.handled = c.decoded;
    core.pictureDecoded(c.s);
    // JSMpeg pads the rows of its planes to whole macroblocks (16 px).
    return core.barcodeRead(barcodeReader.readPlane(y, (c.width + 15) & ~15, c.height));
  }

  /**
   * Decodes the next buffered picture. JSMpeg's JS decoder (6.1.2) returns false, without decoding, once for each
   * other start code it meets first (the sequence and GOP headers before every I picture), so "false" alone would
   * stop the catch-up at every keyframe; it is only final when the decoder's read position did not move.
   * (The WASM decoder skips those headers itself.)
   * @param {JsmpegVideoDecoder} video
   */
  function decodeNext(video) {
    for (;;) {
      var before = video.bufferGetIndex();
      if (video.decode()) return true;
      if (video.bufferGetIndex() === before) return false;
    }
  }

  /**
   * Decodes up to `max` buffered pictures; returns how many it decoded. The decoder hands each picture to its
   * destination (`render`, see {@link installDecoding}), which reads its barcode (so latency counts each one) and
   * keeps only the last as `c.pending`, for painting. Its planes stay valid until the next decode, which replaces
   * it with a newer picture.
   * @param {JsmpegPaintTarget} c @param {number} max
   */
  function decodeAll(c, max) {
    var n = 0;
    while (n < max && decodeNext(c.player.video)) n++;
    if (n > state.maxDecodesPerTick) state.maxDecodesPerTick = n;
    // Acks count decoded pictures: sent now, whether or not the picture is painted yet.
    if (n > 0) core.ack(c.s);
    return n;
  }

  /**
   * Paints the newest decoded picture, if there is one not painted yet.
   * @param {JsmpegPaintTarget} c @param {boolean} inFrame
   */
  function paintPending(c, inFrame) {
    var p = c.pending;
    if (!p) return;
    c.pending = null;
    c.player.renderer.render(p.y, p.cr, p.cb, p.isClamped);
    state.paints[inFrame ? 'inFrame' : 'atOnce']++;
    if (!current(c)) return;
    if (c.painted++ === 0) {
      c.join = state.join = { decodedAtFirstPaint: c.decoded, firstFrame: p.frame, catchUpDecodes: null, frameAfterCatchUp: null };
    }
    core.painted(c.s, p.frame);
  }

  /**
   * paint=message: paints the newest decoded picture at once, unless an earlier paint still waits for the next
   * animation frame. The browser shows a canvas at its next composite, whether it was drawn in a message handler or
   * in that frame's callback, so a newer picture arriving before the frame is held (one slot, always the newest)
   * and painted in the frame's callback: on screen in the same frame, one paint instead of several. While
   * pictures keep coming faster than frames (a slow compositor, e.g. software GL), each frame paints the newest;
   * once a frame finds nothing held, the next picture is painted at once again.
   * @param {JsmpegPaintTarget} c
   */
  function paintNewest(c) {
    if (!c.pending || c.paintFrame) return;
    paintPending(c, false);
    awaitFrame(c);
  }

  /** @param {JsmpegPaintTarget} c */
  function awaitFrame(c) {
    c.paintFrame = requestAnimationFrame(function () {
      c.paintFrame = 0;
      if (!current(c) || !c.pending) return;
      paintPending(c, true);
      awaitFrame(c);
    });
  }

  /**
   * A message has been demuxed (paint=message): decode every complete picture now and paint the newest. Except
   * on joining: the server replays the current GOP, up to a second of pictures at once, and decoding all of it
   * before the first paint would keep the screen empty for as long. So the first picture (the keyframe) is
   * decoded and painted alone, and the rest, with whatever arrives meanwhile, waits for the catch-up after the
   * frame that shows it.
   * @param {JsmpegPaintTarget} c
   */
  function onData(c) {
    if (PAINT_MODE !== 'message' || !current(c) || c.catchUpPending) return;
    if (c.painted === 0) {
      if (decodeAll(c, 1) > 0) {
        paintNewest(c);
        scheduleCatchUp(c, true);
      }
      return;
    }
    var n = decodeAll(c, MAX_DECODES_PER_TICK);
    paintNewest(c);
    if (n === MAX_DECODES_PER_TICK) scheduleCatchUp(c, false);
  }

  /**
   * Decodes everything buffered in a task of its own and paints the newest: `afterFrame`, once the next animation
   * frame has rendered (a task queued from a frame callback runs after that frame's rendering), so the picture
   * painted just before reaches the screen first; otherwise in the next task (the rest of a backlog over
   * MAX_DECODES_PER_TICK). Messages arriving meanwhile are only demuxed; the catch-up decodes them too.
   * @param {JsmpegPaintTarget} c @param {boolean} afterFrame
   */
  function scheduleCatchUp(c, afterFrame) {
    c.catchUpPending = true;
    var run = function () {
      if (!c.catchUpPending || !current(c)) return;
      c.catchUpPending = false;
      clearTimeout(c.catchUpTimer);
      cancelAnimationFrame(c.catchUpFrame);
      decodeContext = 'catchUp';
      try {
        var n = decodeAll(c, MAX_DECODES_PER_TICK);
        if (c.join && c.join.catchUpDecodes === null) {
          c.join.catchUpDecodes = n;
          c.join.frameAfterCatchUp = c.pending ? c.pending.frame : state.paintedFrame;
        }
        paintNewest(c);
        if (n === MAX_DECODES_PER_TICK) scheduleCatchUp(c, false);
      } finally {
        decodeContext = null;
      }
    };
    if (afterFrame) {
      c.catchUpFrame = requestAnimationFrame(function () {
        setTimeout(run, 0);
      });
      // Animation frames may not come (an occluded window): don't leave the rest of the burst undecoded.
      c.catchUpTimer = setTimeout(run, CATCH_UP_FALLBACK_MS);
    } else {
      c.catchUpTimer = setTimeout(run, 0);
    }
  }

  /** paint=frame: the previous behaviour, everything buffered decoded on each animation frame. @param {JsmpegPaintTarget} c */
  function startFrameLoop(c) {
    var tick = function () {
      if (!current(c)) return;
      c.frameLoop = requestAnimationFrame(tick);
      decodeContext = 'frame';
      try {
        decodeAll(c, MAX_DECODES_PER_TICK);
        paintPending(c, true);
      } finally {
        decodeContext = null;
      }
    };
    c.frameLoop = requestAnimationFrame(tick);
  }

  /**
   * Takes decoding and painting over from the player: its own loop (one picture per animation frame) is stopped,
   * and the decoder's destination is the page, which reads every picture and paints as PAINT_MODE says.
   * @param {JsmpegPaintTarget} c @param {JsmpegPlayer} player
   */
  function installDecoding(c, player) {
    var renderer = player.renderer;
    // The player started its animation-frame loop in its constructor (the WASM module is compiled by then); should
    // it ever start it later, its streaming step does nothing.
    player.pause();
    player.updateForStreaming = function () {};
    player.video.connect({
      resize: function (width, height) {
        c.width = width;
        c.height = height;
        // Primed at this size already: resizing again would clear and reallocate what priming made ready.
        if (renderer.width === width && renderer.height === height && c.primed) return;
        // JSMpeg's WebGL renderer allocates its textures at its first draw only: primed at another size, they
        // must be made again at this one.
        if (renderer.hasTextureData) renderer.hasTextureData = {};
        renderer.resize(width, height);
      },
      render: function (y, c1, c2, isClamped) {
        var frame = onPictureDecoded(c, y);
        c.pending = { y: y, cr: c1, cb: c2, isClamped: isClamped, frame: frame };
      },
    });
    // Keep the last picture on screen while reconnecting, instead of JSMpeg's loading bar.
    renderer.renderProgress = function () {};
    if (PAINT_MODE === 'frame') startFrameLoop(c);
  }

  /**
   * A message for `c`: `deliver` hands its bytes to the demuxer, then every complete picture is decoded and the
   * newest painted (paint=message).
   * @param {JsmpegPaintTarget} c @param {() => void} deliver
   */
  function message(c, deliver) {
    decodeContext = 'message';
    try {
      deliver();
      onData(c);
    } finally {
      decodeContext = null;
    }
  }

  /** Stops every timer and frame callback of `c`'s decoding and painting. @param {JsmpegPaintTarget} c */
  function stop(c) {
    clearTimeout(c.catchUpTimer);
    cancelAnimationFrame(c.catchUpFrame);
    cancelAnimationFrame(c.frameLoop);
    cancelAnimationFrame(c.paintFrame);
  }

  /** @type {JsmpegPaint} */
  window.pistreamJsmpegPaint = {
    mode: PAINT_MODE,
    maxDecodesPerTick: MAX_DECODES_PER_TICK,
    install: installDecoding,
    message: message,
    stop: stop,
  };
})();
