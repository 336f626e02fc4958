/*
 * pistream viewer: chooses how to play, then hands the chosen player to the viewer core (viewer-core.js).
 *
 * The ladder: the page asks `streams` (next to it) what the server sends. For an H.264 server it plays through
 * WebCodecs (webcodecs-player.js, on `h264`) when the page is a secure context and the browser's VideoDecoder
 * takes H.264 with optimizeForLatency; else through Media Source Extensions (mse-player.js, on `fmp4`, fragmented
 * MP4) when the server sends it and the browser has MediaSource (or ManagedMediaSource, iPhone) playing H.264;
 * else through JSMpeg when the server also sends MPEG-1 (`stream`); else the status line says in words why
 * nothing can play. For an MPEG-1 server, and for a server without `streams` (older, or a network error), JSMpeg
 * on `stream` (jsmpeg-player.js), as before. `?player=webcodecs|mse|jsmpeg` forces one path; forcing one that
 * cannot work here says why.
 *
 * Plain script, no build step; loaded last, after barcode.js, protocol.js, viewer-core.js and the
 * players.
 */
(function () {
  'use strict';

  /** `streams` unanswered after this long: play as an older server would be played (JSMpeg on `stream`). */
  var STREAMS_TIMEOUT_MS = 5000;

  var core = window.pistreamViewer;
  var players = window.pistreamPlayers || {};
  /** What `?player=` takes, in the ladder's order. */
  var PLAYER_IDS = ['webcodecs', 'mse', 'jsmpeg'];
  var statusEl = document.getElementById('status');

  /** What the server sends (`streams`' JSON), or null when it would not say (404 from an older server, offline). */
  function fetchStreams(then) {
    if (typeof window.fetch !== 'function') return then(null);
    var controller = typeof window.AbortController === 'function' ? new window.AbortController() : null;
    var timer = setTimeout(function () {
      if (controller) controller.abort();
    }, STREAMS_TIMEOUT_MS);
    window
      .fetch(core.pageUrl('streams'), {
        cache: 'no-store',
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        signal: controller ? controller.signal : undefined,
      })
      .then(function (res) {
        var type = res.headers.get('content-type') || '';
        return res.ok && type.indexOf('application/json') === 0 ? res.json() : null;
      })
      .then(null, function () {
        return null;
      })
      .then(function (body) {
        clearTimeout(timer);
        then(body && typeof body === 'object' && typeof body.codec === 'string' ? body : null);
      });
  }

  /** The server's format at `path` ('/h264'), as a path next to the page ('h264'), or null when it has none. */
  function formatPath(streams, path) {
    var formats = streams && Array.isArray(streams.formats) ? streams.formats : [];
    for (var i = 0; i < formats.length; i++) {
      if (formats[i] && formats[i].path === path) return formats[i].path.replace(/^\//, '');
    }
    return null;
  }

  /** `player` on the socket at `path` (next to the page). */
  function withPath(player, path) {
    var chosen = Object.create(player);
    chosen.path = path;
    return chosen;
  }

  function playJsmpeg(path) {
    var jsmpeg = players.jsmpeg;
    var problem = jsmpeg ? jsmpeg.problem() : 'the MPEG-1 player failed to load';
    if (problem) return core.unsupported("This page can't play the stream: " + problem);
    jsmpeg.prepare(function () {
      core.start(withPath(jsmpeg, path));
    });
  }

  /**
   * Picks the player for what the server sends (`streams`, null for an older server) and what was asked for: the
   * first of the ladder's rungs that the server feeds and this browser can play. Each rung's `check` answers
   * (asynchronously) why it cannot play here, or null.
   */
  function choose(streams, forced) {
    var state = core.state;
    state.codec = streams ? streams.codec : 'mpeg1';
    var label = state.codec === 'h264' ? 'H.264' : 'MPEG-1';
    if (streams && typeof streams.codecLabel === 'string') label = streams.codecLabel;
    // An older server has no `streams`, and serves JSMpeg's MPEG-TS at `stream`.
    var jsmpegPath = streams ? formatPath(streams, '/stream') : 'stream';
    var h264Path = formatPath(streams, '/h264');
    var fmp4Path = formatPath(streams, '/fmp4');

    if (forced === 'jsmpeg' || (!forced && !h264Path && !fmp4Path)) {
      if (jsmpegPath) return playJsmpeg(jsmpegPath);
      return core.unsupported(
        forced === 'jsmpeg'
          ? "The MPEG-1 player (JSMpeg) can't play this stream: the server sends " + label + ', not MPEG-1'
          : "This page can't play this server's stream (" + label + ')'
      );
    }
    if (forced === 'webcodecs' && !h264Path) {
      return core.unsupported("WebCodecs can't play this stream here: the server sends " + label + ', not H.264');
    }
    if (forced === 'mse' && !fmp4Path) {
      return core.unsupported(
        "MSE can't play this stream here: the server sends " +
          label +
          (state.codec === 'h264' ? ' without fragmented MP4' : ', not H.264')
      );
    }

    // The rungs to try, in order: [player id, path, what to call it when it is missing].
    var rungs = [];
    if (h264Path && forced !== 'mse') rungs.push(['webcodecs', h264Path, 'the WebCodecs player failed to load']);
    if (fmp4Path && forced !== 'webcodecs') rungs.push(['mse', fmp4Path, 'the MSE player failed to load']);
    var problems = [];
    (function next(i) {
      if (i === rungs.length) {
        // None of the H.264 players: JSMpeg, if the server also sends MPEG-1 and no H.264 player was asked for.
        if (!forced && jsmpegPath) return playJsmpeg(jsmpegPath);
        return core.unsupported("This browser can't play " + label + ' here: ' + problems.join('; '));
      }
      var player = players[rungs[i][0]];
      if (!player) {
        problems.push(rungs[i][2]);
        return next(i + 1);
      }
      player.check(function (problem) {
        if (!problem) return core.start(withPath(player, rungs[i][1]));
        problems.push(problem);
        next(i + 1);
      });
    })(0);
  }

  if (!core || !window.pistreamBarcode || !window.pistreamProtocol) {
    if (statusEl) statusEl.textContent = 'page scripts failed to load';
    return;
  }
  var forced = new URL(window.location.href).searchParams.get('player');
  if (forced !== null && PLAYER_IDS.indexOf(forced) < 0) {
    // Asked for by name and misspelt: say so rather than quietly pick another.
    return core.unsupported(
      'Unknown ?player=' + forced + ': the players are ' + PLAYER_IDS.join(', ') + ' (or leave it out to pick the best here)'
    );
  }
  fetchStreams(function (streams) {
    choose(streams, forced);
  });
})();
