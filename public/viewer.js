/*
 * pistream viewer: chooses how to play, then hands the chosen player to the viewer core (viewer-core.js).
 *
 * The page asks `streams` (next to it) what the server sends: the codec, and the wire formats with their paths.
 * Every player declares the formats it plays (see Player); the ladder below is a table of players in the order
 * they are tried, with what each rung needs of the page. The page walks it and starts the first player that plays
 * one of the server's formats and can play here (its `check`): WebCodecs on a secure page, then WebRTC (where the
 * server has its WHEP endpoint), then MSE (MediaSource or ManagedMediaSource), then JSMpeg. When none can, the status line says in words why. `?player=<id>` forces one
 * rung; forcing one that cannot work here says why.
 *
 * Plain script, no build step; loaded last but one (before recordings.js), after the core and the players.
 */
(function () {
  'use strict';

  /** A `streams` request unanswered after this long is given up; a failed one is made again STREAMS_RETRY_MS later. */
  var STREAMS_TIMEOUT_MS = 5000;
  var STREAMS_RETRY_MS = 2000;

  /**
   * The ladder, best first. WebRTC comes after WebCodecs (on a secure page, painting on arrival is as fast and needs
   * no UDP port) and before MSE (on a plain-http LAN page, it keeps latency low without a secure context). `secureContext`: the rung needs a secure page (https, or localhost), where the browser
   * offers its API at all.
   * @type {readonly LadderRung[]}
   */
  var LADDER = [{ player: 'webcodecs', secureContext: true }, { player: 'webrtc' }, { player: 'mse' }, { player: 'jsmpeg' }];

  var core = window.pistreamViewer;
  var players = window.pistreamPlayers || {};
  var statusEl = document.getElementById('status');

  /**
   * What the server sends (`streams`' JSON), to `then`; asked again every STREAMS_RETRY_MS until it answers (the
   * page is served by the server it asks, so no answer is a network error or a server restarting).
   * @param {(streams: StreamsInfo) => void} then
   */
  function fetchStreams(then) {
    // Older Safari (before 12.1) has fetch without AbortController: there a hanging request is not cut short.
    var controller = typeof window.AbortController === 'function' ? new AbortController() : null;
    var timer = setTimeout(function () {
      if (controller) controller.abort();
    }, STREAMS_TIMEOUT_MS);
    fetch(core.pageUrl('streams'), {
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
        if (body && typeof body === 'object' && Array.isArray(body.formats)) return then(body);
        setTimeout(function () {
          fetchStreams(then);
        }, STREAMS_RETRY_MS);
      });
  }

  /**
   * The first of `ids` (a player's `soundFormats` or `soundBeside`) that the server sends with sound, or null.
   * @param {StreamsInfo} streams @param {readonly string[]} ids
   * @returns {StreamFormat | null}
   */
  function soundFormatFor(streams, ids) {
    for (var i = 0; i < ids.length; i++) {
      for (var j = 0; j < streams.formats.length; j++) {
        var format = streams.formats[j];
        if (format && format.id === ids[i] && format.audio !== undefined) return format;
      }
    }
    return null;
  }

  /**
   * The speaker button, for a format that carries sound (GET /streams names its codec), for a player that moves
   * to one of its sound formats when the viewer first turns sound on (the graph is made by that click), or for one
   * that plays the sound alone beside its pictures (`soundBeside`).
   * @param {StreamsInfo} streams @param {Player} player @param {StreamFormat} format
   */
  function offerSound(streams, player, format) {
    var own = format.audio !== undefined;
    var beside = own ? null : soundFormatFor(streams, player.soundBeside || []);
    var withSound = own || beside ? null : soundFormatFor(streams, player.soundFormats || []);
    window.pistreamSound.offer(own || beside !== null || withSound !== null);
    if (beside && player.playSoundBeside) player.playSoundBeside(beside.path.replace(/^\//, ''));
    if (!withSound) return;
    var path = withSound.path.replace(/^\//, '');
    window.pistreamSound.whenReady(function () {
      if (core.state.player === player.id) core.switchPath(path);
    });
  }

  /**
   * A player that decodes the sound itself (WebCodecs' AudioDecoder) may lack the codec here: then the page stays
   * silent, the picture unchanged, and the speaker button says why.
   * @param {Player} player @param {StreamFormat} format
   */
  function checkSound(player, format) {
    if (!format.audio || !player.soundCheck) return;
    player.soundCheck(format.audio).then(function (problem) {
      if (problem && core.state.player === player.id) window.pistreamSound.unavailable(problem);
    });
  }

  /**
   * The first of `player`'s formats the server sends, or null.
   * @param {StreamsInfo} streams @param {Player} player
   * @returns {StreamFormat | null}
   */
  function formatFor(streams, player) {
    var webrtc = streams.webrtc;
    // WebRTC is no WebSocket format: `streams` names its WHEP endpoint apart.
    if (player.formats.indexOf('webrtc') >= 0 && webrtc && 'path' in webrtc) {
      // Its sound (Opus), when the server has some: the speaker button is offered as for any format with sound.
      return webrtc.audio
        ? { id: 'webrtc', label: 'WebRTC (WHEP)', path: webrtc.path, audio: webrtc.audio }
        : { id: 'webrtc', label: 'WebRTC (WHEP)', path: webrtc.path };
    }
    for (var i = 0; i < player.formats.length; i++) {
      for (var j = 0; j < streams.formats.length; j++) {
        if (streams.formats[j] && streams.formats[j].id === player.formats[i]) return streams.formats[j];
      }
    }
    return null;
  }

  /** The server's codec for people ('H.264'). @param {StreamsInfo} streams */
  function codecLabel(streams) {
    return typeof streams.codecLabel === 'string' ? streams.codecLabel : streams.codec;
  }

  /**
   * Whether `rung` can play `streams` here: { player, format } when its player may be asked (`check`), or a
   * reason; `fed: false` when the server sends nothing the player plays.
   * @param {LadderRung} rung @param {StreamsInfo} streams
   * @returns {{ player: Player, format: StreamFormat } | { problem: string, fed: boolean }}
   */
  function judge(rung, streams) {
    var player = players[rung.player];
    if (!player) return { problem: 'the ' + rung.player + ' player failed to load', fed: true };
    var format = formatFor(streams, player);
    if (!format) {
      var sends = streams.formats.map(function (f) {
        return f.id;
      });
      var problem =
        player.name +
        " can't play this stream here: the server sends " +
        codecLabel(streams) +
        ' as ' +
        sends.join(', ') +
        ', and it plays ' +
        player.formats.join(', ');
      return { problem: problem, fed: false };
    }
    if (rung.secureContext && !window.isSecureContext) {
      return { problem: player.name + ' needs a secure page (https, or localhost)', fed: true };
    }
    return { player: player, format: format };
  }

  /**
   * Walks `rungs` and starts the first that plays what the server sends here; else says why none can.
   * @param {StreamsInfo} streams @param {readonly LadderRung[]} rungs
   */
  function climb(streams, rungs) {
    /** @type {string[]} */
    var problems = [];
    var fed = false;
    (function next(i) {
      if (i === rungs.length) return core.unsupported(giveUp(streams, rungs, problems, fed));
      var judged = judge(rungs[i], streams);
      if ('problem' in judged) {
        fed = fed || judged.fed;
        if (judged.fed || rungs.length === 1) problems.push(judged.problem);
        return next(i + 1);
      }
      fed = true;
      var player = judged.player;
      var format = judged.format;
      var path = format.path.replace(/^\//, '');
      offerSound(streams, player, format);
      player.check().then(function (problem) {
        if (!problem) {
          // A player that cannot connect here before its first picture hands over to the next rung.
          core.start(player, path, function (reason) {
            problems.push(player.name + ': ' + reason);
            next(i + 1);
          });
          return checkSound(player, format);
        }
        problems.push(problem);
        next(i + 1);
      });
    })(0);
  }

  /**
   * The status line when no rung can play: a forced rung's own reason, else what each rung that the server feeds
   * said.
   * @param {StreamsInfo} streams @param {readonly LadderRung[]} rungs @param {string[]} problems @param {boolean} fed
   */
  function giveUp(streams, rungs, problems, fed) {
    if (rungs.length === 1 && !fed) return problems[0];
    if (!fed) return "This page can't play this server's stream (" + codecLabel(streams) + ')';
    return "This browser can't play " + codecLabel(streams) + ' here: ' + problems.join('; ');
  }

  if (!core || !window.pistreamBarcode || !window.pistreamProtocol) {
    if (statusEl) statusEl.textContent = 'page scripts failed to load';
    return;
  }
  var ids = LADDER.map(function (rung) {
    return rung.player;
  });
  var forced = new URL(window.location.href).searchParams.get('player');
  if (forced !== null && ids.indexOf(forced) < 0) {
    // Asked for by name and misspelt: say so rather than quietly pick another.
    return core.unsupported(
      'Unknown ?player=' + forced + ': the players are ' + ids.join(', ') + ' (or leave it out to pick the best here)'
    );
  }
  /**
   * Gives the canvas the stream's size before any player draws: the page is laid out for the picture's aspect from
   * the start, and a player that sizes its canvas to the picture (JSMpeg resizes before its first) finds it so and
   * changes nothing at its first paint, where a resize clears and reallocates the canvas.
   * @param {StreamsInfo} streams
   */
  function sizeCanvas(streams) {
    var width = streams.width;
    var height = streams.height;
    if (typeof width !== 'number' || typeof height !== 'number' || width <= 0 || height <= 0) return;
    if (core.canvas.width !== width) core.canvas.width = width;
    if (core.canvas.height !== height) core.canvas.height = height;
  }

  fetchStreams(function (streams) {
    core.state.codec = streams.codec;
    sizeCanvas(streams);
    climb(
      streams,
      LADDER.filter(function (rung) {
        return forced === null || rung.player === forced;
      })
    );
  });
})();
