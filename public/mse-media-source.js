/*
 * The MSE player's <video> and the MediaSource attached to it: which MediaSource the browser has (MediaSource, or
 * ManagedMediaSource on iPhone), what it plays, and attaching and detaching one. `disableRemotePlayback` on the
 * video, or a ManagedMediaSource may hand the stream off to AirPlay.
 *
 * Plain script, no build step: `window.pistreamMse.mediaSource`; loaded before mse-player.js.
 */
(function () {
  'use strict';

  /** The <video> the player shows instead of the canvas (made on first use, kept for later connections). */
  /** @type {HTMLVideoElement | null} */
  var video = null;

  /** The MediaSource constructor to use: MediaSource, else ManagedMediaSource (iPhone), else null. */
  function mediaSourceClass() {
    return window.MediaSource || window.ManagedMediaSource || null;
  }

  /** Whether the browser's MediaSource plays `type`. @param {string} type */
  function isTypeSupported(type) {
    var MS = mediaSourceClass();
    try {
      return !!(MS && typeof MS.isTypeSupported === 'function' && MS.isTypeSupported(type));
    } catch (err) {
      return false;
    }
  }

  /** The MIME type of fragmented MP4 holding `codec` ('avc1.42C01E'). @param {string} codec */
  function mimeOf(codec) {
    return 'video/mp4; codecs="' + codec + '"';
  }

  /**
   * Makes (once) the <video> that shows the stream, beside `canvas`; hidden until it presents a picture.
   * @param {HTMLCanvasElement} canvas
   */
  function ensureVideo(canvas) {
    if (video) return video;
    var v = document.createElement('video');
    v.id = 'mse-video';
    v.setAttribute('aria-label', 'Live picture');
    v.muted = true;
    v.defaultMuted = true;
    v.setAttribute('muted', '');
    v.playsInline = true;
    v.setAttribute('playsinline', '');
    v.autoplay = true;
    v.controls = false;
    // ManagedMediaSource needs it (else Safari may hand the stream to AirPlay and stop feeding); harmless elsewhere.
    v.disableRemotePlayback = true;
    v.hidden = true;
    if (canvas.parentNode) canvas.parentNode.insertBefore(v, canvas.nextSibling);
    video = v;
    return v;
  }

  /** The video takes the canvas' place (the canvas stays for the other players). @param {HTMLCanvasElement} canvas */
  function showVideo(canvas) {
    if (!video || !video.hidden) return;
    video.hidden = false;
    canvas.hidden = true;
  }

  /**
   * Attaches `ms` to `v`: through srcObject where a MediaSource is accepted (Safari's ManagedMediaSource; no blob:
   * URL needed), else through a blob: URL, which it returns (to be revoked on detaching).
   * @param {HTMLVideoElement} v @param {MediaSource} ms
   * @returns {string | null}
   */
  function attach(v, ms) {
    v.disableRemotePlayback = true;
    var Managed = window.ManagedMediaSource;
    if ('srcObject' in v && typeof Managed === 'function' && ms instanceof Managed) {
      try {
        v.srcObject = /** @type {MediaProvider} */ (/** @type {unknown} */ (ms));
        return null;
      } catch (err) {
        // Not taken after all: a blob: URL then.
      }
    }
    var url = URL.createObjectURL(ms);
    v.src = url;
    return url;
  }

  /**
   * Detaches `ms` from `v` (the last picture stays on screen meanwhile), aborting what its SourceBuffers were doing.
   * @param {HTMLVideoElement} v @param {MediaSource} ms @param {string | null} objectUrl
   */
  function detach(v, ms, objectUrl) {
    if (ms.readyState === 'open') {
      try {
        var list = ms.sourceBuffers;
        for (var i = 0; i < list.length; i++) if (list[i].updating) list[i].abort();
      } catch (err) {
        // Closing anyway.
      }
    }
    if (v.srcObject) v.srcObject = null;
    v.removeAttribute('src');
    try {
      v.load();
    } catch (err) {
      // Nothing to release.
    }
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  }

  var mse = window.pistreamMse || (window.pistreamMse = /** @type {PistreamMse} */ ({}));
  mse.mediaSource = {
    mediaSourceClass: mediaSourceClass,
    isTypeSupported: isTypeSupported,
    mimeOf: mimeOf,
    ensureVideo: ensureVideo,
    showVideo: showVideo,
    attach: attach,
    detach: detach,
  };
})();
