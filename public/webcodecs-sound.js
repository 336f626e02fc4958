/*
 * The WebCodecs page's sound: the server's Opus frames (sent on the `/h264` socket beside the pictures, only after
 * the page asks: protocol.js's sound request and sound messages) decoded with WebCodecs' AudioDecoder and scheduled
 * into the page's WebAudio graph (sound.js), so the speaker button, the volume and the A/V offset's tap act on it as
 * on the other players' sound.
 *
 * - No sound bytes for a muted page: the socket starts without sound; the page asks for it once the speaker button
 *   is on and the browser decodes the codec, and says "no more" when muted again (read on each message, so a toggle
 *   takes effect within a picture's interval).
 * - Where the browser has no AudioDecoder, or `isConfigSupported` says no to the server's codec, the page never asks:
 *   the picture plays as before and the speaker button says why there is no sound (sound.js `unavailable`).
 * - Each frame is decoded on arrival (sound messages come as soon as the server encodes them, never with a picture)
 *   and its samples go to the same bounded queue the JSMpeg player's MP2 uses (jsmpeg-audio.js: a frame that would
 *   queue past the lag allowance is dropped, a queue that stays long is trimmed), so sound latency stays bounded and
 *   never grows. Chunks are stamped with their capture time (µs), the pictures' clock; a frame not after the last
 *   one taken (a repeat after a reconnect's overlap) is dropped.
 *
 * Plain script, no build step: `window.pistreamWebCodecsSound`; loaded after sound.js, jsmpeg-audio.js and
 * protocol.js, before webcodecs-player.js.
 */
(function () {
  'use strict';

  var protocol = window.pistreamProtocol;
  var sound = window.pistreamSound;
  var queue = window.pistreamJsmpegAudio;
  var stats = window.pistream.sound;
  /** The page's state with the WebCodecs player's fields (its sound counters among them). */
  var state = /** @type {WebCodecsState} */ (window.pistream);

  /** The browser's answers on sound configurations, by "codec/rate/channels". @type {Record<string, Promise<boolean>>} */
  var answers = {};
  /** Whether the server's sound decodes here (the ladder's `soundCheck` sets it; until then, not asked). */
  var decodable = false;

  /** @param {NonNullable<StreamFormat['audio']>} audio */
  function configOf(audio) {
    return { codec: audio.codecString, sampleRate: audio.sampleRate, numberOfChannels: audio.channels };
  }

  /**
   * Why this browser cannot play the server's sound with WebCodecs, or null (it can).
   * @param {NonNullable<StreamFormat['audio']>} audio what GET /streams says of it
   * @returns {Promise<string | null>}
   */
  function check(audio) {
    if (!('AudioDecoder' in window) || !('EncodedAudioChunk' in window)) {
      return Promise.resolve('no sound: this browser has no WebCodecs AudioDecoder');
    }
    var config = configOf(audio);
    var key = config.codec + '/' + config.sampleRate + '/' + config.numberOfChannels;
    var answer = answers[key];
    if (!answer) {
      answer = answers[key] = window.AudioDecoder.isConfigSupported(config).then(
        function (result) {
          return result.supported === true;
        },
        function () {
          return false;
        }
      );
    }
    return answer.then(function (ok) {
      decodable = ok;
      return ok ? null : "no sound: this browser's AudioDecoder cannot decode " + audio.label;
    });
  }

  /**
   * One connection's sound.
   * @constructor
   * @param {CoreConnection} s
   */
  function WebCodecsSound(s) {
    this.s = s;
    this.closed = false;
    /** Whether the server was asked for sound on this socket (and not told to stop since). */
    this.asked = false;
    /** @type {AudioDecoder | null} */
    this.decoder = null;
    /** The configuration the decoder has, as "codec/rate/channels". */
    this.configured = '';
    /** The capture time (µs) of the last frame decoded. */
    this.lastTimestamp = -Infinity;
    /** The bounded queue into the page's graph. */
    this.out = queue.output();
  }

  /** Asks the server for sound, or tells it to stop, as the speaker button now says. */
  WebCodecsSound.prototype.update = function () {
    var want = decodable && !stats.muted && sound.input() !== null;
    var socket = this.s.socket;
    if (want === this.asked || this.closed || !socket || socket.readyState !== WebSocket.OPEN) return;
    this.asked = want;
    socket.send(protocol.soundMessage(want));
  };

  /**
   * One sound message (its header read already). Frames that come after the page said stop are dropped.
   * @param {ArrayBuffer} buffer @param {SoundHeader} header
   */
  WebCodecsSound.prototype.message = function (buffer, header) {
    state.soundBytes += buffer.byteLength;
    state.soundFrames++;
    var timestamp = Math.round(header.capturedAt * 1000);
    if (!this.asked || timestamp <= this.lastTimestamp || !this.ready(header)) return;
    this.lastTimestamp = timestamp;
    try {
      /** @type {AudioDecoder} */ (this.decoder).decode(
        new window.EncodedAudioChunk({ type: 'key', timestamp: timestamp, data: new Uint8Array(buffer, header.offset) })
      );
    } catch (err) {
      this.fail(err);
    }
  };

  /** Whether the decoder is configured for `header`'s sound, configuring it if needed. @param {SoundHeader} header */
  WebCodecsSound.prototype.ready = function (header) {
    var key = header.codec + '/' + header.sampleRate + '/' + header.channels;
    if (this.decoder && this.configured === key) return true;
    var c = this;
    try {
      if (!c.decoder) {
        var decoder = new window.AudioDecoder({
          output: function (data) {
            c.output(decoder, data);
          },
          error: function (err) {
            if (decoder === c.decoder) c.fail(err);
          },
        });
        c.decoder = decoder;
      }
      c.decoder.configure({ codec: header.codec, sampleRate: header.sampleRate, numberOfChannels: header.channels });
      c.configured = key;
      return true;
    } catch (err) {
      c.fail(err);
      return false;
    }
  };

  /** A decoded frame: its first channel to the queue (the server's sound is mono). @param {AudioDecoder} decoder @param {AudioData} data */
  WebCodecsSound.prototype.output = function (decoder, data) {
    try {
      if (decoder !== this.decoder || this.closed) return;
      var samples = new Float32Array(data.numberOfFrames);
      data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
      this.out.play(data.sampleRate, samples, samples);
    } finally {
      data.close();
    }
  };

  /** A decoder error: the decoder is closed; the next frame starts a fresh one. @param {unknown} err */
  WebCodecsSound.prototype.fail = function (err) {
    state.soundErrors.push(String((err && /** @type {Error} */ (err).message) || err));
    if (state.soundErrors.length > 10) state.soundErrors.shift();
    this.closeDecoder();
  };

  WebCodecsSound.prototype.closeDecoder = function () {
    var decoder = this.decoder;
    this.decoder = null;
    this.configured = '';
    if (decoder && decoder.state !== 'closed') {
      try {
        decoder.close();
      } catch (err) {
        // Closed meanwhile: nothing left to release.
      }
    }
  };

  WebCodecsSound.prototype.close = function () {
    this.closed = true;
    this.closeDecoder();
    this.out.destroy();
  };

  /** @type {WebCodecsSoundApi} */
  var api = {
    check: check,
    /** @param {ArrayBuffer} buffer */
    header: function (buffer) {
      return protocol.readSoundHeader(buffer);
    },
    /** @param {CoreConnection} s */
    open: function (s) {
      return new WebCodecsSound(s);
    },
  };
  window.pistreamWebCodecsSound = api;
})();
