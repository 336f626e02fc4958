/*
 * The MSE player's presented pictures: requestVideoFrameCallback gives each picture the <video> presents (its
 * presentedFrames counts those the callback missed); where it is missing (Firefox before 132, older Safari) the
 * playhead is polled, and the figures are approximate (several pictures presented between two polls count as one,
 * and a picture's time is the poll's, up to POLL_MS after it was shown).
 *
 * Plain script, no build step: `window.pistreamMse.watchPresented(options)`; loaded before mse-player.js.
 */
(function () {
  'use strict';

  /** Where requestVideoFrameCallback is missing: look at the playhead this often (ms). */
  var POLL_MS = 20;
  /** Pictures one callback may report as missed, at most (a tab in the background for a while is not a burst). */
  var MAX_MISSED = 100;

  /**
   * Calls `options.presented(count, presentedAt, width, height)` as `options.video` presents pictures: `count`
   * pictures since the last call, the newest at `presentedAt` (ms since the epoch). Until stopped.
   * @param {MsePresentedOptions} options
   * @returns {MsePresentedWatch}
   */
  function watchPresented(options) {
    var video = options.video;
    if (typeof video.requestVideoFrameCallback === 'function') return watchCallbacks(options);
    options.stats.frameSource = 'poll';
    var polledTime = -1;
    var timer = setInterval(function () {
      if (!options.ready() || video.readyState < 2) return;
      var t = video.currentTime;
      if (t === polledTime) return;
      polledTime = t;
      options.presented(1, Date.now(), video.videoWidth, video.videoHeight);
    }, POLL_MS);
    return {
      reset: function () {},
      stop: function () {
        clearInterval(timer);
      },
    };
  }

  /** @param {MsePresentedOptions} options @returns {MsePresentedWatch} */
  function watchCallbacks(options) {
    var video = options.video;
    options.stats.frameSource = 'rvfc';
    var stopped = false;
    /** presentedFrames of the last callback (null: none yet on this MediaSource). */
    /** @type {number | null} */
    var lastPresented = null;
    /** @type {VideoFrameRequestCallback} */
    var onFrame = function (_now, meta) {
      if (stopped) return;
      handle = video.requestVideoFrameCallback(onFrame);
      // presentationTime: when the frame was handed to the compositor (performance.now() clock), as ms since
      // the epoch; the same moment the WebCodecs player's drawImage stands for.
      var presentedAt = meta.presentationTime + (Date.now() - performance.now());
      var count = 1;
      if (lastPresented !== null && meta.presentedFrames > lastPresented) {
        count = Math.min(meta.presentedFrames - lastPresented, MAX_MISSED);
      }
      lastPresented = meta.presentedFrames;
      options.presented(count, presentedAt, meta.width, meta.height);
    };
    var handle = video.requestVideoFrameCallback(onFrame);
    return {
      reset: function () {
        lastPresented = null;
      },
      stop: function () {
        stopped = true;
        if (typeof video.cancelVideoFrameCallback === 'function') video.cancelVideoFrameCallback(handle);
      },
    };
  }

  var mse = window.pistreamMse || (window.pistreamMse = /** @type {PistreamMse} */ ({}));
  mse.watchPresented = watchPresented;
})();
