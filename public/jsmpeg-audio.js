/*
 * The MPEG-1 player's sound: JSMpeg decodes the MP2 track of /stream's MPEG-TS (its MP2 decoder, WASM or JS), and
 * this output (a JSMpeg audio destination: `play(sampleRate, left, right)`, `enqueuedTime`) schedules each decoded
 * frame into the page's WebAudio graph (sound.js) right behind the one before, keeping the queue short:
 *
 * - video never waits for audio: the server sends each sound frame in a message of its own the moment it is encoded,
 *   and a message with a picture has its picture decoded and painted first;
 * - the queue is bounded by the lag allowance (MAX_LAG_MS, 60 ms, a quarter of JSMpeg's 0.25 s: frames that would be
 *   queued beyond it are dropped), and when every arrival in a second still found more than TRIM_ABOVE_MS queued, one
 *   frame is dropped, so after a burst the sound comes back to the smallest delay the link's jitter allows;
 * - a frame that arrives after its predecessor finished playing (an underrun) starts at once.
 *
 * Used instead of JSMpeg's own WebAudioOut, which makes its AudioContext when the player is made (before any user
 * gesture), has no tap for the A/V offset and, past its lag allowance, mutes its output for the rest of a decode.
 * Until the speaker button was first pressed there is no graph: frames are decoded and dropped (counted nowhere).
 *
 * Plain script, no build step: `window.pistreamJsmpegAudio`; loaded after sound.js, before jsmpeg-player.js.
 */
(function () {
  'use strict';

  /**
   * Most sound (ms) queued ahead of what plays. While sound rode with the pictures (bursts every 42 ms at 24 fps) it
   * took 120 ms to keep the drops down (bench/README.md "Sound"); each frame now comes on its own, 24 ms apart, so a
   * frame beyond 60 ms queued is the page's own stall, not the stream's rhythm. `?audioLag=` overrides it for the bench.
   */
  var MAX_LAG_MS = 60;
  /**
   * When a second's arrivals all found at least this much (ms) still queued, one frame is dropped: the queue settles
   * where the least of a second's arrivals finds 0–10 ms ahead of it (was 30, when frames came in bursts).
   */
  var TRIM_ABOVE_MS = 10;
  var TRIM_WINDOW_MS = 1000;

  var param = Number(new URL(window.location.href).searchParams.get('audioLag'));
  var maxLagMs = param > 0 ? param : MAX_LAG_MS;

  var sound = window.pistreamSound;
  var stats = window.pistream.sound;

  /**
   * A JSMpeg audio destination playing into the page's graph, for one connection.
   * @constructor
   */
  function JsmpegAudioOut() {
    /** Context time at which the next frame starts (0: nothing scheduled). */
    this.startTime = 0;
    /** The smallest queue an arrival found in this trim window (ms), and when the window started (ms). */
    this.windowMin = Infinity;
    this.windowStart = 0;
    this.trim = false;
    /** @type {AudioBufferSourceNode[]} */
    this.sources = [];
    /** Set by the player while decoded frames are to be thrown away (a join's replayed GOP). */
    this.skip = false;
  }

  /** Seconds of sound queued ahead of what plays now (JSMpeg reads it). */
  Object.defineProperty(JsmpegAudioOut.prototype, 'enqueuedTime', {
    get: function () {
      var input = sound.input();
      return input ? Math.max(0, this.startTime - input.context.currentTime) : 0;
    },
  });

  /**
   * Whether a frame arriving with `queuedMs` already queued is dropped (the lag allowance, counted as `dropped`; the
   * trim, counted as `trimmed`); updates the trim window.
   * @param {number} queuedMs @param {number} frameMs
   */
  JsmpegAudioOut.prototype.drops = function (queuedMs, frameMs) {
    var now = performance.now();
    if (queuedMs + frameMs > maxLagMs) {
      stats.dropped++;
      return true;
    }
    if (queuedMs < this.windowMin) this.windowMin = queuedMs;
    if (now - this.windowStart >= TRIM_WINDOW_MS) {
      this.trim = this.windowMin > TRIM_ABOVE_MS;
      this.windowMin = Infinity;
      this.windowStart = now;
    }
    if (!this.trim) return false;
    this.trim = false;
    stats.trimmed++;
    return true;
  };

  /**
   * Schedules one decoded frame (JSMpeg's decoder calls it). The MP2 track is mono: the left channel is played.
   * @param {number} sampleRate @param {Float32Array} left
   */
  JsmpegAudioOut.prototype.play = function (sampleRate, left) {
    var input = sound.input();
    if (!input || this.skip) return;
    var context = input.context;
    var now = context.currentTime;
    var frameMs = (left.length / sampleRate) * 1000;
    if (this.startTime < now) {
      if (this.startTime > 0) stats.underruns++;
      this.startTime = now;
    }
    var queuedMs = (this.startTime - now) * 1000;
    if (this.drops(queuedMs, frameMs)) return;
    var buffer = context.createBuffer(1, left.length, sampleRate);
    buffer.getChannelData(0).set(left);
    var source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(input);
    source.start(this.startTime);
    this.track(source);
    this.startTime += buffer.duration;
    stats.scheduled++;
    stats.queueMs = queuedMs;
  };

  /** Keeps the scheduled sources until they end, so `destroy` can stop them. @param {AudioBufferSourceNode} source */
  JsmpegAudioOut.prototype.track = function (source) {
    var sources = this.sources;
    sources.push(source);
    source.onended = function () {
      var i = sources.indexOf(source);
      if (i >= 0) sources.splice(i, 1);
    };
  };

  /** The connection ended: its queued sound stops (a reconnect starts a fresh queue). */
  JsmpegAudioOut.prototype.destroy = function () {
    for (var i = 0; i < this.sources.length; i++) {
      this.sources[i].onended = null;
      this.sources[i].stop();
      this.sources[i].disconnect();
    }
    this.sources = [];
  };

  /** @type {JsmpegAudioApi} */
  var api = {
    maxLagMs: maxLagMs,
    /** An output for one connection. */
    output: function () {
      return new JsmpegAudioOut();
    },
  };
  window.pistreamJsmpegAudio = api;
})();
