/*
 * The page loads itself again when one of its scripts fails to arrive. A phone moving between Wi-Fi and mobile data
 * while the page loads (Chromium fails every request in flight with ERR_NETWORK_CHANGED), or a link that drops for a
 * moment, leaves the page without a player, saying "connecting…" for ever; the stream's own connections already
 * retry, the page's scripts did not. Loaded first: it notices a script element's `error` and loads the page again
 * after a short wait, growing, up to MAX_RELOADS times in a row (counted for this tab in sessionStorage, forgotten once
 * the page loaded whole); past that it says so in the status line and stops.
 *
 * Plain script, no build step; no global.
 */
(function () {
  'use strict';

  var KEY = 'pistream.reloads';
  var MAX_RELOADS = 3;
  /** The wait before the first reload; doubled for each one after (1, 2, 4 s). */
  var FIRST_WAIT_MS = 1000;
  var failed = false;

  /** Reloads made in a row in this tab so far. */
  function reloads() {
    try {
      return Number(window.sessionStorage.getItem(KEY)) || 0;
    } catch (err) {
      return 0; // storage refused (a sandboxed frame): at most one reload per failure, which the count keeps bounded
    }
  }

  /** @param {number} n */
  function setReloads(n) {
    try {
      if (n) window.sessionStorage.setItem(KEY, String(n));
      else window.sessionStorage.removeItem(KEY);
    } catch (err) {
      // As above.
    }
  }

  /** @param {string} text @param {string} state */
  function say(text, state) {
    var status = document.getElementById('status');
    if (!status) return;
    status.textContent = text;
    status.setAttribute('data-state', state);
  }

  /** @param {Event} event */
  function onError(event) {
    var target = /** @type {Element | null} */ (event.target);
    if (failed || !target || target.tagName !== 'SCRIPT') return;
    failed = true;
    var src = /** @type {HTMLScriptElement} */ (target).src;
    var n = reloads();
    if (n >= MAX_RELOADS) {
      setReloads(0);
      say("The page didn't load (" + src.replace(/^.*\//, '') + ' failed to arrive): check the connection, then reload', 'unsupported');
      return;
    }
    setReloads(n + 1);
    say('loading the page again…', 'connecting');
    setTimeout(
      function () {
        window.location.reload();
      },
      FIRST_WAIT_MS * Math.pow(2, n)
    );
  }

  // A script's load error does not bubble: caught on its way down.
  window.addEventListener('error', onError, true);
  window.addEventListener('load', function () {
    if (!failed) setReloads(0);
  });
})();
