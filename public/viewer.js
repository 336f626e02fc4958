/*
 * pistream viewer. Plays the server's MPEG-TS/MPEG-1 stream from `stream` (relative to this page) with JSMpeg
 * (@cycjimmy/jsmpeg-player, served at vendor/), and adds what the stock player lacks for live viewing:
 *
 * - each picture is decoded in the handler of the message that brings it, not on the next animation frame (stock
 *   JSMpeg decodes one picture per animation frame, so a picture waits up to a refresh, and a backlog after any
 *   hiccup never drains), and painted at once unless a paint already waits for the next frame;
 * - on joining, the replayed GOP's keyframe is painted alone at once, and the rest of the burst decoded right after
 *   the frame that shows it;
 * - one fresh player per connection, reconnecting with backoff, a status line, and no socket while the tab is
 *   hidden (a hidden tab would otherwise buffer stale pictures);
 * - while connected without pictures ("camera offline"), the server's reason under the status line, asked of
 *   `healthz` (next to this page) every 2 s, and only then;
 * - acknowledgements of decoded pictures back to the server, which uses them to spot slow viewers;
 * - a stats HUD while live, and glass-to-glass latency from the test pattern's barcode, exposed on
 *   `window.pistream`.
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
  /** While offline, the server is asked why (`healthz`) this often; never while pictures flow. */
  var HEALTH_POLL_MS = 2000;
  /** A `healthz` request unanswered after this long is given up (and asked again at the next poll). */
  var HEALTH_TIMEOUT_MS = 5000;
  /** The reason shown under the status: one line, at most this many characters. */
  var MAX_REASON_CHARS = 200;
  /** Source kinds (healthz's `source`) that are cameras: the page calls only these a camera. */
  var CAMERA_SOURCES = { rpicam: true, libcamera: true, raspivid: true, v4l2: true };
  /** The HUD's first figures after going live wait until they cover at least this long. */
  var HUD_MIN_WINDOW_MS = 500;
  var GLASS_TITLE =
    "Glass-to-glass latency: time from the picture's capture to its decoding in this page, " +
    "read from the test pattern's barcode (no figure without the barcode)";
  /** Acks are rate-limited to one per this many ms. */
  var ACK_INTERVAL_MS = 100;
  var MAX_LATENCIES = 1000;
  /** A bound on one go's decoding, so a huge backlog cannot freeze the page; the rest follows in the next task. */
  var MAX_DECODES_PER_TICK = 240;
  /** The join's catch-up runs after the next animation frame, or after this long if frames do not come. */
  var CATCH_UP_FALLBACK_MS = 100;
  /** Smaller than JSMpeg's 512 KiB default: the decoder's buffer bounds the worst-case backlog. */
  var VIDEO_BUFFER_SIZE = 256 * 1024;

  var TWO_32 = 4294967296;

  /**
   * When pictures are decoded and painted. 'message' (the default): in the handler of the message that brings
   * them. 'frame' (`?paint=frame`): everything buffered on each animation frame, as the page did before; kept so
   * the benchmark can compare the two in one run.
   */
  var PAINT_MODE = new URL(window.location.href).searchParams.get('paint') === 'frame' ? 'frame' : 'message';

  var JSMpeg = window.JSMpeg;
  /** The barcode reader and the control messages, shared with the server (barcode.js, protocol.js). */
  var barcodeReader = window.pistreamBarcode;
  var protocol = window.pistreamProtocol;
  var canvas = document.getElementById('video');
  var statusEl = document.getElementById('status');
  var reasonEl = document.getElementById('reason');
  var statsEl = document.getElementById('stats');
  /** The HUD's latency figure, with a tooltip saying what it measures (placed into statsEl while shown). */
  var glassEl = document.createElement('span');
  glassEl.id = 'glass';
  glassEl.title = GLASS_TITLE;
  var fullscreenButton = document.getElementById('fullscreen');

  /** What tests and the benchmark read. */
  var state = {
    /**
     * 'connecting' | 'live' | 'reconnecting' | 'paused' | 'camera offline' (connected, no picture for a while;
     * the state keeps that name for every source, but the page says "camera offline" only when /healthz names a
     * camera as the source, and "stream offline" otherwise).
     */
    status: 'connecting',
    /** What feeds the stream, from /healthz's `source` (e.g. 'rpicam', 'file', 'test'); null until it said. */
    source: null,
    /** The server's reason shown under "offline" (one line), or null when none is shown. */
    reason: null,
    /** Requests to /healthz since the page loaded (made only while offline). */
    healthChecks: 0,
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
    /** 'message' | 'frame': see PAINT_MODE. */
    paintMode: PAINT_MODE,
    /**
     * Pictures decoded, by where the decoding ran: in a socket's message handler, in an animation frame callback,
     * in a join's catch-up (a task after the first picture's frame), or anywhere else (a bug).
     */
    decodes: { message: 0, frame: 0, catchUp: 0, other: 0 },
    /** Most pictures decoded in one go (1 normally; more after a hiccup, as the backlog drains). */
    maxDecodesPerTick: 0,
    /** JSMpeg's decoder and renderer in use: 'wasm' | 'js', 'webgl' | 'canvas2d' (null before the first player). */
    decoder: null,
    renderer: null,
    /** Pictures painted since the page loaded. */
    painted: 0,
    /**
     * Paints by when they ran: at once (in the handler that decoded the picture, or the join's catch-up), or in an
     * animation frame (paint=frame; or the newest picture held while an earlier paint waited for that frame).
     */
    paints: { atOnce: 0, inFrame: 0 },
    /** The barcode frame number of the picture painted last (null: none yet, or it had no barcode). */
    paintedFrame: null,
    /**
     * The current connection's join: pictures decoded on it when its first picture was painted, that picture's
     * barcode frame, and once the catch-up after it has run, the pictures it decoded and the newest one's frame.
     */
    join: null,
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
  /** Where decoding runs right now ('message' | 'frame' | 'catchUp'), or null: see state.decodes. */
  var decodeContext = null;

  /**
   * The /healthz polls: the timer of the next one, the request under way (`busy`, its give-up timer and abort
   * controller), and a generation that outdates answers still on their way once polling stops.
   */
  var health = { timer: 0, busy: false, requestTimer: 0, controller: null, generation: 0 };

  function setStatus(status) {
    if (state.status === status) return;
    state.status = status;
    statusEl.setAttribute('data-state', status);
    showStatus();
    // The HUD's numbers describe a live stream: none beside "reconnecting…" or "offline" (not even for a second).
    if (status !== 'live') clearHud();
    else resetHudWindow();
    if (status === 'camera offline') startHealthPolls();
    else stopHealthPolls();
  }

  function showStatus() {
    var status = state.status;
    var text = status;
    if (status === 'connecting' || status === 'reconnecting') text = status + '…';
    // A file or the test pattern is no camera; a source the page does not know is only "the stream".
    else if (status === 'camera offline') text = CAMERA_SOURCES.hasOwnProperty(state.source) ? 'camera offline' : 'stream offline';
    statusEl.textContent = text;
  }

  /** `healthz` next to this page (so it works under a route prefix), passing on `?token=` as the socket does. */
  function healthUrl() {
    var url = new URL('healthz', window.location.href);
    url.hash = '';
    url.search = '';
    var token = new URL(window.location.href).searchParams.get('token');
    if (token) url.searchParams.set('token', token);
    return url.href;
  }

  function startHealthPolls() {
    if (health.timer || health.busy) return;
    pollHealth();
  }

  /** Stops asking, forgets any answer still on its way, and hides the reason. */
  function stopHealthPolls() {
    health.generation++;
    clearTimeout(health.timer);
    clearTimeout(health.requestTimer);
    health.timer = health.requestTimer = 0;
    if (health.controller) health.controller.abort();
    health.controller = null;
    health.busy = false;
    showReason(null);
  }

  /**
   * Asks /healthz why there are no pictures, then again every HEALTH_POLL_MS while still offline. An answer that
   * is not health JSON (401: health needs credentials the page lacks; 404: no /healthz under a host app) or no
   * answer at all shows nothing extra.
   */
  function pollHealth() {
    health.timer = 0;
    if (typeof window.fetch !== 'function') return;
    var generation = health.generation;
    var controller = typeof window.AbortController === 'function' ? new window.AbortController() : null;
    health.controller = controller;
    health.busy = true;
    health.requestTimer = setTimeout(function () {
      if (controller) controller.abort();
    }, HEALTH_TIMEOUT_MS);
    state.healthChecks++;
    var current = function () {
      return generation === health.generation;
    };
    window
      .fetch(healthUrl(), {
        cache: 'no-store',
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        signal: controller ? controller.signal : undefined,
      })
      .then(function (res) {
        var type = res.headers.get('content-type') || '';
        // 503 is what a failing pipeline answers; its body says why.
        if ((res.status !== 200 && res.status !== 503) || type.indexOf('application/json') !== 0) return null;
        return res.json();
      })
      .then(
        function (body) {
          if (current()) onHealth(body);
        },
        function () {
          if (current()) onHealth(null);
        }
      )
      .then(function () {
        if (!current()) return;
        clearTimeout(health.requestTimer);
        health.requestTimer = 0;
        health.controller = null;
        health.busy = false;
        health.timer = setTimeout(pollHealth, HEALTH_POLL_MS);
      });
  }

  function onHealth(body) {
    if (!body || typeof body !== 'object') {
      showReason(null);
      return;
    }
    if (typeof body.source === 'string' && body.source !== state.source) {
      state.source = body.source;
      showStatus();
    }
    showReason(body.status === 'failing' && typeof body.reason === 'string' ? body.reason : null);
  }

  /** The reason as one short line: no stack frames, no line breaks, at most MAX_REASON_CHARS. */
  function oneLine(text) {
    var lines = String(text).split(/\r?\n|\r/);
    var kept = [];
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i].replace(/\s+/g, ' ').trim();
      if (line && !/^at\s/.test(line)) kept.push(line);
    }
    var joined = kept.join(' | ');
    return joined.length > MAX_REASON_CHARS ? joined.slice(0, MAX_REASON_CHARS - 1).trim() + '…' : joined;
  }

  function showReason(text) {
    if (!reasonEl) return;
    var line = text ? oneLine(text) : '';
    state.reason = line || null;
    if (reasonEl.textContent !== line) reasonEl.textContent = line;
    reasonEl.hidden = !line;
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

  /** Counts and reads one decoded picture; returns its barcode frame number, or null. */
  function onPictureDecoded(s, y) {
    state.decodes[decodeContext || 'other']++;
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
      return barcode.frame;
    }
    return null;
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
      decodeContext = 'message';
      try {
        source.established = true;
        state.bytes += ev.data.byteLength;
        source.destination.write(ev.data);
        onData(s);
      } finally {
        decodeContext = null;
      }
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
   * Decodes up to `max` buffered pictures; returns how many it decoded. The decoder hands each picture to its
   * destination (`render`, see {@link installDecoding}), which reads its barcode (so latency counts each one) and
   * keeps only the last as `s.pending`, for painting. Its planes stay valid until the next decode, which replaces
   * it with a newer picture.
   */
  function decodeAll(s, max) {
    var n = 0;
    while (n < max && decodeNext(s.player.video)) n++;
    if (n > state.maxDecodesPerTick) state.maxDecodesPerTick = n;
    // Acks count decoded pictures: sent now, whether or not the picture is painted yet.
    if (n > 0) sendAck(s);
    return n;
  }

  /** Paints the newest decoded picture, if there is one not painted yet. */
  function paintPending(s, inFrame) {
    var p = s.pending;
    if (!p) return;
    s.pending = null;
    s.player.renderer.render(p[0], p[1], p[2], p[3]);
    state.paints[inFrame ? 'inFrame' : 'atOnce']++;
    onPainted(s, p[4]);
  }

  /**
   * paint=message: paints the newest decoded picture at once, unless an earlier paint still waits for the next
   * animation frame. The browser shows a canvas at its next composite, whether it was drawn in a message handler or
   * in that frame's callback, so a newer picture arriving before the frame is held (one slot, always the newest)
   * and painted in the frame's callback: on screen in the same frame, one paint instead of several. While
   * pictures keep coming faster than frames (a slow compositor, e.g. software GL), each frame paints the newest;
   * once a frame finds nothing held, the next picture is painted at once again.
   */
  function paintNewest(s) {
    if (!s.pending || s.paintFrame) return;
    paintPending(s, false);
    awaitFrame(s);
  }

  function awaitFrame(s) {
    s.paintFrame = requestAnimationFrame(function () {
      s.paintFrame = 0;
      if (session !== s || !s.pending) return;
      paintPending(s, true);
      awaitFrame(s);
    });
  }

  /**
   * A message has been demuxed (paint=message): decode every complete picture now and paint the newest. Except
   * on joining: the server replays the current GOP, up to a second of pictures at once, and decoding all of it
   * before the first paint would keep the screen empty for as long. So the first picture (the keyframe) is
   * decoded and painted alone, and the rest, with whatever arrives meanwhile, waits for the catch-up after the
   * frame that shows it.
   */
  function onData(s) {
    if (PAINT_MODE !== 'message' || session !== s || s.catchUpPending) return;
    if (s.painted === 0) {
      if (decodeAll(s, 1) > 0) {
        paintNewest(s);
        scheduleCatchUp(s, true);
      }
      return;
    }
    var n = decodeAll(s, MAX_DECODES_PER_TICK);
    paintNewest(s);
    if (n === MAX_DECODES_PER_TICK) scheduleCatchUp(s, false);
  }

  /**
   * Decodes everything buffered in a task of its own and paints the newest: `afterFrame`, once the next animation
   * frame has rendered (a task queued from a frame callback runs after that frame's rendering), so the picture
   * painted just before reaches the screen first; otherwise in the next task (the rest of a backlog over
   * MAX_DECODES_PER_TICK). Messages arriving meanwhile are only demuxed; the catch-up decodes them too.
   */
  function scheduleCatchUp(s, afterFrame) {
    s.catchUpPending = true;
    var run = function () {
      if (!s.catchUpPending || session !== s) return;
      s.catchUpPending = false;
      clearTimeout(s.catchUpTimer);
      cancelAnimationFrame(s.catchUpFrame);
      decodeContext = 'catchUp';
      try {
        var n = decodeAll(s, MAX_DECODES_PER_TICK);
        if (s.join && s.join.catchUpDecodes === null) {
          s.join.catchUpDecodes = n;
          s.join.frameAfterCatchUp = s.pending ? s.pending[4] : state.paintedFrame;
        }
        paintNewest(s);
        if (n === MAX_DECODES_PER_TICK) scheduleCatchUp(s, false);
      } finally {
        decodeContext = null;
      }
    };
    if (afterFrame) {
      s.catchUpFrame = requestAnimationFrame(function () {
        setTimeout(run, 0);
      });
      // Animation frames may not come (an occluded window): don't leave the rest of the burst undecoded.
      s.catchUpTimer = setTimeout(run, CATCH_UP_FALLBACK_MS);
    } else {
      s.catchUpTimer = setTimeout(run, 0);
    }
  }

  /** paint=frame: the previous behaviour, everything buffered decoded on each animation frame. */
  function startFrameLoop(s) {
    var tick = function () {
      if (session !== s) return;
      s.frameLoop = requestAnimationFrame(tick);
      decodeContext = 'frame';
      try {
        decodeAll(s, MAX_DECODES_PER_TICK);
        paintPending(s, true);
      } finally {
        decodeContext = null;
      }
    };
    s.frameLoop = requestAnimationFrame(tick);
  }

  /**
   * Takes decoding and painting over from the player: its own loop (one picture per animation frame) is stopped,
   * and the decoder's destination is the page, which reads every picture and paints as PAINT_MODE says.
   */
  function installDecoding(s, player) {
    var renderer = player.renderer;
    // The player started its animation-frame loop in its constructor (the WASM module is compiled by then); should
    // it ever start it later, its streaming step does nothing.
    player.pause();
    player.updateForStreaming = function () {};
    player.video.connect({
      resize: function (width, height) {
        s.width = width;
        s.height = height;
        renderer.resize(width, height);
      },
      render: function (y, c1, c2, isClamped) {
        var frame = onPictureDecoded(s, y);
        s.pending = [y, c1, c2, isClamped, frame];
      },
    });
    // Keep the last picture on screen while reconnecting, instead of JSMpeg's loading bar.
    renderer.renderProgress = function () {};
    if (PAINT_MODE === 'frame') startFrameLoop(s);
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
      /** The newest decoded picture, not painted yet: [y, cr, cb, isClamped, barcode frame]. */
      pending: null,
      painted: 0,
      join: null,
      catchUpPending: false,
      catchUpTimer: 0,
      catchUpFrame: 0,
      frameLoop: 0,
      /** paint=message: the animation frame an earlier paint waits for (0: none). */
      paintFrame: 0,
    };
    session = s;
    s.player = new JSMpeg.Player(streamUrl(), {
      source: PageSource,
      session: s,
      canvas: canvas,
      audio: false,
      videoBufferSize: VIDEO_BUFFER_SIZE,
      disableWebAssembly: wasmFailed,
      // The page decodes every picture itself (installDecoding), the first one included.
      decodeFirstFrame: false,
      // Visibility is handled here: the socket is closed while hidden, not just the drawing paused.
      pauseWhenHidden: false,
    });
    installDecoding(s, s.player);
    state.decoder = s.player.video instanceof JSMpeg.Decoder.MPEG1VideoWASM ? 'wasm' : 'js';
    state.renderer = s.player.renderer instanceof JSMpeg.Renderer.WebGL ? 'webgl' : 'canvas2d';
  }

  /** Ends the session's player and socket; `retry` says whether to connect again after the backoff. */
  function endSession(s, retry) {
    if (session !== s) return;
    session = null;
    clearTimeout(s.ackTimer);
    clearTimeout(s.catchUpTimer);
    cancelAnimationFrame(s.catchUpFrame);
    cancelAnimationFrame(s.frameLoop);
    cancelAnimationFrame(s.paintFrame);
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

  function onPainted(s, frame) {
    if (session !== s) return;
    state.painted++;
    state.paintedFrame = frame;
    if (s.painted++ === 0) {
      s.join = state.join = { decodedAtFirstPaint: s.decoded, firstFrame: frame, catchUpDecodes: null, frameAfterCatchUp: null };
    }
    if (state.timings.openToFirstPaint === null && s.open) state.timings.openToFirstPaint = performance.now() - s.openedAt;
    if (state.status !== 'live') {
      everLive = true;
      backoffMs = BACKOFF_MIN_MS;
      setStatus('live');
    }
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

  /** The HUD's next figures count from now. */
  function resetHudWindow() {
    hudLast = { at: performance.now(), frames: state.frames, bytes: state.bytes };
  }

  function clearHud() {
    state.fps = 0;
    state.kbps = 0;
    statsEl.textContent = '';
  }

  /** fps and kb/s over the last second, and the newest glass-to-glass latency; shown only while live. */
  function updateHud() {
    if (state.status !== 'live' || !session || !session.open) {
      clearHud();
      resetHudWindow();
      return;
    }
    var now = performance.now();
    var dt = now - hudLast.at;
    if (dt < HUD_MIN_WINDOW_MS) return;
    state.fps = Math.round(((state.frames - hudLast.frames) * 10000) / dt) / 10;
    state.kbps = Math.round(((state.bytes - hudLast.bytes) * 8) / dt);
    hudLast = { at: now, frames: state.frames, bytes: state.bytes };
    statsEl.textContent = state.fps.toFixed(0) + ' fps · ' + state.kbps + ' kb/s';
    var barcode = state.lastBarcode;
    // Only a fresh reading: a stale latency next to live numbers would mislead.
    if (barcode && session.lastPictureAt > now - 1000) {
      glassEl.textContent = 'glass ' + Math.round(barcode.latencyMs) + ' ms';
      statsEl.appendChild(document.createTextNode(' · '));
      statsEl.appendChild(glassEl);
    }
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
