/*
 * The fullscreen button (and double-click on the picture), where the browser has element fullscreen.
 *
 * Plain script, no build step: `window.pistreamFullscreen(button, target)`.
 */
(function () {
  'use strict';

  function fullscreenElement() {
    return document.fullscreenElement || document.webkitFullscreenElement || null;
  }

  function toggleFullscreen() {
    var root = document.documentElement;
    var result;
    if (fullscreenElement()) {
      result = (document.exitFullscreen || document.webkitExitFullscreen).call(document);
    } else {
      result = (root.requestFullscreen || root.webkitRequestFullscreen).call(root);
    }
    // Browsers may refuse (no user gesture, iframe without allowfullscreen); nothing to do about it here.
    if (result && typeof result.catch === 'function') result.catch(function () {});
  }

  /** @param {HTMLElement} fullscreenButton @param {HTMLElement} canvas */
  function initFullscreen(fullscreenButton, canvas) {
    var root = document.documentElement;
    if (!root.requestFullscreen && !root.webkitRequestFullscreen) {
      // iPhone Safari: no element fullscreen; "Add to Home Screen" gives a full-screen page instead.
      fullscreenButton.hidden = true;
      return;
    }
    fullscreenButton.addEventListener('click', toggleFullscreen);
    canvas.addEventListener('dblclick', toggleFullscreen);
  }

  window.pistreamFullscreen = initFullscreen;
})();
