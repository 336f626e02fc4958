/*
 * The control messages the page sends back to the server over its stream socket, built here and nowhere else: the
 * page sends what this builds, and the server (src/server/control-message.ts) requires this same file for its
 * constants and its own copy of the builder, so the two ends share one definition of the format.
 *
 * Plain ES5 script, no build step: the page loads it before viewer.js (window.pistreamProtocol), Node requires it
 * (module.exports).
 */
(function (root, factory) {
  'use strict';
  var api = factory();
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  else root.pistreamProtocol = api;
})(this, function () {
  'use strict';

  /** `type` of an acknowledgement: "this connection has decoded `frames` pictures so far". */
  var ACK = 'ack';

  /** The text of an ack for `frames` decoded pictures: {"type":"ack","frames":N}. */
  function ackMessage(frames) {
    return JSON.stringify({ type: ACK, frames: frames });
  }

  return { ACK: ACK, ackMessage: ackMessage };
});
