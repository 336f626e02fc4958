/*
 * pistream viewer core: everything about watching a live stream that does not depend on how it is decoded. One
 * player at a time plugs into it (jsmpeg-player.js for MPEG-1, webcodecs-player.js or mse-player.js for H.264;
 * viewer.js picks one); the core owns the rest:
 *
 * - one socket per connection (to the player's `path`, next to this page, passing on `?token=`), reconnecting with
 *   backoff, and no socket while the tab is hidden (a hidden tab would otherwise buffer stale pictures);
 * - the status line; while connected without pictures ("camera offline"), the server's reason under it
 *   (offline-reason.js); or, when nothing can play in this browser, the reason in words;
 * - acknowledgements of handled pictures back to the server, which uses them to spot slow viewers;
 * - a stats HUD while live (naming the codec and player), and glass-to-glass latency from the test pattern's
 *   barcode, exposed on `window.pistream`.
 *
 * A player is `{ id, label, path, install(state)?, open(session) → { message(arrayBuffer), close() } }`: `open`
 * is called once per connection, before its socket opens; the connection reports back through
 * `pistreamViewer.pictureDecoded / barcodeRead / painted / ack`.
 *
 * Plain script, no build step; the page's CSP allows no inline script or style. Loaded after barcode.js,
 * protocol.js, offline-reason.js and fullscreen.js, before the players and viewer.js.
 */
(function () {
  'use strict';

  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 5000;
  /** Connected but no picture for this long: the camera (or encoder) is down, not the network. */
  var OFFLINE_AFTER_MS = 3000;
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

  var TWO_32 = 4294967296;

  var protocol = window.pistreamProtocol;
  var canvas = document.getElementById('video');
  var statusEl = document.getElementById('status');
  var reasonEl = document.getElementById('reason');
  var statsEl = document.getElementById('stats');
  /** The HUD's codec and player ("H.264 · WebCodecs"), shown beside the figures while live. */
  var pathEl = document.getElementById('path');
  /** The HUD's latency figure, with a tooltip saying what it measures (placed into statsEl while shown). */
  var glassEl = document.createElement('span');
  glassEl.id = 'glass';
  glassEl.title = GLASS_TITLE;
  var fullscreenButton = document.getElementById('fullscreen');

  /** What tests and the benchmark read; each player adds fields of its own (install). */
  var state = {
    /**
     * 'connecting' | 'live' | 'reconnecting' | 'paused' | 'camera offline' (connected, no picture for a while;
     * the state keeps that name for every source, but the page says "camera offline" only when /healthz names a
     * camera as the source, and "stream offline" otherwise) | 'unsupported' (nothing this page can play: see
     * `unsupported`).
     */
    status: 'connecting',
    /** Why nothing can play in this browser (shown as the status line), or null. */
    unsupported: null,
    /** The player in use: 'webcodecs' | 'mse' | 'jsmpeg', null until chosen (or when none can play). */
    player: null,
    /** The server's codec, from `streams`: 'h264' | 'mpeg1' ('mpeg1' for a server without `streams`). */
    codec: null,
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
    /** Pictures painted since the page loaded. */
    painted: 0,
    /** The source frame number of the picture painted last (null: none yet, or not known). */
    paintedFrame: null,
    /**
     * The first connection's milestones (ms, from performance.now()): navigation start → socket open, and socket
     * open → first picture decoded / first picture painted (null until they happen).
     */
    timings: { navigationToOpen: null, openToFirstPicture: null, openToFirstPaint: null },
  };
  window.pistream = state;

  /** The chosen player (see the file comment), or null until start(). */
  var player = null;
  /** The current connection, or null while waiting to reconnect or hidden. */
  var session = null;
  var everLive = false;
  var backoffMs = BACKOFF_MIN_MS;
  var retryTimer = 0;
  /** A transient word from the player for the HUD (e.g. "resyncing…"), or null. */
  var note = null;
  /** The server's reason while offline (offline-reason.js). */
  var offlineReason = window.pistreamOfflineReason({
    state: state,
    reasonEl: reasonEl,
    healthUrl: function () {
      return pageUrl('healthz');
    },
    onSource: showStatus,
  });

  function setStatus(status) {
    if (state.status === status) return;
    state.status = status;
    statusEl.setAttribute('data-state', status);
    showStatus();
    // The HUD's numbers describe a live stream: none beside "reconnecting…" or "offline" (not even for a second).
    if (status !== 'live') clearHud();
    else resetHudWindow();
    if (status === 'camera offline') offlineReason.start();
    else offlineReason.stop();
  }

  function showStatus() {
    var status = state.status;
    var text = status;
    if (status === 'connecting' || status === 'reconnecting') text = status + '…';
    // A file or the test pattern is no camera; a source the page does not know is only "the stream".
    else if (status === 'camera offline') text = CAMERA_SOURCES.hasOwnProperty(state.source) ? 'camera offline' : 'stream offline';
    else if (status === 'unsupported') text = state.unsupported;
    statusEl.textContent = text;
  }

  /**
   * `name` next to this page (so it works under a route prefix, /cam/), passing on `?token=` as the page got it
   * (pistream --token); Basic credentials the browser sends by itself. `socket`: as a ws:// or wss:// URL.
   */
  function pageUrl(name, socket) {
    var url = new URL(name, window.location.href);
    if (socket) url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    url.search = '';
    var token = new URL(window.location.href).searchParams.get('token');
    if (token) url.searchParams.set('token', token);
    return url.href;
  }

  /** Milliseconds from a mod-2^32 capture time to `now` (ms since the epoch), undoing the wrap. */
  function barcodeAge(time, now) {
    var age = (now % TWO_32) - time;
    if (age < -TWO_32 / 2) age += TWO_32;
    if (age > TWO_32 / 2) age -= TWO_32;
    return age;
  }

  /** A player's connection decoded a picture (count it; its barcode, if any, follows through barcodeRead). */
  function pictureDecoded(s) {
    s.lastPictureAt = performance.now();
    if (state.timings.openToFirstPicture === null && s.open) state.timings.openToFirstPicture = s.lastPictureAt - s.openedAt;
    state.frames++;
  }

  /**
   * Records a barcode read from a picture decoded at `decodedAt` (ms since the epoch; default now); one that
   * `decodedAt` would make younger than zero is taken as shown now. Returns its frame number, or null when the
   * picture had none.
   */
  function barcodeRead(barcode, decodedAt) {
    if (!barcode) return null;
    var latencyMs = barcodeAge(barcode.time, decodedAt === undefined ? Date.now() : decodedAt);
    // Read before it was captured: the picture read is newer than the one `decodedAt` stands for (a video element
    // can show the next picture between the frame callback and the read). It was on screen by now, at the latest.
    if (latencyMs < 0 && decodedAt !== undefined) latencyMs = barcodeAge(barcode.time, Date.now());
    state.lastBarcode = { frame: barcode.frame, time: barcode.time, latencyMs: latencyMs };
    state.latencies.push(latencyMs);
    if (state.latencies.length > MAX_LATENCIES) state.latencies.shift();
    return barcode.frame;
  }

  /** A picture of connection `s` reached the canvas; returns true for the connection's first paint. */
  function painted(s, frame) {
    if (session !== s) return false;
    state.painted++;
    state.paintedFrame = frame;
    var first = s.painted++ === 0;
    if (state.timings.openToFirstPaint === null && s.open) state.timings.openToFirstPaint = performance.now() - s.openedAt;
    if (state.status !== 'live') {
      everLive = true;
      backoffMs = BACKOFF_MIN_MS;
      setStatus('live');
    }
    return first;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (session || !player || state.status === 'unsupported') return;
    if (document.visibilityState === 'hidden') {
      // Opened in a background tab: connect when first shown.
      setStatus('paused');
      return;
    }
    setStatus(everLive ? 'reconnecting' : 'connecting');
    var s = {
      socket: null,
      open: false,
      openedAt: 0,
      lastPictureAt: 0,
      /** Pictures this connection is done with (decoded, or dropped by the page): what acks count. */
      handled: 0,
      acked: 0,
      lastAckAt: -Infinity,
      ackTimer: 0,
      painted: 0,
      /** The player's side of this connection. */
      connection: null,
    };
    session = s;
    s.connection = player.open(s);
    var socket;
    try {
      socket = new WebSocket(pageUrl(player.path, true));
    } catch (err) {
      // e.g. a CSP or mixed-content refusal: treat it as a failed connection, retried with backoff.
      setTimeout(function () {
        onClose(s);
      }, 0);
      return;
    }
    socket.binaryType = 'arraybuffer';
    socket.onopen = function () {
      onOpen(s);
    };
    socket.onmessage = function (ev) {
      // The server sends only binary pictures; anything else is not for the player.
      if (typeof ev.data === 'string' || session !== s) return;
      state.bytes += ev.data.byteLength;
      s.connection.message(ev.data);
    };
    // An error is always followed by close; handle the end once, there.
    socket.onclose = function () {
      onClose(s);
    };
    s.socket = socket;
  }

  /** Ends the session's player and socket; `retry` says whether to connect again after the backoff. */
  function endSession(s, retry) {
    if (session !== s) return;
    session = null;
    clearTimeout(s.ackTimer);
    s.connection.close();
    var socket = s.socket;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close();
    }
    setNote(null);
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

  /** Tells the server how many pictures this connection has handled; at most one message per ACK_INTERVAL_MS. */
  function sendAck(s) {
    if (!s.open || s.acked === s.handled || s.ackTimer || session !== s) return;
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
    s.socket.send(protocol.ackMessage(s.handled));
    s.acked = s.handled;
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
    if (pathEl) pathEl.textContent = '';
  }

  function showPath() {
    if (!pathEl || !player) return;
    pathEl.textContent = player.label + (note ? ' · ' + note : '');
  }

  /** A transient word from the player for the HUD (null to remove it), e.g. "resyncing…". */
  function setNote(text) {
    if (note === text) return;
    note = text;
    if (state.status === 'live') showPath();
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
    showPath();
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
    if (!player || state.status === 'unsupported') return;
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

  /** Starts watching with `player` (see the file comment): connects now, or when the tab is first shown. */
  function start(chosen) {
    player = chosen;
    state.player = chosen.id;
    if (chosen.install) chosen.install(state);
    connect();
  }

  /** Nothing can play here: says why in the status line, and stops (no socket, no retries). */
  function unsupported(text) {
    state.unsupported = text;
    state.player = null;
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (session) endSession(session, false);
    setStatus('unsupported');
    showStatus();
  }

  // Double-click anywhere on the picture: the canvas, or the MSE player's video in its place.
  window.pistreamFullscreen(fullscreenButton, document.getElementById('stage') || canvas);
  document.addEventListener('visibilitychange', onVisibilityChange);
  setInterval(watchdog, 250);
  setInterval(updateHud, 1000);

  window.pistreamViewer = {
    state: state,
    canvas: canvas,
    pageUrl: pageUrl,
    start: start,
    unsupported: unsupported,
    /** Whether `s` is still the current connection. */
    isCurrent: function (s) {
      return session === s;
    },
    pictureDecoded: pictureDecoded,
    barcodeRead: barcodeRead,
    painted: painted,
    ack: sendAck,
    setNote: setNote,
  };
})();
