/*
 * pistream viewer. Plays the server's MPEG-TS/MPEG-1 stream from `stream` (relative to this page) with JSMpeg
 * (@cycjimmy/jsmpeg-player, served at vendor/), and adds what the stock player lacks for live viewing:
 *
 * - every buffered picture is decoded on each animation frame (stock JSMpeg decodes one per frame, so a backlog
 *   after any hiccup never drains and latency creeps up); only the newest is painted;
 * - one fresh player per connection, reconnecting with backoff, a status line, and no socket while the tab is
 *   hidden (a hidden tab would otherwise buffer stale pictures);
 * - acknowledgements of decoded pictures back to the server, which uses them to spot slow viewers;
 * - a stats HUD, and glass-to-glass latency from the test pattern's barcode, exposed on `window.pistream`.
 *
 * Plain script, no build step; the page's CSP allows no inline script or style. Loaded after barcode.js and
 * protocol.js, which it shares with the server.
 */
(function () {
  'use strict';

  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 5000;
  /** Connected but no picture for this long: the camera (or encoder) is down, not the network. */
  var OFFLINE_AFTER_MS = 3000;
  /** Acks are rate-limited to one per this many ms. */
  var ACK_INTERVAL_MS = 100;
  var MAX_LATENCIES = 1000;
  /** A bound on one tick's catch-up work, so a huge backlog cannot freeze the page in one go. */
  var MAX_DECODES_PER_TICK = 240;
  /** Smaller than JSMpeg's 512 KiB default: the decoder's buffer bounds the worst-case backlog. */
  var VIDEO_BUFFER_SIZE = 256 * 1024;

  var TWO_32 = 4294967296;

  var JSMpeg = window.JSMpeg;
  /** The barcode reader and the control messages, shared with the server (barcode.js, protocol.js). */
  var barcodeReader = window.pistreamBarcode;
  var protocol = window.pistreamProtocol;
  var canvas = document.getElementById('video');
  var statusEl = document.getElementById('status');
  var statsEl = document.getElementById('stats');
  var fullscreenButton = document.getElementById('fullscreen');

  /** What tests and the benchmark read. */
  var state = {
    status: 'connecting',
    /** Pictures decoded since the page loaded (all connections). */
    frames: 0,
    /** Bytes received since the page loaded. */
    bytes: 0,
    /** Successful socket opens since the page loaded. */
    connections: 0,
    /** The newest barcode read back from a decoded picture, or null when none has been seen. */
    lastBarcode: null,
    /** Glass-to-glass latencies (ms) of the last pictures that carried a barcode, oldest first. */
    latencies: [],
    fps: 0,
    kbps: 0,
    /** Most pictures decoded in one animation frame (1 normally; more after a hiccup, as the backlog drains). */
    maxDecodesPerTick: 0,
    /** JSMpeg's decoder and renderer in use: 'wasm' | 'js', 'webgl' | 'canvas2d' (null before the first player). */
    decoder: null,
    renderer: null,
    /** Pictures painted since the page loaded (at most one per animation frame). */
    painted: 0,
    /**
     * The first connection's milestones (ms, from performance.now()): navigation start → socket open, and socket
     * open → first picture decoded / first picture painted (null until they happen).
     */
    timings: { navigationToOpen: null, openToFirstPicture: null, openToFirstPaint: null },
  };
  window.pistream = state;

  /** The current connection (player + socket), or null while waiting to reconnect or hidden. */
  var session = null;
  var everLive = false;
  var backoffMs = BACKOFF_MIN_MS;
  var retryTimer = 0;
  var wasmFailed = false;

  function setStatus(status) {
    if (state.status === status) return;
    state.status = status;
    statusEl.setAttribute('data-state', status);
    statusEl.textContent = status === 'connecting' || status === 'reconnecting' ? status + '…' : status;
  }

  /** ws:// or wss:// URL of `stream` next to this page, so the page also works under a route prefix (/cam/). */
  function streamUrl() {
    var url = new URL('stream', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    // A page opened as ?token=… (pistream --token) hands the token on to its socket; Basic credentials the
    // browser sends by itself.
    var token = new URL(window.location.href).searchParams.get('token');
    if (token) url.searchParams.set('token', token);
    return url.href;
  }

  /** Milliseconds from a mod-2^32 capture time to now, undoing the wrap. */
  function barcodeAge(time) {
    var age = (Date.now() % TWO_32) - time;
    if (age < -TWO_32 / 2) age += TWO_32;
    if (age > TWO_32 / 2) age -= TWO_32;
    return age;
  }

  function onPictureDecoded(s, y) {
    s.decoded++;
    s.lastPictureAt = performance.now();
    if (state.timings.openToFirstPicture === null && s.open) state.timings.openToFirstPicture = s.lastPictureAt - s.openedAt;
    state.frames++;
    // JSMpeg pads the rows of its planes to whole macroblocks (16 px).
    var barcode = barcodeReader.readPlane(y, (s.width + 15) & ~15, s.height);
    if (barcode) {
      var latencyMs = barcodeAge(barcode.time);
      state.lastBarcode = { frame: barcode.frame, time: barcode.time, latencyMs: latencyMs };
      state.latencies.push(latencyMs);
      if (state.latencies.length > MAX_LATENCIES) state.latencies.shift();
    }
  }

  /**
   * A JSMpeg source (the API the Player expects of `options.source`) over one WebSocket, without JSMpeg's own
   * reconnect: the page decides when and whether to connect again.
   */
  function PageSource(url, options) {
    this.url = url;
    this.session = options.session;
    this.streaming = true;
    this.established = false;
    this.completed = false;
    this.progress = 0;
    this.destination = null;
    this.socket = null;
  }
  PageSource.prototype.connect = function (destination) {
    this.destination = destination;
  };
  PageSource.prototype.start = function () {
    var source = this;
    var s = this.session;
    var socket;
    try {
      socket = new WebSocket(this.url);
    } catch (err) {
      // e.g. a CSP or mixed-content refusal: treat it as a failed connection, retried with backoff.
      setTimeout(function () {
        onClose(s);
      }, 0);
      return;
    }
    socket.binaryType = 'arraybuffer';
    socket.onopen = function () {
      source.progress = 1;
      onOpen(s);
    };
    socket.onmessage = function (ev) {
      // The server sends only binary MPEG-TS; anything else is not for the demuxer.
      if (typeof ev.data === 'string') return;
      source.established = true;
      state.bytes += ev.data.byteLength;
      source.destination.write(ev.data);
    };
    // An error is always followed by close; handle the end once, there.
    socket.onclose = function () {
      onClose(s);
    };
    this.socket = socket;
    s.socket = socket;
  };
  PageSource.prototype.resume = function () {};
  PageSource.prototype.destroy = function () {
    var socket = this.socket;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.close();
  };

  /**
   * Decodes the next buffered picture. JSMpeg's JS decoder (6.1.2) returns false, without decoding, once for each
   * other start code it meets first (the sequence and GOP headers before every I picture), so "false" alone would
   * stop the catch-up at every keyframe; it is only final when the decoder's read position did not move.
   * (The WASM decoder skips those headers itself.)
   */
  function decodeNext(video) {
    for (;;) {
      var before = video.bufferGetIndex();
      if (video.decode()) return true;
      if (video.bufferGetIndex() === before) return false;
    }
  }

  /**
   * Replaces the player's per-frame streaming step: decode everything buffered, paint only the newest picture.
   * The decoder hands each picture to its destination (`render`); we put ourselves there, read the barcode from
   * the Y plane of every picture (so latency counts each one), and keep only the last for painting. The planes
   * stay valid until the next decode, and none happens between the loop's end and the paint.
   */
  function installDecodeAll(s, player) {
    var renderer = player.renderer;
    var pending = null;
    player.video.connect({
      resize: function (width, height) {
        s.width = width;
        s.height = height;
        renderer.resize(width, height);
      },
      render: function (y, c1, c2, isClamped) {
        onPictureDecoded(s, y);
        pending = [y, c1, c2, isClamped];
      },
    });
    player.updateForStreaming = function () {
      var n = 0;
      while (n < MAX_DECODES_PER_TICK && decodeNext(player.video)) n++;
      if (n > state.maxDecodesPerTick) state.maxDecodesPerTick = n;
      // `pending` may also come from the decode JSMpeg runs itself when the first sequence header arrives.
      if (pending) {
        renderer.render(pending[0], pending[1], pending[2], pending[3]);
        pending = null;
        onPainted(s);
      }
    };
    // Keep the last picture on screen while reconnecting, instead of JSMpeg's loading bar.
    renderer.renderProgress = function () {};
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (session) return;
    if (document.visibilityState === 'hidden') {
      // Opened in a background tab: connect when first shown.
      setStatus('paused');
      return;
    }
    setStatus(everLive ? 'reconnecting' : 'connecting');
    var s = {
      player: null,
      socket: null,
      open: false,
      openedAt: 0,
      lastPictureAt: 0,
      decoded: 0,
      acked: 0,
      lastAckAt: -Infinity,
      ackTimer: 0,
      width: 0,
      height: 0,
    };
    session = s;
    s.player = new JSMpeg.Player(streamUrl(), {
      source: PageSource,
      session: s,
      canvas: canvas,
      audio: false,
      videoBufferSize: VIDEO_BUFFER_SIZE,
      disableWebAssembly: wasmFailed,
      // Visibility is handled here: the socket is closed while hidden, not just the drawing paused.
      pauseWhenHidden: false,
    });
    installDecodeAll(s, s.player);
    state.decoder = s.player.video instanceof JSMpeg.Decoder.MPEG1VideoWASM ? 'wasm' : 'js';
    state.renderer = s.player.renderer instanceof JSMpeg.Renderer.WebGL ? 'webgl' : 'canvas2d';
  }

  /** Ends the session's player and socket; `retry` says whether to connect again after the backoff. */
  function endSession(s, retry) {
    if (session !== s) return;
    session = null;
    clearTimeout(s.ackTimer);
    s.player.destroy();
    if (!retry) return;
    setStatus('reconnecting');
    retryTimer = setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
  }

  function onOpen(s) {
    s.open = true;
    s.openedAt = performance.now();
    if (state.timings.navigationToOpen === null) state.timings.navigationToOpen = s.openedAt;
    state.connections++;
  }

  function onClose(s) {
    s.open = false;
    endSession(s, true);
  }

  function onPainted(s) {
    if (session !== s) return;
    state.painted++;
    if (state.timings.openToFirstPaint === null && s.open) state.timings.openToFirstPaint = performance.now() - s.openedAt;
    if (state.status !== 'live') {
      everLive = true;
      backoffMs = BACKOFF_MIN_MS;
      setStatus('live');
    }
    sendAck(s);
  }

  /** Tells the server how many pictures this connection has decoded; at most one message per ACK_INTERVAL_MS. */
  function sendAck(s) {
    if (!s.open || s.acked === s.decoded || s.ackTimer) return;
    var wait = s.lastAckAt + ACK_INTERVAL_MS - performance.now();
    if (wait > 0) {
      // A trailing ack, so the last pictures before a pause are acknowledged too.
      s.ackTimer = setTimeout(function () {
        s.ackTimer = 0;
        sendAck(s);
      }, wait);
      return;
    }
    if (s.socket.readyState !== WebSocket.OPEN) return;
    s.socket.send(protocol.ackMessage(s.decoded));
    s.acked = s.decoded;
    s.lastAckAt = performance.now();
  }

  /** Connected, but the pictures stopped (or never came): say so rather than show a frozen picture as live. */
  function watchdog() {
    var s = session;
    if (!s || !s.open) return;
    var since = Math.max(s.openedAt, s.lastPictureAt);
    if (performance.now() - since > OFFLINE_AFTER_MS) setStatus('camera offline');
  }

  var hudLast = { at: performance.now(), frames: 0, bytes: 0 };
  function updateHud() {
    var now = performance.now();
    var dt = now - hudLast.at;
    if (dt <= 0) return;
    state.fps = Math.round(((state.frames - hudLast.frames) * 10000) / dt) / 10;
    state.kbps = Math.round(((state.bytes - hudLast.bytes) * 8) / dt);
    hudLast = { at: now, frames: state.frames, bytes: state.bytes };
    if (!session || !session.open) {
      statsEl.textContent = '';
      return;
    }
    var parts = [state.fps.toFixed(0) + ' fps', state.kbps + ' kb/s'];
    var barcode = state.lastBarcode;
    // Only a fresh reading: a stale latency next to live numbers would mislead.
    if (barcode && session.lastPictureAt > now - 1000) parts.push(Math.round(barcode.latencyMs) + ' ms');
    statsEl.textContent = parts.join(' · ');
  }

  function onVisibilityChange() {
    if (document.visibilityState === 'hidden') {
      clearTimeout(retryTimer);
      retryTimer = 0;
      if (session) endSession(session, false);
      setStatus('paused');
    } else {
      // The server replays the current GOP to a new viewer, so reconnecting shows a picture at once.
      backoffMs = BACKOFF_MIN_MS;
      connect();
    }
  }

  function fullscreenElement() {
    return document.fullscreenElement || document.webkitFullscreenElement || null;
  }

  function toggleFullscreen() {
    var root = document.documentElement;
    var result;
    if (fullscreenElement()) {
      result = (document.exitFullscreen || document.webkitExitFullscreen).call(document);
    } else {
      result = (root.requestFullscreen || root.webkitRequestFullscreen).call(root);
    }
    // Browsers may refuse (no user gesture, iframe without allowfullscreen); nothing to do about it here.
    if (result && typeof result.catch === 'function') result.catch(function () {});
  }

  function initFullscreen() {
    var root = document.documentElement;
    if (!root.requestFullscreen && !root.webkitRequestFullscreen) {
      // iPhone Safari: no element fullscreen; "Add to Home Screen" gives a full-screen page instead.
      fullscreenButton.hidden = true;
      return;
    }
    fullscreenButton.addEventListener('click', toggleFullscreen);
    canvas.addEventListener('dblclick', toggleFullscreen);
  }

  /**
   * Compiles JSMpeg's inlined WASM decoder once, before the first player: a player made while it compiles would
   * start its socket from a callback that outlives a destroyed player. Falls back to the JS decoder on failure.
   */
  function loadWasm(then) {
    var module = JSMpeg.WASMModule && JSMpeg.WASMModule.GetModule && window.WebAssembly && JSMpeg.WASMModule.GetModule();
    if (!module || !JSMpeg.WASM_BINARY_INLINED) {
      wasmFailed = true;
      then();
      return;
    }
    if (module.ready) {
      then();
      return;
    }
    var done = false;
    var finish = function (failed) {
      if (done) return;
      done = true;
      wasmFailed = failed;
      then();
    };
    try {
      module.loadFromBuffer(JSMpeg.Base64ToArrayBuffer(JSMpeg.WASM_BINARY_INLINED), function (m) {
        finish(!m);
      });
    } catch (err) {
      finish(true);
    }
    // JSMpeg does not report a rejected instantiate (e.g. a CSP without 'wasm-unsafe-eval'): don't wait forever.
    setTimeout(function () {
      if (!module.ready) finish(true);
    }, 10000);
  }

  if (!JSMpeg || !barcodeReader || !protocol) {
    setStatus('reconnecting');
    statusEl.textContent = JSMpeg ? 'page scripts failed to load' : 'player failed to load';
    return;
  }
  initFullscreen();
  document.addEventListener('visibilitychange', onVisibilityChange);
  setInterval(watchdog, 250);
  setInterval(updateHud, 1000);
  loadWasm(connect);
})();
