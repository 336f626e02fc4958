/*
 * The MSE player's sound: with `/fmp4-sound` the <video> plays the AAC track itself, in step with its pictures (one
 * media clock). Its output is taken into the page's WebAudio graph (sound.js) through a MediaElementAudioSourceNode,
 * so the speaker button, the volume slider and the A/V offset's analyser (av-offset.js) act on it as on JSMpeg's
 * sound. That happens once the speaker button has made the graph (a user gesture, so the unmuted <video> may play):
 * the <video> stays muted until then (autoplay rules), and a video element can be taken into a graph only once, so
 * it is kept for every later connection (mse-media-source.js makes one <video>).
 *
 * Plain script, no build step: `window.pistreamMse.sound.route(video)`; loaded after sound.js, before mse-player.js.
 */
(function () {
  'use strict';

  var sound = window.pistreamSound;
  /** The <video> taken into the graph already. @type {HTMLVideoElement | null} */
  var routed = null;

  /** Takes `video`'s sound into the page's graph, now or once the speaker button made it. @param {HTMLVideoElement} video */
  function route(video) {
    sound.whenReady(function () {
      var input = sound.input();
      if (routed === video || !input) return;
      try {
        var source = /** @type {AudioContext} */ (input.context).createMediaElementSource(video);
        source.connect(input);
      } catch (err) {
        // Taken into another graph already: it plays as it does.
        return;
      }
      routed = video;
      // The graph's gain mutes and sets the volume from now on: the element itself plays at full level.
      video.muted = false;
      video.defaultMuted = false;
      video.removeAttribute('muted');
    });
  }

  var mse = window.pistreamMse || (window.pistreamMse = /** @type {PistreamMse} */ ({}));
  mse.sound = { route: route };
})();
