/*
 * The MSE player's two ends of the buffer: the live edge its <video> plays at, and the trim behind the playhead.
 *
 * - Live edge: at the start and whenever the buffered end is more than LIVE_GAP_S ahead of the playhead, seek to
 *   just before the buffered end; with less than that but more than CATCH_UP_FRAMES pictures ahead, play at
 *   CATCH_UP_RATE until the playhead reaches the end. Playback is never slowed down to hold a buffer (the
 *   playbackRate rule that makes a peer sit at 1 s).
 * - Trim: remove what lies before the newest key unit that is at least KEEP_S behind the playhead (a removal
 *   ending inside a GOP would take the rest of that GOP with it).
 *
 * Plain script, no build step: `window.pistreamMse.liveEdge(video, stats)` and `.trimPoint(keyTimes, playhead)`;
 * loaded before mse-player.js.
 */
(function () {
  'use strict';

  /** Seek to the live edge when the buffered end is more than this ahead of the playhead (s). */
  var LIVE_GAP_S = 0.15;
  /**
   * Below that, play slightly faster (never slower) while more than CATCH_UP_FRAMES pictures' worth is buffered
   * ahead of the playhead: the playhead then reaches the buffered end, waits there for the next picture (Chrome's
   * low-delay renderer resumes on one), and shows each picture as it comes. Without it the playhead keeps whatever
   * lag an arrival hiccup gave it (the clock stops while it waits, and never makes the time up): measured on the
   * bench machine, p50 ~40-55 ms at 640x480@24 with the seek rule alone, ~11 ms with it.
   */
  var CATCH_UP_RATE = 1.25;
  var CATCH_UP_FRAMES = 1.5;
  /** Where a seek to the live edge lands: this much before the buffered end (s), inside the newest picture. */
  var EDGE_S = 0.005;
  /** The trim keeps at least this much before the playhead (s). */
  var KEEP_S = 2;

  /**
   * The end of the newest buffered range (s), or null when nothing is buffered (or the SourceBuffer is gone).
   * @param {SourceBuffer | null} sb
   */
  function bufferedEnd(sb) {
    var ranges = sb ? sb.buffered : null;
    if (!ranges || ranges.length === 0) return null;
    return ranges.end(ranges.length - 1);
  }

  /**
   * Keeps `video` at the live edge of what its SourceBuffer holds; `stats` (window.pistream.mse) counts seeks and
   * shows the gap and the rate.
   * @param {HTMLVideoElement} video @param {MseStats} stats
   * @returns {MseLiveEdge}
   */
  function liveEdge(video, stats) {
    var started = false;

    /** @param {number} rate */
    function setRate(rate) {
      stats.rate = rate;
      if (video.playbackRate !== rate) video.playbackRate = rate;
    }

    /** @param {number} end */
    function seek(end) {
      stats.seeks++;
      setRate(1);
      video.currentTime = Math.max(end - EDGE_S, 0);
    }

    function play() {
      if (!video.paused) return;
      var played = video.play();
      // Autoplay of a muted, inline video is allowed; a refusal is retried by the next tick.
      if (played && typeof played.then === 'function') played.then(null, function () {});
    }

    return {
      started: function () {
        return started;
      },
      start: function (sb) {
        var end = bufferedEnd(sb);
        if (end === null) return;
        started = true;
        seek(end);
        play();
      },
      keep: function (sb, frameS) {
        if (!started) return;
        var ranges;
        try {
          ranges = sb.buffered;
        } catch (err) {
          // The SourceBuffer was removed from its MediaSource meanwhile: nothing to keep live.
          return;
        }
        if (!ranges || ranges.length === 0) return;
        var last = ranges.length - 1;
        var end = ranges.end(last);
        var now = video.currentTime;
        var gap = end - now;
        stats.gapMs = Math.round(gap * 1000);
        if (video.seeking) return;
        if (gap > LIVE_GAP_S || now < ranges.start(last)) return seek(end);
        setRate(gap > CATCH_UP_FRAMES * frameS ? CATCH_UP_RATE : 1);
      },
      play: play,
      reset: function () {
        started = false;
      },
    };
  }

  /**
   * Where a trim may end: the newest key unit at least KEEP_S behind `playhead` (that GOP and the ones after it stay
   * whole), or null. Forgets (shifts out of `keyTimes`, oldest first) the key units before it.
   * @param {number[]} keyTimes @param {number} playhead
   * @returns {number | null}
   */
  function trimPoint(keyTimes, playhead) {
    var before = playhead - KEEP_S;
    while (keyTimes.length > 1 && keyTimes[1] <= before) keyTimes.shift();
    return keyTimes.length && keyTimes[0] <= before ? keyTimes[0] : null;
  }

  var mse = window.pistreamMse || (window.pistreamMse = /** @type {PistreamMse} */ ({}));
  mse.liveEdge = liveEdge;
  mse.trimPoint = trimPoint;
})();
