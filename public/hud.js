/*
 * The page's stats HUD, shown only while live: the codec and player ("H.264 · WebCodecs", with a transient word of
 * the player's such as "resyncing…"), fps and kb/s over the last second, the newest glass-to-glass latency read
 * from the test pattern's barcode, and with sound on, the A/V offset (av-offset.js).
 *
 * Plain script, no build step: `window.pistreamHud(options)`; the viewer core (viewer-core.js) makes one.
 */
(function () {
  'use strict';

  /** The HUD's first figures after going live wait until they cover at least this long. */
  var HUD_MIN_WINDOW_MS = 500;
  /** A latency older than this (ms since the last picture) is not shown beside live figures. */
  var FRESH_MS = 1000;
  var GLASS_TITLE =
    "Glass-to-glass latency: time from the picture's capture to its decoding in this page, " +
    "read from the test pattern's barcode (no figure without the barcode)";

  /** The test tone beeps every second: an offset older than this is not shown (ms). */
  var AV_FRESH_MS = 2500;
  var AV_TITLE =
    "A/V offset: how much later (+) or earlier (−) the sound plays than its picture, from the test tone's beep " +
    'at each whole second against the barcode of the picture on screen (no figure without both).';

  /**
   * A HUD over `options.state`, writing into `options.statsEl` and `options.pathEl`. (A closure over one HUD's
   * elements and figures, as a module would hold them: its inner functions are the short ones.)
   * @param {HudOptions} options
   * @returns {Hud}
   */
  function makeHud(options) {
    var state = options.state;
    var statsEl = options.statsEl;
    var pathEl = options.pathEl;
    /** The latency figure, with a tooltip saying what it measures (placed into statsEl while shown). */
    var glassEl = document.createElement('span');
    glassEl.id = 'glass';
    glassEl.title = GLASS_TITLE;
    var avEl = document.createElement('span');
    avEl.id = 'av-offset';
    /** A transient word from the player (e.g. "resyncing…"), or null. */
    /** @type {string | null} */
    var note = null;
    var last = { at: performance.now(), frames: 0, bytes: 0 };

    /** The next figures count from now. */
    function resetWindow() {
      last = { at: performance.now(), frames: state.frames, bytes: state.bytes };
    }

    function clear() {
      state.fps = 0;
      state.kbps = 0;
      statsEl.textContent = '';
      if (pathEl) pathEl.textContent = '';
    }

    function showPath() {
      var label = options.label();
      if (!pathEl || label === null) return;
      pathEl.textContent = label + (note ? ' · ' + note : '');
    }

    /** @param {string | null} text */
    function setNote(text) {
      if (note === text) return;
      note = text;
      if (state.status === 'live') showPath();
    }

    /** Shows the newest glass-to-glass latency, when it is fresh (a stale one next to live numbers would mislead). */
    /** @param {CoreConnection} session @param {number} now */
    function showGlass(session, now) {
      var barcode = state.lastBarcode;
      if (!barcode || session.lastPictureAt <= now - FRESH_MS) return;
      glassEl.textContent = 'glass ' + Math.round(barcode.latencyMs) + ' ms';
      statsEl.appendChild(document.createTextNode(' · '));
      statsEl.appendChild(glassEl);
    }

    /**
     * Shows the newest A/V offset (av-offset.js), when fresh: "A/V +35 ms" when the sound comes after its picture.
     */
    function showAv() {
      var sound = state.sound;
      var offset = sound && sound.lastOffset;
      if (!offset || Date.now() - offset.at > AV_FRESH_MS) return;
      var ms = Math.round(offset.offsetMs);
      avEl.textContent = 'A/V ' + (ms > 0 ? '+' : '') + ms + ' ms';
      avEl.title = AV_TITLE + ' Now: sound ' + Math.round(offset.audioMs) + ' ms, picture ' + Math.round(offset.videoMs) + ' ms.';
      statsEl.appendChild(document.createTextNode(' · '));
      statsEl.appendChild(avEl);
    }

    function update() {
      var session = options.liveSession();
      if (!session) {
        clear();
        resetWindow();
        return;
      }
      var now = performance.now();
      var dt = now - last.at;
      if (dt < HUD_MIN_WINDOW_MS) return;
      state.fps = Math.round(((state.frames - last.frames) * 10000) / dt) / 10;
      state.kbps = Math.round(((state.bytes - last.bytes) * 8) / dt);
      last = { at: now, frames: state.frames, bytes: state.bytes };
      showPath();
      statsEl.textContent = state.fps.toFixed(0) + ' fps · ' + state.kbps + ' kb/s';
      showGlass(session, now);
      showAv();
    }

    return { update: update, clear: clear, resetWindow: resetWindow, setNote: setNote };
  }

  window.pistreamHud = makeHud;
})();
