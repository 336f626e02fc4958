/*
 * JSMpeg's WASM decoder, compiled once before the MPEG-1 player's first connection: a JSMpeg player made while it
 * compiles would start from a callback that outlives a destroyed player. When it cannot compile (no WebAssembly, a
 * CSP without 'wasm-unsafe-eval'), the player falls back to JSMpeg's JS decoder.
 *
 * Plain script, no build step: `window.pistreamJsmpegWasm`; loaded after JSMpeg (vendor/), before jsmpeg-player.js.
 */
(function () {
  'use strict';

  /** JSMpeg does not report a rejected instantiate: given up after this long. */
  var COMPILE_TIMEOUT_MS = 10000;

  var failed = false;

  /**
   * Compiles the decoder (once), then calls `then`, whether it compiled or not (see `failed`).
   * @param {() => void} then
   */
  function prepare(then) {
    var JSMpeg = window.JSMpeg;
    var module = JSMpeg && JSMpeg.WASMModule && JSMpeg.WASMModule.GetModule && window.WebAssembly && JSMpeg.WASMModule.GetModule();
    if (!JSMpeg || !module || !JSMpeg.WASM_BINARY_INLINED) {
      failed = true;
      then();
      return;
    }
    if (module.ready) {
      then();
      return;
    }
    var wasmModule = module;
    var done = false;
    /** @param {boolean} hasFailed */
    var finish = function (hasFailed) {
      if (done) return;
      done = true;
      failed = hasFailed;
      then();
    };
    try {
      module.loadFromBuffer(JSMpeg.Base64ToArrayBuffer(JSMpeg.WASM_BINARY_INLINED), function (m) {
        finish(!m);
      });
    } catch (err) {
      finish(true);
    }
    // JSMpeg does not report a rejected instantiate (e.g. a CSP without 'wasm-unsafe-eval'): don't wait forever.
    setTimeout(function () {
      if (!wasmModule.ready) finish(true);
    }, COMPILE_TIMEOUT_MS);
  }

  window.pistreamJsmpegWasm = {
    prepare: prepare,
    failed: function () {
      return failed;
    },
  };
})();
