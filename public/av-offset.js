/*
 * The A/V offset, measured from the test pattern and the test tone (`--source test --audio test`): the tone beeps
 * at every whole second of the capture clock, the clock whose time each picture's barcode carries.
 *
 * - Sound: an AnalyserNode on the played sound (sound.js's tap) is read every POLL_MS; a beep's onset (the first
 *   loud sample after SILENT_MS of quiet) is placed on the context's clock, then on the page's through
 *   `getOutputTimestamp()` (when that sample leaves for the speakers). Its capture time is the whole second it
 *   starts, so sound latency = speaker time − that second.
 * - Picture: the core reports each painted picture's glass-to-glass latency (`shown`); the picture on the canvas at
 *   the beep's speaker time gives the video latency at that moment.
 * - Offset = sound latency − video latency: positive when the sound comes after its picture (ITU-R BT.1359 finds
 *   +45 ms early or −125 ms late detectable; the sign here is "sound late" positive, as people say "lags").
 *
 * Without the test pattern or the test tone nothing is found and the HUD shows no offset.
 *
 * Plain script, no build step: `window.pistreamAvOffset`; loaded after sound.js, before viewer-core.js.
 */
(function () {
  'use strict';

  var POLL_MS = 10;
  /** A sample louder than this (full scale 1) starts a beep; the tone's beep is at 0.5. */
  var LOUD = 0.1;
  /** Quieter than this counts as silence (MP2 smears a beep's onset: a few ms of pre-echo at up to 0.03 before it). */
  var QUIET = 0.05;
  /** A beep onset needs this much quiet before it (ms). */
  var SILENT_MS = 10;
  /** From the first sample above QUIET to the first above LOUD, at most (ms). */
  var RISE_MS = 1;
  /** Onsets closer than this to the previous one belong to the same beep (ms). */
  var BEEP_GAP_MS = 500;
  /** A beep is placed this long after its whole second at the earliest (ms): latency runs from −100 to 900 ms. */
  var EARLIEST_MS = -100;
  /** No painted picture within this long before a beep: no offset for it (ms). */
  var PICTURE_FRESH_MS = 250;
  var MAX_PICTURES = 120;
  var MAX_OFFSETS = 600;

  var sound = window.pistreamSound;
  var stats = window.pistream.sound;
  /** Painted pictures: page time (performance.now()) and glass-to-glass latency, oldest first. */
  /** @type {{ at: number, latencyMs: number }[]} */
  var pictures = [];
  /** Beep onsets heard but not yet matched (their speaker time may lie ahead), page time. */
  /** @type {number[]} */
  var pending = [];
  /** Context time of the last onset found (s). */
  var lastOnset = -Infinity;
  /** @type {Float32Array<ArrayBuffer> | null} */
  var samples = null;

  /**
   * The index of the first beep onset in `data`, or -1: the first loud sample of a stretch that turned noisy within
   * RISE_MS after at least SILENT_MS of quiet (a 1 kHz sine rises through QUIET to LOUD within its first period).
   * @param {Float32Array} data @param {number} rate
   */
  function findOnset(data, rate) {
    var quietNeeded = (SILENT_MS * rate) / 1000;
    var rise = (RISE_MS * rate) / 1000;
    var run = 0;
    var lastRun = 0;
    var noisySince = -Infinity;
    for (var i = 0; i < data.length; i++) {
      var v = Math.abs(/** @type {number} */ (data[i]));
      if (v < QUIET) {
        run++;
        continue;
      }
      if (run > 0) {
        lastRun = run;
        noisySince = i;
        run = 0;
      }
      if (v > LOUD && lastRun >= quietNeeded && i - noisySince <= rise) return i;
    }
    return -1;
  }

  function poll() {
    var analyser = sound.analyser();
    if (!analyser || analyser.context.state !== 'running') return;
    var context = /** @type {AudioContext} */ (analyser.context);
    if (!samples) samples = new Float32Array(new ArrayBuffer(analyser.fftSize * 4));
    analyser.getFloatTimeDomainData(samples);
    var end = context.currentTime;
    var i = findOnset(samples, context.sampleRate);
    if (i >= 0) {
      var onset = end - (samples.length - i) / context.sampleRate;
      if ((onset - lastOnset) * 1000 > BEEP_GAP_MS) {
        lastOnset = onset;
        var out = context.getOutputTimestamp();
        var speakerAt = (out.performanceTime || 0) + (onset - (out.contextTime || 0)) * 1000;
        pending.push(speakerAt);
      }
    }
    resolve();
  }

  /** Matches each heard onset whose speaker time has passed with the picture on the canvas then. */
  function resolve() {
    var now = performance.now();
    var epochOffset = Date.now() - now;
    while (pending.length > 0 && /** @type {number} */ (pending[0]) <= now) {
      var at = /** @type {number} */ (pending.shift());
      var picture = pictureAt(at);
      if (!picture) continue;
      var heardAt = at + epochOffset;
      var second = Math.floor((heardAt - EARLIEST_MS) / 1000) * 1000;
      var audioMs = heardAt - second;
      record({ offsetMs: audioMs - picture.latencyMs, audioMs: audioMs, videoMs: picture.latencyMs, at: heardAt });
    }
  }

  /** The picture painted last at or before page time `at`, if fresh. @param {number} at */
  function pictureAt(at) {
    for (var i = pictures.length - 1; i >= 0; i--) {
      var p = /** @type {{ at: number, latencyMs: number }} */ (pictures[i]);
      if (p.at <= at) return at - p.at <= PICTURE_FRESH_MS ? p : null;
    }
    return null;
  }

  /** @param {AvOffset} offset */
  function record(offset) {
    stats.beeps++;
    stats.lastOffset = offset;
    stats.offsets.push(offset);
    if (stats.offsets.length > MAX_OFFSETS) stats.offsets.shift();
  }

  var timer = 0;
  sound.whenReady(function () {
    if (!timer) timer = window.setInterval(poll, POLL_MS);
  });

  /** @type {AvOffsetMeter} */
  var api = {
    /** A picture reached the canvas now, `latencyMs` after its capture. @param {number} latencyMs */
    shown: function (latencyMs) {
      pictures.push({ at: performance.now(), latencyMs: latencyMs });
      if (pictures.length > MAX_PICTURES) pictures.shift();
    },
  };
  window.pistreamAvOffset = api;
})();
