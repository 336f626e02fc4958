/*
 * The MPEG-1 player: plays the server's MPEG-TS/MPEG-1 stream (wire format `mpegts`) with JSMpeg
 * (@cycjimmy/jsmpeg-player, served at vendor/), plugged into the viewer core (viewer-core.js), and adds what the
 * stock player lacks for live viewing:
 *
 * - each picture is decoded in the handler of the message that brings it, not on the next animation frame (stock
 *   JSMpeg decodes one picture per animation frame, so a picture waits up to a refresh, and a backlog after any
 *   hiccup never drains), and painted at once unless a paint already waits for the next frame;
 * - on joining, the replayed GOP's keyframe is painted alone at once, and the rest of the burst decoded right after
 *   the frame that shows it;
 * - one fresh JSMpeg player per connection (the core owns the socket and hands each message to it).
 *
 * Registers itself as `window.pistreamPlayers.jsmpeg`; its `check` compiles the WASM decoder (jsmpeg-wasm.js)
 * before viewer.js hands it to the core.
 */
(function () {
  'use strict';

  /** A bound on one go's decoding, so a huge backlog cannot freeze the page; the rest follows in the next task. */
  var MAX_DECODES_PER_TICK = 240;
  /** The join's catch-up runs after the next animation frame, or after this long if frames do not come. */
  var CATCH_UP_FALLBACK_MS = 100;
  /** Smaller than JSMpeg's 512 KiB default: the decoder's buffer bounds the worst-case backlog. */
  var VIDEO_BUFFER_SIZE = 256 * 1024;
  /** Smaller than JSMpeg's 128 KiB default: 32 KiB hold 2 s of MP2 at 128 kbit/s, far more than is ever queued. */
  var AUDIO_BUFFER_SIZE = 32 * 1024;

  /**
   * When pictures are decoded and painted. 'message' (the default): in the handler of the message that brings
   * them. 'frame' (`?paint=frame`): everything buffered on each animation frame, as the page did before; kept so
   * the benchmark can compare the two in one run.
   */
  /** @type {'message' | 'frame'} */
  var PAINT_MODE = new URL(window.location.href).searchParams.get('paint') === 'frame' ? 'frame' : 'message';
  /**
   * Whether each connection's renderer is primed (see {@link prime}) before its socket opens. `?prime=off` leaves
   * it cold, as the page did before; kept so the benchmark can compare the two joins in one run.
   */
  var PRIME = new URL(window.location.href).searchParams.get('prime') !== 'off';

  var core = window.pistreamViewer;
  var barcodeReader = window.pistreamBarcode;
  var wasm = window.pistreamJsmpegWasm;
  /** The page's state with this player's fields (install adds them before the first connection). */
  var state = /** @type {JsmpegState} */ (core.state);

  /** Where decoding runs right now, or null: see state.decodes. */
  /** @type {'message' | 'frame' | 'catchUp' | null} */
  var decodeContext = null;

  /** JSMpeg, once the player is in use (its `check` found it loaded). */
  function jsmpeg() {
    if (!window.JSMpeg) throw new Error('JSMpeg is not loaded');
    return window.JSMpeg;
  }

  /**
   * The fields this player adds to `window.pistream`.
   * @param {PageState} page
   */
  function install(page) {
    var st = /** @type {JsmpegState} */ (page);
    /** 'message' | 'frame': see PAINT_MODE. */
    st.paintMode = PAINT_MODE;
    /**
     * Pictures decoded, by where the decoding ran: in a socket's message handler, in an animation frame callback,
     * in a join's catch-up (a task after the first picture's frame), or anywhere else (a bug).
     */
    st.decodes = { message: 0, frame: 0, catchUp: 0, other: 0 };
    /** Most pictures decoded in one go (1 normally; more after a hiccup, as the backlog drains). */
    st.maxDecodesPerTick = 0;
    /** JSMpeg's decoder and renderer in use: 'wasm' | 'js', 'webgl' | 'canvas2d' (null before the first player). */
    st.decoder = null;
    st.renderer = null;
    /** Whether the current connection's renderer was primed before its socket opened (see prime). */
    st.primed = null;
    /**
     * Paints by when they ran: at once (in the handler that decoded the picture, or the join's catch-up), or in an
     * animation frame (paint=frame; or the newest picture held while an earlier paint waited for that frame).
     */
    st.paints = { atOnce: 0, inFrame: 0 };
    /**
     * The current connection's join: pictures decoded on it when its first picture was painted, that picture's
     * barcode frame, and once the catch-up after it has run, the pictures it decoded and the newest one's frame.
     */
    st.join = null;
  }

  /**
   * A JSMpeg source (the API the Player expects of `options.source`) that only hands on what the core's socket
   * receives: the page, not JSMpeg, decides when and whether to connect.
   */
  function PageSource() {
    this.streaming = true;
    this.established = false;
    this.completed = false;
    this.progress = 0;
    this.destination = null;
  }
  /** @param {JsmpegDestination} destination */
  PageSource.prototype.connect = function (destination) {
    this.destination = destination;
  };
  PageSource.prototype.start = function () {};
  PageSource.prototype.resume = function () {};
  PageSource.prototype.destroy = function () {};

  /**
   * One connection's JSMpeg player and decoding state.
   * @constructor
   * @param {CoreConnection} s
   */
  function JsmpegConnection(s) {
    var JSMpeg = jsmpeg();
    this.s = s;
    this.width = 0;
    this.height = 0;
    this.decoded = 0;
    /** The newest decoded picture, not painted yet. */
    /** @type {{ y: Uint8Array, cr: Uint8Array, cb: Uint8Array, isClamped: boolean, frame: number | null } | null} */
    this.pending = null;
    this.painted = 0;
    /** @type {JsmpegJoin | null} */
    this.join = null;
    this.catchUpPending = false;
    this.catchUpTimer = 0;
    this.catchUpFrame = 0;
    this.frameLoop = 0;
    /** paint=message: the animation frame an earlier paint waits for (0: none). */
    this.paintFrame = 0;
    /** @type {JsmpegPlayerOptions} */
    var options = {
      source: PageSource,
      canvas: core.canvas,
      // JSMpeg's own sound output is not used: see jsmpeg-audio.js (the MP2 decoder is connected below).
      audio: false,
      videoBufferSize: VIDEO_BUFFER_SIZE,
      audioBufferSize: AUDIO_BUFFER_SIZE,
      disableWebAssembly: wasm.failed(),
      // The page decodes every picture itself (installDecoding), the first one included.
      decodeFirstFrame: false,
      // Visibility is handled by the core: the socket is closed while hidden, not just the drawing paused.
      pauseWhenHidden: false,
    };
    this.player = new JSMpeg.Player('', options);
    this.source = this.player.source;
    installDecoding(this, this.player);
    /** The MP2 decoder and its output, when the stream carries sound (sound.js offered the speaker button). */
    /** @type {JsmpegAudioDecoder | null} */
    this.audio = null;
    /** @type {JsmpegAudioOut | null} */
    this.audioOut = null;
    if (state.sound.available) connectSound(this, JSMpeg, options);
    state.decoder = this.player.video instanceof JSMpeg.Decoder.MPEG1VideoWASM ? 'wasm' : 'js';
    state.renderer = this.player.renderer instanceof JSMpeg.Renderer.WebGL ? 'webgl' : 'canvas2d';
    /** Whether the renderer was primed (at the canvas' size) before the socket opened. */
    this.primed = PRIME && prime(this.player.renderer, core.canvas.width, core.canvas.height);
    state.primed = this.primed;
  }

  /**
   * Readies a fresh renderer for its first picture while the socket opens: sized to the canvas (which viewer.js
   * gave the stream's size) and one black picture drawn. Until a WebGL renderer has drawn, its shader program is
   * not linked and its three textures are not allocated: the browser does that work at the first draw, in its GPU
   * process, after the page's paint returned and before the picture reaches the screen (with software GL, tens of
   * milliseconds measured on screen). Primed, the first picture only uploads its planes and draws.
   * @param {JsmpegRenderer} renderer @param {number} width @param {number} height
   */
  function prime(renderer, width, height) {
    if (width <= 0 || height <= 0) return false;
    renderer.resize(width, height);
    // Planes as JSMpeg's decoder hands them: rows of whole macroblocks; black is Y 16, Cb = Cr = 128.
    var codedWidth = (width + 15) & ~15;
    var chroma = new Uint8Array((codedWidth >> 1) * (height >> 1)).fill(128);
    renderer.render(new Uint8Array(codedWidth * height).fill(16), chroma, chroma, false);
    return true;
  }

  /** @param {ArrayBuffer} data */
  JsmpegConnection.prototype.message = function (data) {
    decodeContext = 'message';
    try {
      this.source.established = true;
      this.source.progress = 1;
      if (this.source.destination) this.source.destination.write(data);
      onData(this);
    } finally {
      decodeContext = null;
    }
    // Sound after the pictures: video never waits for audio.
    if (this.audio) decodeSound(this);
  };

  JsmpegConnection.prototype.close = function () {
    clearTimeout(this.catchUpTimer);
    cancelAnimationFrame(this.catchUpFrame);
    cancelAnimationFrame(this.frameLoop);
    cancelAnimationFrame(this.paintFrame);
    this.player.destroy();
    if (this.audio) this.audio.destroy();
    if (this.audioOut) this.audioOut.destroy();
  };

  /**
   * Decodes (and so schedules) every buffered sound frame, bounded like the pictures. Until a join's catch-up has
   * run, the sound is decoded and thrown away: it came with the replayed GOP, up to a second old.
   * @param {JsmpegConnection} c
   */
  function decodeSound(c) {
    var audio = /** @type {JsmpegAudioDecoder} */ (c.audio);
    /** @type {JsmpegAudioOut} */ (c.audioOut).skip = c.painted === 0 || c.catchUpPending;
    for (var n = 0; n < MAX_DECODES_PER_TICK && audio.decode(); n++);
  }

  /**
   * Connects JSMpeg's MP2 decoder (WASM where the video decoder is, else JS) to the demuxer's audio stream, and its
   * output to the page's sound (jsmpeg-audio.js). `options`: the player's, as its constructor completed them
   * (`streaming`, `wasmModule`).
   * @param {JsmpegConnection} c @param {JsmpegApi} JSMpeg @param {JsmpegPlayerOptions} options
   */
  function connectSound(c, JSMpeg, options) {
    var Decoder = options.wasmModule ? JSMpeg.Decoder.MP2AudioWASM : JSMpeg.Decoder.MP2Audio;
    var audio = new Decoder(options);
    var out = window.pistreamJsmpegAudio.output();
    c.player.demuxer.connect(JSMpeg.Demuxer.TS.STREAM.AUDIO_1, audio);
    audio.connect(out);
    c.audio = audio;
    c.audioOut = out;
  }

  /** @param {JsmpegConnection} c */
  function current(c) {
    return core.isCurrent(c.s);
  }

  /**
   * Counts and reads one decoded picture; returns its barcode frame number, or null.
   * @param {JsmpegConnection} c @param {Uint8Array} y
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
   * @param {JsmpegConnection} c @param {number} max
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
   * @param {JsmpegConnection} c @param {boolean} inFrame
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
   * @param {JsmpegConnection} c
   */
  function paintNewest(c) {
    if (!c.pending || c.paintFrame) return;
    paintPending(c, false);
    awaitFrame(c);
  }

  /** @param {JsmpegConnection} c */
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
   * @param {JsmpegConnection} c
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
   * @param {JsmpegConnection} c @param {boolean} afterFrame
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

  /** paint=frame: the previous behaviour, everything buffered decoded on each animation frame. @param {JsmpegConnection} c */
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
   * @param {JsmpegConnection} c @param {JsmpegPlayer} player
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
   * Why JSMpeg cannot play here, or null once its decoder is ready (the WASM one, or the JS one it falls back to).
   * @returns {Promise<string | null>}
   */
  function check() {
    if (!window.JSMpeg) return Promise.resolve('the MPEG-1 player (JSMpeg) failed to load');
    return new Promise(function (resolve) {
      wasm.prepare(function () {
        resolve(null);
      });
    });
  }

  window.pistreamPlayers = window.pistreamPlayers || {};
  /** @type {Player} */
  var player = {
    id: 'jsmpeg',
    name: 'The MPEG-1 player (JSMpeg)',
    label: 'MPEG-1 · JSMpeg',
    formats: ['mpegts'],
    check: check,
    install: install,
    open: function (s) {
      return new JsmpegConnection(s);
    },
  };
  window.pistreamPlayers.jsmpeg = player;
})();
