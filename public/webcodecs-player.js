/*
 * The H.264 player: decodes the server's per-access-unit messages (`h264`, next to this page) with WebCodecs'
 * VideoDecoder, plugged into the viewer core (viewer-core.js). protocol.js reads each message's header, by the
 * same definition the server writes it with.
 *
 * - Decode on arrival: each message becomes one EncodedVideoChunk in its own handler. Annex B, so no
 *   `description` (a key unit carries its SPS and PPS); `optimizeForLatency`, which gives Chromium's software
 *   decoder one-in-one-out; default hardware acceleration (Linux Chrome often has no hardware path to prefer).
 * - Paint in the output callback (2D drawImage, canvas sized to the picture), and close every VideoFrame at once.
 *   The joining burst (the server replays the current GOP at once) paints its first picture and then only the
 *   newest: a picture with newer ones already in the decoder is stale.
 * - Drop rather than queue: when the decoder's queue grows beyond a few units and its oldest has waited too long
 *   (a decoder slower than the stream, not a joining burst), delta units are skipped until the next key unit.
 *   Before the first key unit, deltas are dropped (nothing to predict from).
 * - On a decoder error (or a decode() that throws), the decoder is closed and a fresh one starts at the next key
 *   unit: "resyncing…" in the HUD meanwhile, not an error page. A key unit with another codec string or size
 *   reconfigures.
 * - The barcode is read from each picture's top strip only: copied out of the Y plane (copyTo of a 512x32 rect,
 *   ~24 KB) where the frame is I420/NV12, else drawn into a small canvas and read from RGB.
 *
 * Registers itself as `window.pistreamPlayers.webcodecs`.
 */
(function () {
  'use strict';

  /**
   * The decoder is behind when more units than this wait in its queue (or more than MAX_IN_DECODER are in it: a
   * decoder that holds pictures may hold up to 16) while the oldest has waited over MAX_WAIT_MS: then delta units
   * are skipped to the next key unit. The wait tells a joining burst (units queued, each decoded in a few ms) from
   * a decoder slower than the stream (the wait grows).
   */
  var MAX_DECODE_QUEUE = 3;
  var MAX_IN_DECODER = 20;
  var MAX_WAIT_MS = 250;
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
  /** Pixel formats whose first plane is luma, read with copyTo. */
  var LUMA_FORMATS = { I420: true, I420A: true, I422: true, I444: true, NV12: true };

  var core = window.pistreamViewer;
  var barcodeReader = window.pistreamBarcode;
  var protocol = window.pistreamProtocol;
  var state = core.state;
  var canvas = core.canvas;
  var ctx = null;
  /** The barcode strip's canvas (only for frames copyTo cannot read as luma). */
  var strip = null;
  /** isConfigSupported's answer per codec string: true / false, or a Promise while asked. */
  var supported = {};

  /** The fields this player adds to `window.pistream`. */
  function install(st) {
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
    /** Units dropped by the page (before a key unit, or skipped while the decoder was behind). */
    st.skipped = 0;
    /** Decoded pictures not painted because a newer one was already in the decoder (the joining burst). */
    st.paintSkips = 0;
    /** Decoder restarts after an error, and the errors' messages (last few). */
    st.resyncs = 0;
    st.decoderErrors = [];
    /** How the barcode is read: 'copyTo' (Y plane) | 'canvas' (RGB of a strip), null until a picture was read. */
    st.barcodeSource = null;
  }

  /** Why this browser cannot decode H.264 with WebCodecs, or null; asynchronously, to `then(problem)`. */
  function check(then) {
    if (!window.isSecureContext) return then('WebCodecs needs a secure page (https, or localhost)');
    if (!('VideoDecoder' in window) || !('EncodedVideoChunk' in window)) return then('this browser has no WebCodecs');
    isSupported(PROBE_CODEC).then(function (ok) {
      then(ok ? null : "this browser's WebCodecs has no H.264 decoder");
    });
  }

  /** A Promise of whether VideoDecoder takes `codec` with optimizeForLatency (asked once per codec string). */
  function isSupported(codec) {
    var known = supported[codec];
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
        supported[codec] = ok;
        return ok;
      });
    supported[codec] = asked;
    return asked;
  }

  /** One connection's decoder. */
  function Connection(s) {
    this.s = s;
    this.closed = false;
    this.decoder = null;
    /** What the decoder is configured for: { codec, width, height }, or null. */
    this.config = null;
    /** Deltas are dropped until a key unit: at the start, after an error, and while skipping (behind). */
    this.waitKey = true;
    /** Units fed to the current decoder, and pictures it output. */
    this.fed = 0;
    this.out = 0;
    /** When each unit in the decoder was fed (performance.now()), oldest first. */
    this.fedAt = [];
    this.lastFedAt = -Infinity;
    /** Units waiting while isConfigSupported is asked about a new codec string. */
    this.held = null;
    /** The joining burst has drained (see JOIN_MAX_MS). */
    this.live = false;
    this.firstOutputAt = 0;
    this.painted = 0;
    /** Source frame numbers of the units in the decoder, by chunk timestamp. */
    this.seqs = new Map();
    this.join = state.join = { burstUnits: null, firstFrame: null };
  }

  Connection.prototype.message = function (buffer) {
    var unit = protocol.readUnitHeader(buffer);
    if (!unit || unit.offset === buffer.byteLength) {
      this.drop();
      return;
    }
    unit.data = new Uint8Array(buffer, unit.offset);
    if (this.held) this.held.push(unit);
    else this.take(unit);
  };

  /** Decodes, drops, or (for a key unit with a codec string not asked about yet) holds one unit. */
  Connection.prototype.take = function (unit) {
    if (unit.key) {
      var codec = unit.codec || (this.config && this.config.codec);
      var c = this.config;
      if (!codec) return this.drop();
      if (!this.decoder || !c || c.codec !== codec || c.width !== unit.width || c.height !== unit.height) {
        var known = supported[codec];
        if (known !== true && known !== false) return this.ask(codec, unit);
        if (!known) {
          core.unsupported("This browser can't play this H.264 stream here: WebCodecs cannot decode " + codec);
          return;
        }
        if (!this.configure(codec, unit)) return;
      }
      this.waitKey = false;
      core.setNote(null);
    } else if (this.waitKey || !this.decoder) {
      return this.drop();
    } else if (this.behind()) {
      // Behind: what is queued is stale already. Skip to the next key unit rather than fall further behind.
      this.waitKey = true;
      core.setNote('catching up…');
      return this.drop();
    }
    this.decode(unit);
  };

  Connection.prototype.behind = function () {
    var queued = this.decoder.decodeQueueSize > MAX_DECODE_QUEUE || this.fed - this.out > MAX_IN_DECODER;
    return queued && this.fedAt.length > 0 && performance.now() - this.fedAt[0] > MAX_WAIT_MS;
  };

  /** Holds units from `unit` on until the browser has said whether it decodes `codec`. */
  Connection.prototype.ask = function (codec, unit) {
    var c = this;
    c.held = [unit];
    isSupported(codec).then(function () {
      if (c.closed) return;
      var held = c.held;
      c.held = null;
      for (var i = 0; i < held.length && !c.closed && !c.held; i++) c.take(held[i]);
      // A later key unit asked about yet another codec: it holds the rest.
      if (c.held) c.held = c.held.concat(held.slice(i));
    });
  };

  Connection.prototype.configure = function (codec, unit) {
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

  Connection.prototype.decode = function (unit) {
    var now = performance.now();
    var pending = this.fed - this.out;
    var gapMs = now - this.lastFedAt;
    if (!this.live && this.out > 0 && pending === 0 && gapMs >= JOIN_GAP_MS) this.endJoin();
    var log = state.decodeLog;
    log.push({ pending: pending, live: this.live, gapMs: Math.round(gapMs) });
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
    state.decodeCalls++;
    this.fed++;
    this.fedAt.push(now);
    this.lastFedAt = now;
    // Microseconds, as WebCodecs counts; the capture time, so each picture out says which unit it was.
    var timestamp = Math.round(unit.capturedAt * 1000);
    this.seqs.set(timestamp, unit.seq);
    try {
      var type = unit.key ? 'key' : 'delta';
      this.decoder.decode(new window.EncodedVideoChunk({ type: type, timestamp: timestamp, data: unit.data }));
    } catch (err) {
      this.onError(this.decoder, err);
    }
  };

  Connection.prototype.onOutput = function (decoder, frame) {
    if (decoder !== this.decoder || this.closed) {
      frame.close();
      return;
    }
    var decodedAt = Date.now();
    var s = this.s;
    this.out++;
    this.fedAt.shift();
    state.outputs++;
    s.handled++;
    var seq = this.seqs.has(frame.timestamp) ? this.seqs.get(frame.timestamp) : null;
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
    core.ack(s);
  };

  Connection.prototype.endJoin = function () {
    this.live = true;
    this.join.burstUnits = this.fed;
  };

  Connection.prototype.paint = function (frame, seq) {
    if (!ctx) ctx = canvas.getContext('2d', { alpha: false });
    if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
    if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
    ctx.drawImage(frame, 0, 0, canvas.width, canvas.height);
    if (this.painted++ === 0) this.join.firstFrame = seq;
    core.painted(this.s, seq);
  };

  /** A decoder error: start again with a fresh decoder at the next key unit. */
  Connection.prototype.onError = function (decoder, err) {
    if (decoder !== this.decoder || this.closed) return;
    state.resyncs++;
    state.decoderErrors.push(String((err && err.message) || err));
    if (state.decoderErrors.length > 10) state.decoderErrors.shift();
    // The units in the old decoder are gone: handled, as far as acks go.
    this.s.handled += this.fed - this.out;
    this.closeDecoder();
    this.waitKey = true;
    core.setNote('resyncing…');
    core.ack(this.s);
  };

  Connection.prototype.closeDecoder = function () {
    var decoder = this.decoder;
    this.decoder = null;
    this.config = null;
    this.fed = this.out = 0;
    this.fedAt = [];
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
  Connection.prototype.drop = function () {
    state.skipped++;
    this.s.handled++;
    core.ack(this.s);
  };

  Connection.prototype.close = function () {
    this.closed = true;
    this.held = null;
    this.closeDecoder();
  };

  /** Reads the test pattern's barcode off the picture's top strip (async for copyTo), for glass-to-glass. */
  function readBarcode(frame, decodedAt) {
    var width = barcodeReader.WIDTH;
    var height = barcodeReader.HEIGHT;
    if (frame.displayWidth < width || frame.displayHeight < height) return;
    if (LUMA_FORMATS[frame.format]) {
      var rect = { x: frame.visibleRect.x, y: frame.visibleRect.y, width: width, height: height };
      var buffer = new Uint8Array(frame.allocationSize({ rect: rect }));
      // The copy takes its own reference to the picture: the frame is closed right after this returns.
      frame.copyTo(buffer, { rect: rect }).then(
        function (layout) {
          state.barcodeSource = 'copyTo';
          var luma = buffer.subarray(layout[0].offset);
          core.barcodeRead(barcodeReader.readPlane(luma, layout[0].stride, height), decodedAt);
        },
        function () {}
      );
      return;
    }
    if (!strip) {
      strip = document.createElement('canvas');
      strip.width = width;
      strip.height = height;
    }
    var stripCtx = strip.getContext('2d', { willReadFrequently: true });
    stripCtx.drawImage(frame, 0, 0, width, height, 0, 0, width, height);
    var pixels = stripCtx.getImageData(0, 0, width, height).data;
    state.barcodeSource = 'canvas';
    core.barcodeRead(
      barcodeReader.read(function (x, y) {
        var i = (y * width + x) * 4;
        return (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
      }),
      decodedAt
    );
  }

  window.pistreamPlayers = window.pistreamPlayers || {};
  window.pistreamPlayers.webcodecs = {
    id: 'webcodecs',
    label: 'H.264 · WebCodecs',
    /** The socket's path next to the page; viewer.js replaces it with the one `streams` names. */
    path: 'h264',
    check: check,
    install: install,
    open: function (s) {
      return new Connection(s);
    },
  };
})();
