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
 * A player (see Player in types/page.d.ts) is started with the path of its socket (`start(player, path)`); its
 * `open` is called once per connection, before the socket opens, and the session it returns gets every message
 * (a player with a connection of its own, WebRTC, is given the URL instead and reports its open and end);
 * the session reports back through `pistreamViewer.pictureDecoded / barcodeRead / painted / ack / setNote`.
 *
 * Plain script, no build step; the page's CSP allows no inline script or style. Loaded after barcode.js,
 * protocol.js, offline-reason.js, fullscreen.js and hud.js, before the players and viewer.js.
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

  var TWO_32 = 4294967296;

  var protocol = window.pistreamProtocol;
  // The page's own elements (index.html): there by construction.
  var canvas = /** @type {HTMLCanvasElement} */ (document.getElementById('video'));
  var statusEl = /** @type {HTMLElement} */ (document.getElementById('status'));
  var reasonEl = document.getElementById('reason');
  var fullscreenButton = /** @type {HTMLElement} */ (document.getElementById('fullscreen'));

  /** What tests and the benchmark read (page-state.js); each player adds fields of its own (install). */
  var state = window.pistream;

  /** The chosen player (see the file comment), or null until start(). */
  /** @type {Player | null} */
  var player = null;
  /** Its socket's path, next to the page ('h264'). */
  var playerPath = '';
  /** The ladder's next rung, for a player that cannot connect here before its first picture (see fallBack). */
  /** @type {((reason: string) => void) | null} */
  var fallback = null;
  /** The current connection, or null while waiting to reconnect or hidden. */
  /** @type {CoreConnection | null} */
  var session = null;
  var everLive = false;
  var backoffMs = BACKOFF_MIN_MS;
  var retryTimer = 0;
  /** The stats HUD (hud.js), shown while live. */
  var hud = window.pistreamHud({
    state: state,
    statsEl: /** @type {HTMLElement} */ (document.getElementById('stats')),
    /** The HUD's codec and player ("H.264 · WebCodecs"), shown beside the figures while live. */
    pathEl: document.getElementById('path'),
    label: function () {
      return player ? player.label : null;
    },
    liveSession: function () {
      return state.status === 'live' && session && session.open ? session : null;
    },
  });
  /** The server's reason while offline (offline-reason.js). */
  var offlineReason = window.pistreamOfflineReason({
    state: state,
    reasonEl: reasonEl,
    healthUrl: function () {
      return pageUrl('healthz');
    },
    onSource: showStatus,
  });

  /** @param {string} status */
  function setStatus(status) {
    if (state.status === status) return;
    state.status = status;
    statusEl.setAttribute('data-state', status);
    showStatus();
    // The HUD's numbers describe a live stream: none beside "reconnecting…" or "offline" (not even for a second).
    if (status !== 'live') hud.clear();
    else hud.resetWindow();
    if (status === 'camera offline') offlineReason.start();
    else offlineReason.stop();
  }

  function showStatus() {
    var status = state.status;
    var text = status;
    if (status === 'connecting' || status === 'reconnecting') text = status + '…';
    // A file or the test pattern is no camera; a source the page does not know is only "the stream".
    else if (status === 'camera offline') text = state.camera ? 'camera offline' : 'stream offline';
    else if (status === 'unsupported') text = state.unsupported || '';
    statusEl.textContent = text;
  }

  /**
   * `name` next to this page (so it works under a route prefix, /cam/), passing on `?token=` as the page got it
   * (pistream --token); Basic credentials the browser sends by itself. `socket`: as a ws:// or wss:// URL.
   * @param {string} name @param {boolean} [socket]
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

  /** Milliseconds from a mod-2^32 capture time to `now` (ms since the epoch), undoing the wrap. @param {number} time @param {number} now */
  function barcodeAge(time, now) {
    var age = (now % TWO_32) - time;
    if (age < -TWO_32 / 2) age += TWO_32;
    if (age > TWO_32 / 2) age -= TWO_32;
    return age;
  }

  /** A player's connection decoded a picture (count it; its barcode, if any, follows through barcodeRead). @param {CoreConnection} s */
  function pictureDecoded(s) {
    s.lastPictureAt = performance.now();
    if (state.timings.openToFirstPicture === null && s.open) state.timings.openToFirstPicture = s.lastPictureAt - s.openedAt;
    state.frames++;
  }

  /**
   * Records a barcode read from a picture decoded at `decodedAt` (ms since the epoch; default now); one that
   * `decodedAt` would make younger than zero is taken as shown now. Returns its frame number, or null when the
   * picture had none.
   * @param {BarcodeValue | null} barcode @param {number} [decodedAt]
   */
  function barcodeRead(barcode, decodedAt) {
    if (!barcode) return null;
    var latencyMs = barcodeAge(barcode.time, decodedAt === undefined ? Date.now() : decodedAt);
    // Read before it was captured, or the moment it was: the picture read is newer than the one `decodedAt` stands
    // for (a video element can show the next picture between the frame callback and the read; when glass-to-glass
    // is one frame interval, that reads as 0 ms, which no picture through an encoder takes). It was on screen by now,
    // at the latest.
    if (latencyMs <= 0 && decodedAt !== undefined) latencyMs = barcodeAge(barcode.time, Date.now());
    state.lastBarcode = { frame: barcode.frame, time: barcode.time, latencyMs: latencyMs };
    state.latencies.push(latencyMs);
    if (state.latencies.length > MAX_LATENCIES) state.latencies.shift();
    // Read after its picture was painted (WebCodecs copies the barcode out of the VideoFrame asynchronously, so
    // `painted` found the previous picture's barcode): that picture is on the canvas, for the A/V offset.
    if (state.paintedFrame === barcode.frame) showPicture(barcode.frame, latencyMs);
    return barcode.frame;
  }

  /** The frame number last told to the A/V offset as shown (each picture once, whichever of read and paint is last). */
  var shownFrame = /** @type {number | null} */ (null);

  /** Tells the A/V offset (av-offset.js) that picture `frame` is on screen now. @param {number} frame @param {number} latencyMs */
  function showPicture(frame, latencyMs) {
    if (frame === shownFrame) return;
    shownFrame = frame;
    window.pistreamAvOffset.shown(latencyMs);
  }

  /**
   * A picture of connection `s` reached the canvas; returns true for the connection's first paint.
   * @param {CoreConnection} s @param {number | null} frame
   */
  function painted(s, frame) {
    if (session !== s) return false;
    state.painted++;
    state.paintedFrame = frame;
    // The A/V offset (av-offset.js) needs what is on the canvas: the newest decoded picture, as a rule.
    var barcode = state.lastBarcode;
    if (barcode && frame !== null && barcode.frame === frame) showPicture(frame, barcode.latencyMs);
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
    /** @type {CoreConnection} */
    var s = {
      socket: null,
      open: false,
      openedAt: 0,
      lastPictureAt: 0,
      /** Pictures its player has taken (decoded, or handed to a decoder or a SourceBuffer, or dropped): what acks count. */
      handled: 0,
      acked: 0,
      lastAckAt: -Infinity,
      ackTimer: 0,
      painted: 0,
      /** The player's side of this connection. */
      connection: null,
    };
    session = s;
    var connection = (s.connection = player.open(s));
    if (connection.connect) {
      // The player's own connection (WebRTC): it reports its open and end through `opened` and `closed`.
      connection.connect(pageUrl(playerPath));
      return;
    }
    var socket;
    try {
      socket = new WebSocket(pageUrl(playerPath, true));
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
      connection.message(ev.data);
    };
    // An error is always followed by close; handle the end once, there.
    socket.onclose = function () {
      onClose(s);
    };
    s.socket = socket;
  }

  /**
   * Ends the session's player and socket; `retry` says whether to connect again after the backoff.
   * @param {CoreConnection} s @param {boolean} retry
   */
  function endSession(s, retry) {
    if (session !== s) return;
    session = null;
    clearTimeout(s.ackTimer);
    if (s.connection) s.connection.close();
    var socket = s.socket;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close();
    }
    hud.setNote(null);
    if (!retry) return;
    setStatus('reconnecting');
    retryTimer = setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
  }

  /** @param {CoreConnection} s */
  function onOpen(s) {
    s.open = true;
    s.openedAt = performance.now();
    if (state.timings.navigationToOpen === null) state.timings.navigationToOpen = s.openedAt;
    state.connections++;
  }

  /** @param {CoreConnection} s */
  function onClose(s) {
    s.open = false;
    endSession(s, true);
  }

  /**
   * Tells the server how many pictures this connection has handled; at most one message per ACK_INTERVAL_MS.
   * @param {CoreConnection} s
   */
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
    if (!s.socket || s.socket.readyState !== WebSocket.OPEN) return;
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

  /**
   * Starts watching with `chosen` on the socket at `path` (next to the page): connects now, or when the tab is first
   * shown.
   * `next`, when given, is what `fallBack` calls: the ladder's next rung.
   * @param {Player} chosen @param {string} path @param {(reason: string) => void} [next]
   */
  function start(chosen, path, next) {
    player = chosen;
    playerPath = path;
    fallback = next || null;
    state.player = chosen.id;
    if (chosen.install) chosen.install(state);
    connect();
  }

  /**
   * The player goes on at `path` instead (the MSE player, to its format with sound when the viewer turns sound on):
   * the connection ends and a new one opens at once (the server replays the current GOP: a picture at once).
   * @param {string} path
   */
  function switchPath(path) {
    if (!player || playerPath === path || state.status === 'unsupported') return;
    playerPath = path;
    if (!session) return;
    endSession(session, false);
    backoffMs = BACKOFF_MIN_MS;
    connect();
  }

  /**
   * The player cannot connect here (WebRTC with its UDP port blocked): before any picture was shown, its session ends
   * and the ladder's next rung is tried, told `reason`; returns false (and does nothing) once live or without a
   * next rung, when the player reconnects as usual.
   * @param {string} reason
   */
  function fallBack(reason) {
    if (everLive || !fallback) return false;
    var next = fallback;
    fallback = null;
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (session) endSession(session, false);
    player = null;
    state.player = null;
    next(reason);
    return true;
  }

  /** Nothing can play here: says why in the status line, and stops (no socket, no retries). @param {string} text */
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
  setInterval(hud.update, 1000);

  /** @type {ViewerCore} */
  var core = {
    state: state,
    canvas: canvas,
    pageUrl: pageUrl,
    start: start,
    unsupported: unsupported,
    /** Whether `s` is still the current connection. @param {CoreConnection} s */
    isCurrent: function (s) {
      return session === s;
    },
    pictureDecoded: pictureDecoded,
    barcodeRead: barcodeRead,
    painted: painted,
    ack: sendAck,
    setNote: hud.setNote,
    opened: onOpen,
    closed: onClose,
    fallBack: fallBack,
    switchPath: switchPath,
  };
  window.pistreamViewer = core;
})();
