/*
 * The MPEG-1 player: plays the server's MPEG-TS/MPEG-1 stream (wire format `mpegts`) with JSMpeg
 * (@cycjimmy/jsmpeg-player, served at vendor/), plugged into the viewer core (viewer-core.js): one fresh JSMpeg
 * player per connection (the core owns the socket and hands each message to it), its renderer primed while the
 * socket opens, its sound through jsmpeg-audio.js. When its pictures are decoded and painted is jsmpeg-paint.js'.
 *
 * Registers itself as `window.pistreamPlayers.jsmpeg`; its `check` compiles the WASM decoder (jsmpeg-wasm.js)
 * before viewer.js hands it to the core.
 */
(function () {
  'use strict';

  /** Smaller than JSMpeg's 512 KiB default: the decoder's buffer bounds the worst-case backlog. */
  var VIDEO_BUFFER_SIZE = 256 * 1024;
  /** Smaller than JSMpeg's 128 KiB default: 32 KiB hold 2 s of MP2 at 128 kbit/s, far more than is ever queued. */
  var AUDIO_BUFFER_SIZE = 32 * 1024;
  /**
   * Whether each connection's renderer is primed (see {@link prime}) before its socket opens. `?prime=off` leaves
   * it cold, as the page did before; kept so the benchmark can compare the two joins in one run.
   */
  var PRIME = new URL(window.location.href).searchParams.get('prime') !== 'off';

  var core = window.pistreamViewer;
  var wasm = window.pistreamJsmpegWasm;
  var paint = window.pistreamJsmpegPaint;
  /** The page's state with this player's fields (install adds them before the first connection). */
  var state = /** @type {JsmpegState} */ (core.state);

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
    /** 'message' | 'frame': see jsmpeg-paint.js' PAINT_MODE. */
    st.paintMode = paint.mode;
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
      // The page decodes every picture itself (jsmpeg-paint.js), the first one included.
      decodeFirstFrame: false,
      // Visibility is handled by the core: the socket is closed while hidden, not just the drawing paused.
      pauseWhenHidden: false,
    };
    this.player = new JSMpeg.Player('', options);
    this.source = this.player.source;
    paint.install(this, this.player);
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
    var source = this.source;
    paint.message(this, function () {
      source.established = true;
      source.progress = 1;
      if (source.destination) source.destination.write(data);
    });
    // Sound after the pictures: video never waits for audio.
    if (this.audio) decodeSound(this);
  };

  JsmpegConnection.prototype.close = function () {
    paint.stop(this);
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
    for (var n = 0; n < paint.maxDecodesPerTick && audio.decode(); n++);
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
