/*
 * The MSE player's sound. The <video> plays /fmp4's pictures, muted, at the live edge: its own sound would hold them
 * back (Chromium's audio renderer starts only with 200 ms of sound buffered, and one media clock makes the pictures
 * wait with it: 0.3 s on screen, measured). So the server's sound comes apart, from /sound (MP2 frames in MPEG-TS,
 * each a message of its own the moment it is encoded), decoded by JSMpeg's MP2 decoder (its JS one: a few frames a
 * second's work, no WebAssembly to compile first; WebCodecs' AudioDecoder would need a secure context, which an MSE
 * page on plain http has not) and scheduled into the page's WebAudio graph by jsmpeg-audio.js, as on the MPEG-1 page:
 * no 200 ms start, the queue bounded by its lag allowance. The speaker button, the volume and the A/V offset's
 * analyser (av-offset.js) act on it there.
 *
 * The socket opens once the speaker button has made the graph, and reopens a second after it closes while the MSE
 * player is the page's player. It stays open while the tab is hidden: the sound goes on without the pictures.
 *
 * Plain script, no build step: `window.pistreamMse.sound.listen(path)`; loaded after sound.js, jsmpeg-audio.js and
 * viewer-core.js, before mse-player.js.
 */
(function () {
  'use strict';

  var REOPEN_MS = 1000;
  /** The MP2 decoder's buffer (bytes): seconds of 64 kbit/s sound; it evicts what was decoded. */
  var AUDIO_BUFFER_SIZE = 64 * 1024;
  /** Frames decoded per message at most (one normally). */
  var MAX_DECODES = 16;

  var sound = window.pistreamSound;
  /** The open sound socket, or null. @type {WebSocket | null} */
  var socket = null;

  /** Plays the server's sound from `path` (next to the page) once the speaker button made the graph. @param {string} path */
  function listen(path) {
    sound.whenReady(function () {
      if (!socket) open(path);
    });
  }

  /** @param {string} path */
  function open(path) {
    var JSMpeg = /** @type {JsmpegApi} */ (window.JSMpeg);
    var core = window.pistreamViewer;
    var options = /** @type {JsmpegPlayerOptions} */ (/** @type {unknown} */ ({ streaming: true, audioBufferSize: AUDIO_BUFFER_SIZE }));
    var demuxer = new JSMpeg.Demuxer.TS(options);
    var decoder = new JSMpeg.Decoder.MP2Audio(options);
    var out = window.pistreamJsmpegAudio.output();
    demuxer.connect(JSMpeg.Demuxer.TS.STREAM.AUDIO_1, decoder);
    decoder.connect(out);
    var ws = (socket = new WebSocket(core.pageUrl(path, true)));
    ws.binaryType = 'arraybuffer';
    ws.onmessage = function (event) {
      if (!(event.data instanceof ArrayBuffer)) return;
      demuxer.write(event.data);
      for (var n = 0; n < MAX_DECODES && decoder.decode(); n++);
    };
    ws.onclose = function () {
      out.destroy();
      decoder.destroy();
      socket = null;
      setTimeout(function () {
        if (!socket && core.state.player === 'mse') open(path);
      }, REOPEN_MS);
    };
  }

  var mse = window.pistreamMse || (window.pistreamMse = /** @type {PistreamMse} */ ({}));
  mse.sound = { listen: listen };
})();
