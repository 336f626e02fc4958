/*
 * The MSE player's append queue: the messages waiting for the SourceBuffer, which takes one append at a time.
 * Messages that arrive during an append are queued and appended together next (a joining burst, the replayed GOP,
 * goes in as one append), up to a change of codec string. The queue is bounded: when it grows (the tab is slow) it
 * jumps to the newest key unit queued, or, past a hard bound, drops everything (the player then waits for the next
 * key unit).
 *
 * Plain script, no build step: `window.pistreamMse.appendQueue()`; loaded before mse-player.js.
 */
(function () {
  'use strict';

  /**
   * Messages queued behind an append in progress: past MAX_QUEUE the queue jumps to the newest key unit in it; past
   * HARD_MAX_QUEUE messages or HARD_MAX_BYTES (no key unit in it: the tab cannot keep up) everything queued is
   * dropped. A joining burst (the replayed GOP, before the SourceBuffer exists) is let in whole.
   */
  var MAX_QUEUE = 24;
  var HARD_MAX_QUEUE = 240;
  var HARD_MAX_BYTES = 16 * 1024 * 1024;

  /**
   * Joins the bytes of several messages into one append.
   * @param {MseQueued[]} batch @param {number} size
   */
  function concat(batch, size) {
    if (batch.length === 1) return batch[0].bytes;
    var data = new Uint8Array(new ArrayBuffer(size));
    for (var i = 0, at = 0; i < batch.length; i++) {
      data.set(batch[i].bytes, at);
      at += batch[i].bytes.byteLength;
    }
    return data;
  }

  /**
   * An empty queue.
   * @returns {MseAppendQueue}
   */
  function appendQueue() {
    /** @type {MseQueued[]} */
    var items = [];
    var bytes = 0;

    /** Drops the first `n` messages; returns how many it dropped. @param {number} n */
    function dropFirst(n) {
      var gone = items.splice(0, n);
      for (var i = 0; i < gone.length; i++) bytes -= gone[i].bytes.byteLength;
      return gone.length;
    }

    return {
      items: items,
      push: function (item) {
        items.push(item);
        bytes += item.bytes.byteLength;
      },
      bound: function (appendable) {
        if (items.length > MAX_QUEUE && appendable) {
          for (var i = items.length - 1; i > 0; i--) if (items[i].init) return { dropped: dropFirst(i), lost: false };
        }
        if (items.length > HARD_MAX_QUEUE || bytes > HARD_MAX_BYTES) return { dropped: dropFirst(items.length), lost: true };
        return { dropped: 0, lost: false };
      },
      dropToKey: function () {
        var i = 0;
        while (i < items.length && !items[i].init) i++;
        return dropFirst(i);
      },
      clear: function () {
        return dropFirst(items.length);
      },
      takeBatch: function (codec) {
        var n = 1;
        var size = items[0].bytes.byteLength;
        while (n < items.length && !(items[n].init && items[n].codec !== codec)) {
          size += items[n].bytes.byteLength;
          n++;
        }
        var batch = items.splice(0, n);
        bytes -= size;
        return { data: concat(batch, size), items: batch };
      },
    };
  }

  var mse = window.pistreamMse || (window.pistreamMse = /** @type {PistreamMse} */ ({}));
  mse.appendQueue = appendQueue;
})();
