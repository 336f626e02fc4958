/*
 * Which H.264 codec strings this browser's WebCodecs decodes with optimizeForLatency: VideoDecoder.isConfigSupported
 * asked once per codec string, its answer kept (the WebCodecs player asks before configuring a decoder for a key
 * unit's codec string, and holds the units meanwhile).
 *
 * Plain script, no build step: `window.pistreamWebCodecsSupport`; loaded before webcodecs-player.js.
 */
(function () {
  'use strict';

  /** isConfigSupported's answer per codec string: true / false, or a Promise while asked. */
  /** @type {Record<string, boolean | Promise<boolean>>} */
  var answers = {};

  /**
   * A Promise of whether VideoDecoder takes `codec` with optimizeForLatency (asked once per codec string).
   * @param {string} codec
   * @returns {Promise<boolean>}
   */
  function ask(codec) {
    var known = answers[codec];
    if (known === true || known === false) return Promise.resolve(known);
    if (known) return known;
    var asked = Promise.resolve()
      .then(function () {
        return window.VideoDecoder.isConfigSupported({ codec: codec, optimizeForLatency: true });
      })
      .then(
        function (answer) {
          return !!(answer && answer.supported);
        },
        function () {
          return false;
        }
      )
      .then(function (ok) {
        answers[codec] = ok;
        return ok;
      });
    answers[codec] = asked;
    return asked;
  }

  /**
   * The answer for `codec` when the browser has given it, else undefined (not asked yet, or being asked).
   * @param {string} codec
   * @returns {boolean | undefined}
   */
  function known(codec) {
    var answer = answers[codec];
    return answer === true || answer === false ? answer : undefined;
  }

  window.pistreamWebCodecsSupport = { ask: ask, known: known };
})();
