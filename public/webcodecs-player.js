/*
 * The H.264 player: decodes the server's per-access-unit messages (wire format `h264`) with WebCodecs'
 * VideoDecoder, plugged into the viewer core (viewer-core.js). protocol.js reads each message's header, by the
 * same definition the server writes it with.
 *
 * - Decode on arrival: each message becomes one EncodedVideoChunk in its own handler. Annex B, so no
 *   `description` (a key unit carries its SPS and PPS); `optimizeForLatency`, which gives Chromium's software
 *   decoder one-in-one-out; default hardware acceleration (Linux Chrome often has no hardware path to prefer).
 * - Paint in the output callback (2D drawImage, canvas sized to the picture), and close every VideoFrame at once.
 *   The joining burst (the server replays the current GOP at once) paints its first picture and then only the
 *   newest: a picture with newer ones already in the decoder is stale.
 * - Drop only what cannot be decoded in time (webcodecs-drop-policy.js): on a decoder slower than the stream, each
 *   GOP is decoded from its key unit for as long as a picture can still come out before the next key unit is due,
 *   and the rest of the GOP is dropped (late, not early: baseline H.264 resumes only at a key unit), so the page
 *   shows as many pictures as the decoder manages and latency stays within about one GOP. The HUD says "decoder
 *   cannot keep up" from the first such drop until a whole GOP is decoded again. Before the first key unit, deltas
 *   are dropped (nothing to predict from).
 * - Acks count the units the page has taken: fed to the decoder, or dropped. The server's slow-viewer rule judges
 *   the way to the page (a network or a tab that stops reading); what the decoder cannot do the page drops itself,
 *   so the server never drops pictures the page could have shown, nor closes a viewer that keeps its latency bounded.
 * - On a decoder error (or a decode() that throws), the decoder is closed and a fresh one starts at the next key
 *   unit: "resyncing…" in the HUD meanwhile, not an error page. A key unit with another codec string or size
 *   reconfigures.
 * - The barcode is read from each picture's top strip only (webcodecs-barcode.js).
 *
 * - Sound (webcodecs-sound.js): the server's Opus beside the pictures on the same socket, asked for only while the
 *   speaker is on, decoded with AudioDecoder; a sound message never goes to the video decoder nor counts in acks.
 *
 * Registers itself as `window.pistreamPlayers.webcodecs`; which codec strings the browser decodes is asked through
 * webcodecs-support.js.
 */
(function () {
  'use strict';

  /** What the HUD says while the decoder drops pictures it cannot decode in time. */
  var CANNOT_KEEP_UP = 'decoder cannot keep up';
  /**
   * The joining burst is over at the first unit that arrives at least this long after the one before it and
   * finds the decoder caught up (the burst's units arrive back to back); or, for a decoder that holds pictures,
   * JOIN_MAX_MS after the first picture.
   */
  var JOIN_GAP_MS = 10;
  var JOIN_MAX_MS = 1000;
  /** Entries kept in state.decodeLog. */
  var MAX_LOG = 5000;
  /** Any baseline H.264 string, to ask before connecting whether this browser decodes H.264 at all. */
  var PROBE_CODEC = 'avc1.42E01E';

  var core = window.pistreamViewer;
  var protocol = window.pistreamProtocol;
  var support = window.pistreamWebCodecsSupport;
  var dropPolicy = window.pistreamDropPolicy;
  var soundApi = window.pistreamWebCodecsSound;
  /** The page's state with this player's fields (install adds them before the first connection). */
  var state = /** @type {WebCodecsState} */ (core.state);
  var canvas = core.canvas;
  /** @type {CanvasRenderingContext2D | null} */
  var ctx = null;

  /**
   * The fields this player adds to `window.pistream`.
   * @param {PageState} page
   */
  function install(page) {
    var st = /** @type {WebCodecsState} */ (page);
    /** The codec string the decoder is configured with (from the key units), e.g. 'avc1.42C01E'. */
    st.codecString = null;
    /** VideoDecoder.decode() calls and output callbacks since the page loaded (all connections). */
    st.decodeCalls = 0;
    st.outputs = 0;
    /**
     * One entry per decode() call, oldest first: `pending`, the units fed to this decoder whose pictures had not
     * come out yet (0: the decoder output picture N before unit N+1 was fed), `gapMs`, the time since the unit
     * before was fed, and `live`, whether the joining burst was over by then.
     */
    st.decodeLog = [];
    /** The current connection's join: units fed in its burst (null while it lasts), and the first picture's frame. */
    st.join = null;
    /** Units dropped by the page (before a key unit, or because they could not be decoded in time). */
    st.skipped = 0;
    /**
     * Of those, the units that could not be decoded in time (the rest of their GOP), and fresh decoders started for
     * a key unit that found a backlog (webcodecs-drop-policy.js); whether the decoder keeps up now, and its measured
     * time per delta picture (ms).
     */
    st.lateDrops = 0;
    st.flushes = 0;
    st.keepingUp = true;
    st.decodeMs = 0;
    /** What the last of those drops was decided on (webcodecs-drop-policy.js's DropInput), for diagnosis. */
    st.lastLateDrop = null;
    /** Decoded pictures not painted because a newer one was already in the decoder (the joining burst). */
    st.paintSkips = 0;
    /** Decoder restarts after an error, and the errors' messages (last few). */
    st.resyncs = 0;
    st.decoderErrors = [];
    /** How the barcode is read: 'copyTo' (Y plane) | 'canvas' (RGB of a strip), null until a picture was read. */
    st.barcodeSource = null;
    /** Sound messages and their bytes received (all connections; none while muted), and the sound decoder's errors. */
    st.soundFrames = 0;
    st.soundBytes = 0;
    st.soundErrors = [];
  }

  /**
   * Why this browser cannot decode H.264 with WebCodecs, or null. (The browser offers WebCodecs on secure pages
   * only: the ladder asks this player on no other.)
   * @returns {Promise<string | null>}
   */
  function check() {
    if (!('VideoDecoder' in window) || !('EncodedVideoChunk' in window)) return Promise.resolve('this browser has no WebCodecs');
    return support.ask(PROBE_CODEC).then(function (ok) {
      return ok ? null : "this browser's WebCodecs has no H.264 decoder";
    });
  }

  /**
   * One connection's decoder.
   * @constructor
   * @param {CoreConnection} s
   */
  function WebCodecsConnection(s) {
    this.s = s;
    this.closed = false;
    /** @type {VideoDecoder | null} */
    this.decoder = null;
    /** What the decoder is configured for, or null. */
    /** @type {{ codec: string, width: number, height: number } | null} */
    this.config = null;
    /** What to decode and what to drop (webcodecs-drop-policy.js). */
    this.policy = new dropPolicy.DropPolicy();
    /** A decoder error: "resyncing…" until the next key unit is decoded. */
    this.resyncing = false;
    /** Units fed to the current decoder, and pictures it output. */
    this.fed = 0;
    this.out = 0;
    this.lastFedAt = -Infinity;
    /** Units waiting while isConfigSupported is asked about a new codec string. */
    /** @type {WebCodecsUnit[] | null} */
    this.held = null;
    /** The joining burst has drained (see JOIN_MAX_MS). */
    this.live = false;
    this.firstOutputAt = 0;
    this.painted = 0;
    /** Source frame numbers of the units in the decoder, by chunk timestamp. */
    /** @type {Map<number, number>} */
    this.seqs = new Map();
    /** @type {{ burstUnits: number | null, firstFrame: number | null }} */
    this.join = state.join = { burstUnits: null, firstFrame: null };
    /** This connection's sound (webcodecs-sound.js): asked for while the speaker is on. */
    this.sound = soundApi.open(s);
  }

  /** @param {ArrayBuffer} buffer */
  WebCodecsConnection.prototype.message = function (buffer) {
    var sound = soundApi.header(buffer);
    if (sound) return this.sound.message(buffer, sound);
    // The speaker button, read on each picture: sound is asked for (or stopped) within a picture's interval.
    this.sound.update();
    var header = protocol.readUnitHeader(buffer);
    if (!header || header.offset === buffer.byteLength) {
      this.drop();
      return;
    }
    /** @type {WebCodecsUnit} */
    var unit = Object.assign({ data: new Uint8Array(buffer, header.offset) }, header);
    if (this.held) this.held.push(unit);
    else this.take(unit);
  };

  /** Decodes, drops, or (for a key unit with a codec string not asked about yet) holds one unit. @param {WebCodecsUnit} unit */
  WebCodecsConnection.prototype.take = function (unit) {
    var policy = this.policy;
    var late = policy.lateDrops;
    var flushes = policy.flushes;
    var decision = policy.take(unit.key, unit.capturedAt, performance.now());
    state.lateDrops += policy.lateDrops - late;
    state.flushes += policy.flushes - flushes;
    if (policy.lastLate) state.lastLateDrop = policy.lastLate;
    this.showNote();
    if (decision === 'wait-key' || decision === 'drop-gop') return this.drop();
    // A key unit behind a backlog older than the bound: a fresh decoder for it rather than wait behind stale pictures.
    if (decision === 'flush') this.closeDecoder();
    if (unit.key) {
      if (!this.ready(unit)) return;
      this.resyncing = false;
      this.showNote();
    } else if (!this.decoder) {
      return this.drop();
    }
    this.decode(unit);
  };

  /**
   * Whether the decoder is configured for key unit `unit`, configuring it if it can be; if not, the unit is dropped,
   * held (its codec string is being asked about) or the page says it cannot play it.
   * @param {WebCodecsUnit} unit
   */
  WebCodecsConnection.prototype.ready = function (unit) {
    var codec = unit.codec || (this.config && this.config.codec);
    var c = this.config;
    if (!codec) {
      this.drop();
      return false;
    }
    if (this.decoder && c && c.codec === codec && c.width === unit.width && c.height === unit.height) return true;
    var known = support.known(codec);
    if (known === undefined) {
      this.ask(codec, unit);
      return false;
    }
    if (!known) {
      core.unsupported("This browser can't play this H.264 stream here: WebCodecs cannot decode " + codec);
      return false;
    }
    return this.configure(codec, unit);
  };

  /** The player's word in the HUD: "resyncing…" after an error, else whether the decoder keeps up. */
  WebCodecsConnection.prototype.showNote = function () {
    state.keepingUp = this.policy.keepingUp;
    core.setNote(this.resyncing ? 'resyncing…' : state.keepingUp ? null : CANNOT_KEEP_UP);
  };

  /**
   * Holds units from `unit` on until the browser has said whether it decodes `codec`.
   * @param {string} codec @param {WebCodecsUnit} unit
   */
  WebCodecsConnection.prototype.ask = function (codec, unit) {
    var c = this;
    c.held = [unit];
    support.ask(codec).then(function () {
      if (c.closed || !c.held) return;
      c.release(c.held);
    });
  };

  /** Takes the units held; a key unit among them that asks about yet another codec holds the rest. @param {WebCodecsUnit[]} held */
  WebCodecsConnection.prototype.release = function (held) {
    this.held = null;
    for (var i = 0; i < held.length; i++) {
      if (this.closed) return;
      // take() holds what follows a key unit that asks about another codec (the cast: TS keeps the null above).
      var nowHeld = /** @type {WebCodecsUnit[] | null} */ (this.held);
      if (nowHeld) {
        this.held = nowHeld.concat(held.slice(i));
        return;
      }
      this.take(held[i]);
    }
  };

  /** @param {string} codec @param {WebCodecsUnit} unit */
  WebCodecsConnection.prototype.configure = function (codec, unit) {
    var c = this;
    try {
      if (!c.decoder || c.decoder.state === 'closed') {
        var decoder = new window.VideoDecoder({
          output: function (frame) {
            c.onOutput(decoder, frame);
          },
          error: function (err) {
            c.onError(decoder, err);
          },
        });
        c.decoder = decoder;
      }
      // Annex B: no description; the key unit carries SPS and PPS.
      c.decoder.configure({ codec: codec, optimizeForLatency: true });
    } catch (err) {
      c.onError(c.decoder, err);
      return false;
    }
    c.config = { codec: codec, width: unit.width, height: unit.height };
    state.codecString = codec;
    return true;
  };

  /** Feeds one unit to the decoder. @param {WebCodecsUnit} unit */
  WebCodecsConnection.prototype.decode = function (unit) {
    var decoder = this.decoder;
    if (!decoder) return;
    var now = performance.now();
    var pending = this.fed - this.out;
    var gapMs = now - this.lastFedAt;
    if (!this.live && this.out > 0 && pending === 0 && gapMs >= JOIN_GAP_MS) this.endJoin();
    var log = state.decodeLog;
    log.push({ pending: pending, live: this.live, gapMs: Math.round(gapMs) });
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
    state.decodeCalls++;
    this.fed++;
    this.policy.fed(unit.key, now);
    this.lastFedAt = now;
    // Taken: acknowledged now (see the file comment), whenever its picture comes out.
    this.s.handled++;
    core.ack(this.s);
    // Microseconds, as WebCodecs counts; the capture time, so each picture out says which unit it was.
    var timestamp = Math.round(unit.capturedAt * 1000);
    this.seqs.set(timestamp, unit.seq);
    try {
      /** @type {EncodedVideoChunkType} */
      var type = unit.key ? 'key' : 'delta';
      decoder.decode(new window.EncodedVideoChunk({ type: type, timestamp: timestamp, data: unit.data }));
    } catch (err) {
      this.onError(decoder, err);
    }
  };

  /** A picture out of `decoder`. @param {VideoDecoder} decoder @param {VideoFrame} frame */
  WebCodecsConnection.prototype.onOutput = function (decoder, frame) {
    if (decoder !== this.decoder || this.closed) {
      frame.close();
      return;
    }
    var decodedAt = Date.now();
    var s = this.s;
    this.out++;
    this.policy.output(performance.now());
    state.decodeMs = this.policy.decodeMs;
    state.outputs++;
    var found = this.seqs.get(frame.timestamp);
    var seq = found === undefined ? null : found;
    this.seqs.delete(frame.timestamp);
    core.pictureDecoded(s);
    var inDecoder = this.fed - this.out;
    if (!this.live) {
      if (this.out === 1) this.firstOutputAt = performance.now();
      else if (performance.now() - this.firstOutputAt > JOIN_MAX_MS) this.endJoin();
    }
    try {
      readBarcode(frame, decodedAt);
      // The first picture at once; in the joining burst only the newest after it.
      if (this.live || this.painted === 0 || inDecoder === 0) this.paint(frame, seq);
      else state.paintSkips++;
    } finally {
      frame.close();
    }
  };

  WebCodecsConnection.prototype.endJoin = function () {
    this.live = true;
    this.join.burstUnits = this.fed;
  };

  /** @param {VideoFrame} frame @param {number | null} seq */
  WebCodecsConnection.prototype.paint = function (frame, seq) {
    if (!ctx) ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) return;
    if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
    if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
    ctx.drawImage(frame, 0, 0, canvas.width, canvas.height);
    if (this.painted++ === 0) this.join.firstFrame = seq;
    core.painted(this.s, seq);
  };

  /**
   * A decoder error: start again with a fresh decoder at the next key unit.
   * @param {VideoDecoder | null} decoder @param {unknown} err
   */
  WebCodecsConnection.prototype.onError = function (decoder, err) {
    if (decoder !== this.decoder || this.closed) return;
    state.resyncs++;
    state.decoderErrors.push(String((err && /** @type {Error} */ (err).message) || err));
    if (state.decoderErrors.length > 10) state.decoderErrors.shift();
    // The units in the old decoder are gone (acknowledged already, when they were taken).
    this.closeDecoder();
    this.policy.resync();
    this.resyncing = true;
    this.showNote();
  };

  WebCodecsConnection.prototype.closeDecoder = function () {
    var decoder = this.decoder;
    this.decoder = null;
    this.config = null;
    this.fed = this.out = 0;
    this.policy.cleared();
    this.seqs.clear();
    if (decoder && decoder.state !== 'closed') {
      try {
        decoder.close();
      } catch (err) {
        // Closed meanwhile: nothing left to release.
      }
    }
  };

  /** A unit the page does not decode: counted as handled, so acks keep the server's picture of this viewer true. */
  WebCodecsConnection.prototype.drop = function () {
    state.skipped++;
    this.s.handled++;
    core.ack(this.s);
  };

  WebCodecsConnection.prototype.close = function () {
    this.closed = true;
    this.held = null;
    this.closeDecoder();
    this.sound.close();
  };

  /**
   * Reads the test pattern's barcode off a decoded picture, for glass-to-glass (webcodecs-barcode.js).
   * @param {VideoFrame} frame @param {number} decodedAt
   */
  function readBarcode(frame, decodedAt) {
    window.pistreamFrameBarcode(frame, function (barcode, how) {
      state.barcodeSource = how;
      core.barcodeRead(barcode, decodedAt);
    });
  }

  window.pistreamPlayers = window.pistreamPlayers || {};
  /** @type {Player} */
  var player = {
    id: 'webcodecs',
    name: 'WebCodecs',
    label: 'H.264 · WebCodecs',
    // The wire format's id (the /h264 route), which happens to be spelled as the codec's.
    // eslint-disable-next-line no-restricted-syntax
    formats: ['h264'],
    check: check,
    soundCheck: soundApi.check,
    install: install,
    open: function (s) {
      return new WebCodecsConnection(s);
    },
  };
  window.pistreamPlayers.webcodecs = player;
})();
