/*
 * The MSE player's two ends of the buffer: the live edge its <video> plays at, and the trim behind the playhead.
 *
 * - Live edge: at the start and whenever the buffered end is more than LIVE_GAP_S ahead of the playhead, seek to
 *   just before the buffered end; with less than that but more than CATCH_UP_FRAMES pictures ahead, play at
 *   CATCH_UP_RATE until the playhead reaches the end. Playback is never slowed down to hold a buffer (the
 *   playbackRate rule that makes a peer sit at 1 s).
 * - With sound in the SourceBuffer (`/fmp4-sound`, after the viewer turned sound on): the live edge Chromium's audio
 *   renderer allows, SOUND_HOLD_S behind the buffered end (see there).
 * - Gaps: a <video> stops at a hole in what is buffered and waits there for ever (MSE fills no holes). With sound
 *   in the SourceBuffer, what is buffered is where both tracks are, so a sound frame the server dropped (or lost with
 *   a skipped picture) makes a hole as a lost picture does: a playhead before the newest range jumps to the start of
 *   the range after it (counted in `gapJumps`), so the picture goes on.
 * - Trim: remove what lies before the newest key unit that is at least KEEP_S behind the playhead (a removal
 *   ending inside a GOP would take the rest of that GOP with it).
 *
 * Plain script, no build step: `window.pistreamMse.liveEdge(video, stats)`, `.edgeStep(ranges, playhead, frameS)` and
 * `.trimPoint(keyTimes, playhead)`;
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
  /**
   * With sound in the SourceBuffer (/fmp4-sound) the <video> plays on the audio's clock, and Chromium's audio
   * renderer starts (and restarts after running dry) only once it holds its playback threshold of decoded sound
   * (200 ms unless the element has a latency hint, which Chromium does not expose to pages): a playhead kept closer
   * than that to the buffered end runs dry at every late sound frame and waits 200 ms each time. So with sound the
   * live edge lands SOUND_HOLD_S behind the end, seeks there when more than SOUND_GAP_S behind, and plays at rate 1
   * (faster would run the sound dry). Tried on the bench machine (12 s each, load ~9): landing 0.12 / 0.2 / 0.25 s
   * behind with a seek past 0.5 / 0.5 / 0.6 s gave pictures 297–312 / 276–279 / 306–318 ms after capture: Chromium
   * holds its 200 ms whatever the landing, and a landing nearer the end only makes it wait for them. (With its
   * MediaLatencyHint feature on and `latencyHint = 0`, 237–262 ms: not worth a hint no page can turn on.)
   */
  var SOUND_HOLD_S = 0.2;
  var SOUND_GAP_S = 0.5;
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

  /** A TimeRanges as [start, end] pairs (s), oldest first. @param {TimeRanges} ranges */
  function rangeList(ranges) {
    /** @type {number[][]} */
    var list = [];
    for (var i = 0; ranges && i < ranges.length; i++) list.push([ranges.start(i), ranges.end(i)]);
    return list;
  }

  /**
   * What keeps the playhead `now` live with `ranges` buffered ([start, end] pairs, oldest first, at least one), at a
   * picture interval of `frameS` (pure): a seek (`seek`: where to; `gap`: over a hole in the buffer) or the rate to
   * play at.
   * - More than LIVE_GAP_S behind the buffered end: to just before that end.
   * - Before the newest range (in a hole, or in an older range, which ends at a hole the video would stop at): to
   *   the start of the first range after the playhead.
   * - Else the catch-up rate while more than CATCH_UP_FRAMES pictures are ahead, 1 otherwise.
   * With `sound`, the same with SOUND_GAP_S, landing SOUND_HOLD_S before the end, and rate 1.
   * @param {number[][]} ranges @param {number} now @param {number} frameS @param {boolean} [sound]
   * @returns {{ seek: number | null, gap: boolean, rate: number }}
   */
  function edgeStep(ranges, now, frameS, sound) {
    var newest = /** @type {number[]} */ (ranges[ranges.length - 1]);
    var end = /** @type {number} */ (newest[1]);
    if (end - now > (sound ? SOUND_GAP_S : LIVE_GAP_S)) return { seek: end - (sound ? SOUND_HOLD_S : EDGE_S), gap: false, rate: 1 };
    if (now < /** @type {number} */ (newest[0])) {
      for (var i = 0; i < ranges.length; i++) {
        var start = /** @type {number} */ (/** @type {number[]} */ (ranges[i])[0]);
        if (start > now) return { seek: start, gap: true, rate: 1 };
      }
    }
    return { seek: null, gap: false, rate: !sound && end - now > CATCH_UP_FRAMES * frameS ? CATCH_UP_RATE : 1 };
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

    /** @param {number} to */
    function seek(to) {
      stats.seeks++;
      setRate(1);
      video.currentTime = Math.max(to, 0);
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
      start: function (sb, sound) {
        var end = bufferedEnd(sb);
        if (end === null) return;
        started = true;
        seek(end - (sound ? SOUND_HOLD_S : EDGE_S));
        play();
      },
      keep: function (sb, frameS, sound) {
        if (!started) return;
        var ranges;
        try {
          ranges = rangeList(sb.buffered);
        } catch (err) {
          // The SourceBuffer was removed from its MediaSource meanwhile: nothing to keep live.
          return;
        }
        if (ranges.length === 0) return;
        var now = video.currentTime;
        var newest = /** @type {number[]} */ (ranges[ranges.length - 1]);
        stats.gapMs = Math.round(/** @type {number} */ (newest[1] - now) * 1000);
        if (video.seeking) return;
        var step = edgeStep(ranges, now, frameS, sound);
        if (step.gap) stats.gapJumps++;
        if (step.seek !== null) return seek(step.seek);
        setRate(step.rate);
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
  mse.edgeStep = edgeStep;
})();
