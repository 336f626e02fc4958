/*
 * The WebCodecs player's drop decision: which access units to feed the decoder and which to drop, so that the page
 * shows as many pictures as its decoder can while latency stays bounded. Pure: no clock (every time is passed in, in
 * ms of one clock, performance.now() in the page), no DOM, no decoder.
 *
 * Baseline H.264 resumes only at a key unit: a delta dropped means every delta after it up to the next key is
 * undecodable. So the choice a decoder slower than the stream leaves is which tail of each GOP to drop, and the
 * best one is the shortest: decode while the decoder can start the picture before the next key unit arrives (it is
 * then at most one picture from idle when the key unit comes, and no backlog grows over GOPs), and drop the rest of
 * the GOP from the first unit that cannot (late, not early). A decoder at 23 pictures/s on a 30/s stream with 1 s
 * GOPs then shows 23 of each GOP's 30, with latency bounded by one GOP.
 *
 * - When the decoder can start a unit: after its backlog (the units fed whose pictures have not come out, each at its
 *   measured decode time, key and delta pictures apart: see DropPolicy.output); its picture is out one decode later.
 * - When the next key unit arrives: the GOP clock. Each unit's capture time minus its key unit's gives its place in
 *   the GOP (one clock, the server's, whatever the page's clock says); its arrival minus that place is when the key
 *   would have arrived live, and the smallest over the GOP is the GOP's start on the page's clock (a unit held up on
 *   the way, or replayed in a joining burst, arrives later than live, never earlier). The next key arrives a GOP's
 *   length after that start; the length is the capture-time spacing of the last two key units.
 * - Latency bound: no unit is fed that would come out more than `boundMs` after it arrived live (MAX_LATE_MS, or one
 *   GOP when that is shorter). It governs before the GOP's length is known and for long GOPs. A key unit that finds
 *   more than a quarter of it queued before it (or two pictures, if more: the decoder slowed after the decisions
 *   were made, or the machine stalled) starts a fresh decoder (`flush`) rather than wait behind stale pictures.
 * - "Cannot keep up": from the first drop for lateness until a whole GOP has been decoded without one.
 *
 * Plain script, no build step: `new window.pistreamDropPolicy.DropPolicy()` (the player's state) and
 * `window.pistreamDropPolicy.decide(input)` (the decision alone, a table); loaded before webcodecs-player.js.
 */
(function () {
  'use strict';

  /** Latency bound (ms from a unit's live arrival to its picture out) when the GOP is longer or not known yet. */
  var MAX_LATE_MS = 1000;
  /**
   * The decode time is the median of the last this many measurements (of delta pictures; of key pictures, a third of
   * it): a main thread that stalls makes one picture look slow and the few after it fast, and the median is moved by
   * neither, where a mean took the stall for a slower decoder and dropped GOP tails the decoder would have made.
   */
  var DECODE_SAMPLES = 15;
  /** A key unit behind more than this share of the bound (or two pictures, if more) gets a fresh decoder. */
  var FLUSH_SHARE = 0.25;

  /**
   * What to do with one unit: `decode` it; `flush` (a key unit: close the decoder, dropping what it still holds,
   * and decode this on a fresh one); `drop-gop` (it cannot come out in time: drop it and the rest of its GOP);
   * `wait-key` (a delta while waiting for a key unit: undecodable).
   * @param {DropInput} input
   * @returns {DropDecision}
   */
  function decide(input) {
    if (input.key) {
      // Decided well, a GOP's tail leaves at most a picture or two for the key unit to wait behind; more means the
      // decoder slowed after the decisions, and those pictures are a GOP late already: a fresh decoder for the key unit
      // rather than carry the lateness into the next GOP.
      var flushMs = Math.max(input.boundMs * FLUSH_SHARE, 2 * input.decodeMs);
      return input.queued > 0 && (input.queuedMs > flushMs || input.oldestWaitMs > input.boundMs) ? 'flush' : 'decode';
    }
    if (input.waitKey) return 'wait-key';
    var outInMs = input.queuedMs + input.decodeMs;
    if (input.oldestWaitMs > input.boundMs || input.lateMs + outInMs > input.boundMs) return 'drop-gop';
    // What was fed before it must be done when the next key unit is due; its own picture may end a little after (the
    // key unit then waits one picture, which the next GOP's tail gives back; dropping it would gain nothing).
    // A key unit overdue (this GOP runs longer than the last: a source that skipped frames) says nothing about when it
    // comes: the bound alone decides then.
    var nextKeyInMs = input.nextKeyInMs;
    if (nextKeyInMs !== null && nextKeyInMs > 0 && input.queuedMs > nextKeyInMs) return 'drop-gop';
    return 'decode';
  }

  /**
   * One connection's decoder as the decision needs it: what is in it, how fast it decodes, where the GOP is.
   * @constructor
   */
  function DropPolicy() {
    /** Deltas are undecodable until a key unit: at the start, after a drop and after a decoder error. */
    this.waitKey = true;
    /** When each unit in the decoder was fed, oldest first, and whether it was a key unit. */
    /** @type {{ at: number, key: boolean }[]} */
    this.inDecoder = [];
    /** When the last picture came out. */
    this.lastOutAt = -Infinity;
    /** The decoder's time per delta picture and per key picture (ms), 0 until measured; the last measurements. */
    this.decodeMs = 0;
    this.keyMs = 0;
    /** @type {number[]} */
    this.deltaSamples = [];
    /** @type {number[]} */
    this.keySamples = [];
    /** The capture time of the current GOP's key unit (server clock), and the GOP's length (ms), null until known. */
    /** @type {number | null} */
    this.keyCapturedAt = null;
    /** @type {number | null} */
    this.gopMs = null;
    /** When the current GOP's key unit arrived, or would have if live (page clock). */
    this.gopStart = Infinity;
    /** Whether this GOP dropped anything for lateness, and whether the decoder keeps up (see the file comment). */
    this.lateInGop = false;
    this.keepingUp = true;
    /** Units dropped as undecodable in time (`drop-gop` and the deltas after it), and fresh decoders for a key. */
    this.lateDrops = 0;
    this.flushes = 0;
    /** What the last `drop-gop` or `flush` was decided on (for diagnosis: window.pistream.lastLateDrop). */
    /** @type {DropInput | null} */
    this.lastLate = null;
  }

  /**
   * Decides about a unit that arrived `now`, captured at `capturedAt` (server clock), and keeps the state the
   * decision implies: `drop-gop` waits for a key unit, `decode`/`flush` of a key unit stops waiting, `flush` empties
   * the decoder's record (the player closes it). Call `fed` when the unit is fed.
   * @param {boolean} key @param {number} capturedAt @param {number} now
   * @returns {DropDecision}
   */
  DropPolicy.prototype.take = function (key, capturedAt, now) {
    if (key) this.startGop(capturedAt);
    var place = this.keyCapturedAt === null ? 0 : Math.max(0, capturedAt - this.keyCapturedAt);
    this.gopStart = Math.min(this.gopStart, now - place);
    var input = this.input(key, place, now);
    var decision = decide(input);
    if (decision === 'drop-gop' || decision === 'flush') this.lastLate = input;
    this.after(decision);
    return decision;
  };

  /** The decision's input for a unit `place` ms into its GOP, arrived `now`. @param {boolean} key @param {number} place @param {number} now */
  DropPolicy.prototype.input = function (key, place, now) {
    var gopMs = this.gopMs;
    return {
      key: key,
      waitKey: this.waitKey,
      queued: this.inDecoder.length,
      queuedMs: this.backlogMs(now),
      decodeMs: this.decodeMs || this.keyMs,
      oldestWaitMs: this.inDecoder.length > 0 ? now - this.inDecoder[0].at : 0,
      lateMs: Math.max(0, now - (this.gopStart + place)),
      nextKeyInMs: gopMs === null ? null : this.gopStart + gopMs - now,
      boundMs: gopMs === null ? MAX_LATE_MS : Math.min(MAX_LATE_MS, gopMs),
    };
  };

  /**
   * How long the decoder will take for what is in it, from `now`: each unit at its measured decode time (key and delta
   * apart; one not measured yet taken as the other: a delta costs at most a key picture), the oldest less what it has
   * had since the decoder could start it. Before anything was measured, the oldest's time so far stands for each.
   * (Only then: a main thread that stalled for a while makes the oldest look slow, not the decoder.)
   * @param {number} now
   */
  DropPolicy.prototype.backlogMs = function (now) {
    var units = this.inDecoder;
    if (units.length === 0) return 0;
    var elapsed = now - Math.max(units[0].at, this.lastOutAt);
    var keyMs = this.keyMs || this.decodeMs || elapsed;
    var deltaMs = this.decodeMs || keyMs;
    var ms = Math.max(0, (units[0].key ? keyMs : deltaMs) - elapsed);
    for (var i = 1; i < units.length; i++) ms += units[i].key ? keyMs : deltaMs;
    return ms;
  };

  /** A key unit captured at `capturedAt`: the GOP before it ends (measuring its length), a new one starts. @param {number} capturedAt */
  DropPolicy.prototype.startGop = function (capturedAt) {
    var previous = this.keyCapturedAt;
    // The same key unit again (held while the browser was asked about its codec) is no new GOP.
    if (previous === capturedAt) return;
    if (previous !== null && capturedAt > previous) this.gopMs = capturedAt - previous;
    // A whole GOP decoded without a late drop: the decoder keeps up again.
    if (previous !== null && !this.lateInGop && !this.waitKey) this.keepingUp = true;
    this.keyCapturedAt = capturedAt;
    this.gopStart = Infinity;
    this.lateInGop = false;
  };

  /** @param {DropDecision} decision */
  DropPolicy.prototype.after = function (decision) {
    if (decision === 'decode' || decision === 'flush') {
      this.waitKey = false;
      if (decision === 'flush') {
        // What the old decoder still held is dropped with it.
        this.flushes++;
        this.lateDrops += this.inDecoder.length;
        this.late();
        this.cleared();
      }
      return;
    }
    if (decision === 'drop-gop') {
      this.waitKey = true;
      this.late();
    }
    if (this.lateInGop) this.lateDrops++;
  };

  DropPolicy.prototype.late = function () {
    this.lateInGop = true;
    this.keepingUp = false;
  };

  /** A unit was fed to the decoder at `now`. @param {boolean} key @param {number} now */
  DropPolicy.prototype.fed = function (key, now) {
    this.inDecoder.push({ at: now, key: key });
  };

  /**
   * A picture came out at `now` (the oldest unit in the decoder: it decodes in order). Its decode time is from when
   * the decoder could start it (fed, or the picture before it out, whichever was later) to now; key and delta
   * pictures are measured apart (a key picture costs several deltas).
   * @param {number} now
   */
  DropPolicy.prototype.output = function (now) {
    var unit = this.inDecoder.shift();
    if (unit) {
      var ms = now - Math.max(unit.at, this.lastOutAt);
      if (unit.key) this.keyMs = recentMedian(this.keySamples, ms, Math.ceil(DECODE_SAMPLES / 3));
      else this.decodeMs = recentMedian(this.deltaSamples, ms, DECODE_SAMPLES);
    }
    this.lastOutAt = now;
  };

  /** The decoder was closed (an error, a flush, a new configuration): nothing is in it, and a key unit must come next. */
  DropPolicy.prototype.cleared = function () {
    this.inDecoder = [];
    this.lastOutAt = -Infinity;
  };

  /** A decoder error: wait for a key unit. */
  DropPolicy.prototype.resync = function () {
    this.cleared();
    this.waitKey = true;
  };

  /**
   * Adds `ms` to `samples` (keeping the last `keep`) and returns their median.
   * @param {number[]} samples @param {number} ms @param {number} keep
   */
  function recentMedian(samples, ms, keep) {
    samples.push(ms);
    if (samples.length > keep) samples.shift();
    var sorted = samples.slice().sort(function (a, b) {
      return a - b;
    });
    var mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  window.pistreamDropPolicy = { decide: decide, DropPolicy: DropPolicy, MAX_LATE_MS: MAX_LATE_MS };
})();
