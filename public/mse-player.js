/*
 * The H.264 player for pages where WebCodecs is not there (plain-http pages on a LAN, iPhones): plays the server's
 * fragmented MP4 (format `fmp4`) through Media Source Extensions in a <video>, plugged into the viewer core
 * (viewer-core.js). This file is the session, one per connection; its parts are files of their own, loaded before
 * it: the box reader (mse-boxes.js), the append queue (mse-append-queue.js), the live edge and the trim
 * (mse-live-edge.js), the <video> and its MediaSource (mse-media-source.js), the presented pictures
 * (mse-presented-frames.js) and the barcode read off them (strip-barcode.js).
 *
 * The stream: one message per access unit; a key unit's message is an init segment (ftyp + moov, whose avcC gives
 * the codec string) followed by its moof + mdat, every other message one moof + mdat. Timestamps (tfdt) are the
 * capture clock's, so a viewer's first time is not 0.
 *
 * - `MediaSource` (or `ManagedMediaSource` on iPhone), `duration = Infinity` (Safari pauses on underflow
 *   otherwise), one SourceBuffer in 'segments' mode. The server's init segments have mvhd duration 0 and no mehd,
 *   which puts Chrome's renderer in its one-frame low-delay mode.
 * - Appends strictly one at a time (updateend), from the bounded append queue.
 * - Trim: every few seconds, up to the trim point behind the playhead.
 * - Recovery: a QuotaExceededError empties the buffer and waits for the next key unit; a media or decoder error
 *   (video.error, the SourceBuffer's error, the MediaSource closing or ending under us) reopens a fresh
 *   MediaSource at the next key unit, on the same socket; "resyncing…" in the HUD meanwhile.
 * - Pictures are counted and the test pattern's barcode read as they are presented.
 * - Acks count messages taken in (queued for the SourceBuffer, or dropped), not appended: the MediaSource opens
 *   asynchronously, and a joining burst acknowledged only once appended would look to the server like a viewer
 *   lagging by its maxLagMs, which skips it to the next key unit (a hole in the timeline right after the join).
 *   What the page cannot keep up with it drops itself (the bounded queue, the seek to the live edge).
 *
 * - Sound: the player plays `fmp4` (pictures only), muted, with sound on too: once the viewer turns sound on,
 *   viewer.js has it play the server's sound alone from `/sound` (its `soundBeside`) through JSMpeg's MP2 decoder
 *   into the page's graph (mse-sound.js), so no picture waits for Chromium's 200 ms audio start. (A stream whose
 *   SourceBuffer holds both tracks, 'avc1.…,mp4a.40.2' as `fmp4-sound` sends, still plays: its live edge is where
 *   both tracks are buffered, a hole in either jumped, mse-live-edge.js; the page no longer asks for one.)
 *
 * Registers itself as `window.pistreamPlayers.mse`.
 */
(function () {
  'use strict';

  /** Before the stream has told its picture interval (s). */
  var DEFAULT_FRAME_S = 1 / 24;
  /** Trim every TRIM_EVERY_MS. */
  var TRIM_EVERY_MS = 3000;
  /** The live-edge check also runs on this timer (a stalled or paused video presents no frames to check on). */
  var TICK_MS = 250;
  /** Any baseline H.264 type, to ask before connecting whether this browser's MSE plays H.264 at all. */
  var PROBE_TYPE = 'video/mp4; codecs="avc1.42E01E"';
  /** Entries kept in state.mse.errors. */
  var MAX_ERRORS = 10;
  /**
   * Whether each connection attaches its MediaSource while its socket opens (see {@link MseConnection.prototype.attachSource}),
   * rather than at the first key unit. `?prime=off` leaves it to the key unit, as the page did before; kept so the
   * benchmark can compare the two joins in one run.
   */
  var PRIME = new URL(window.location.href).searchParams.get('prime') !== 'off';

  var core = window.pistreamViewer;
  var parts = window.pistreamMse;
  var media = parts.mediaSource;
  var canvas = core.canvas;
  /** The fields this player adds to `window.pistream` (install); null until it is the player in use. */
  /** @type {MseStats | null} */
  var stats = null;
  /** The newest connection (for `stats.pending`). */
  /** @type {MseConnection | null} */
  var current = null;

  /** Why this browser cannot play H.264 through MSE, or null. */
  function check() {
    if (!media.mediaSourceClass()) return Promise.resolve('this browser has no Media Source Extensions');
    return Promise.resolve(media.isTypeSupported(PROBE_TYPE) ? null : "this browser's Media Source Extensions play no H.264");
  }

  /**
   * A Content-Security-Policy without `media-src blob:` refuses the MediaSource's blob: URL (every reopen would be
   * refused too): say so in words instead of resyncing forever.
   */
  function watchPolicy() {
    document.addEventListener('securitypolicyviolation', function (event) {
      if (event.effectiveDirective !== 'media-src' || String(event.blockedURI).indexOf('blob') !== 0) return;
      core.unsupported("This page can't play H.264 through MSE: the server's Content-Security-Policy refuses media from blob: URLs");
    });
  }

  /** The fields this player adds to `window.pistream`: `mse` (see MseStats). @param {PageState} st */
  function install(st) {
    watchPolicy();
    /** @type {MseStats} */
    var fields = {
      api: window.MediaSource ? 'MediaSource' : 'ManagedMediaSource',
      codec: null,
      received: 0,
      appended: 0,
      dropped: 0,
      appends: 0,
      seeks: 0,
      gapJumps: 0,
      trims: 0,
      reopens: 0,
      quotaErrors: 0,
      errors: [],
      gapMs: null,
      rate: 1,
      frameMs: null,
      sequenceBreaks: 0,
      sequenceMissing: 0,
      frameSource: null,
      width: 0,
      height: 0,
      pending: 0,
      primed: PRIME,
    };
    // Messages of the open connection still queued or in the append in progress: received = appended + dropped + pending.
    Object.defineProperty(fields, 'pending', {
      enumerable: true,
      get: function () {
        return current && !current.closed ? current.queue.items.length + current.appending : 0;
      },
    });
    /** @type {MseState} */ (st).mse = stats = fields;
  }

  /** The stats, once installed (the core installs a player before it opens any connection). */
  function mseStats() {
    if (!stats) throw new Error('the MSE player was opened before it was installed');
    return stats;
  }

  /** @param {unknown} err */
  function errorWords(err) {
    if (typeof err === 'string') return err;
    var e = /** @type {{ name?: string, message?: string } | null} */ (err);
    return String((e && (e.name ? e.name + ': ' : '') + (e.message || '')) || err);
  }

  /**
   * One connection's MediaSource, SourceBuffer and queue.
   * @constructor
   * @param {CoreConnection} s
   */
  function MseConnection(s) {
    var c = this;
    current = c;
    c.stats = mseStats();
    c.s = s;
    c.closed = false;
    c.video = media.ensureVideo(canvas);
    c.queue = parts.appendQueue();
    /** Media messages are dropped until one brings an init segment: at the start, after an error or a drop. */
    c.waitInit = true;
    /** The current MediaSource (null until the first key unit, and between a teardown and the next key unit). */
    /** @type {MediaSource | null} */
    c.ms = null;
    /** @type {SourceBuffer | null} */
    c.sb = null;
    /** @type {string | null} */
    c.objectUrl = null;
    /** The SourceBuffer's codec, and mdhd's timescale. */
    /** @type {string | null} */
    c.codec = null;
    /** @type {number | null} */
    c.timescale = null;
    /** Messages in the append in progress (0: none). */
    c.appending = 0;
    c.edge = parts.liveEdge(c.video, c.stats);
    /** Times (s) of the key units appended to this MediaSource, oldest first: where trims may end. */
    /** @type {number[]} */
    c.keyTimes = [];
    c.lastTrimAt = performance.now();
    /** The newest message's time (s) and sequence number, and the picture interval (s). */
    /** @type {number | null} */
    c.lastTime = null;
    /** @type {number | null} */
    c.lastSequence = null;
    c.frameS = DEFAULT_FRAME_S;
    /** A removal waiting for the SourceBuffer: [from, to] (s), or null. */
    /** @type {[number, number] | null} */
    c.pendingRemove = null;
    c.resyncing = false;
    c.tickTimer = setInterval(function () {
      c.tick();
    }, TICK_MS);
    c.onVideoError = function () {
      // A stale event of a source torn down already finds error reset to null by the new source's load.
      var error = c.video.error;
      if (c.ms && !c.closed && error) c.fail('video error ' + error.code + ' ' + (error.message || ''));
    };
    c.video.addEventListener('error', c.onVideoError);
    // Stopped for want of data: at a hole in the buffer (a dropped sound frame) the live edge jumps it at once.
    c.onWaiting = function () {
      c.keepLive();
    };
    c.video.addEventListener('waiting', c.onWaiting);
    c.presentedWatch = parts.watchPresented({
      video: c.video,
      stats: c.stats,
      ready: function () {
        return !c.closed && c.edge.started();
      },
      presented: function (count, presentedAt, width, height) {
        c.presented(count, presentedAt, width, height);
      },
    });
    if (PRIME) c.attachSource();
  }

  /** @param {ArrayBuffer} buffer */
  MseConnection.prototype.message = function (buffer) {
    if (this.closed) return;
    this.stats.received++;
    this.s.handled++;
    core.ack(this.s);
    var bytes = new Uint8Array(buffer);
    var info = parts.inspect(bytes, this.timescale);
    this.countSequence(info.sequence, info.lastSequence);
    if (info.init && !info.codec) info.codec = this.codec;
    if (this.waitInit && !info.init) return this.dropped(1);
    if (info.init && !this.takeInit(info)) return this.dropped(1);
    this.countTime(info.time);
    this.queue.push({ bytes: bytes, init: info.init, codec: info.codec, keyTime: info.init ? info.time : null });
    var bounded = this.queue.bound(this.sb !== null);
    this.dropped(bounded.dropped);
    if (bounded.lost) this.waitInit = true;
    if (!this.sb) this.openSource();
    else this.pump();
  };

  /**
   * Breaks in the fragments' sequence numbers: pictures the server skipped for this viewer, or a new muxer. A
   * message with sound numbers its two fragments `first` to `lastOfMessage`.
   * @param {number | null} first @param {number | null} lastOfMessage
   */
  MseConnection.prototype.countSequence = function (first, lastOfMessage) {
    if (first === null) return;
    var last = this.lastSequence;
    if (last !== null && first !== last + 1) {
      this.stats.sequenceBreaks++;
      if (first > last) this.stats.sequenceMissing += first - last - 1;
    }
    this.lastSequence = lastOfMessage === null ? first : lastOfMessage;
  };

  /** The picture interval, from consecutive fragments' times. @param {number | null} time */
  MseConnection.prototype.countTime = function (time) {
    var last = this.lastTime;
    if (time !== null && last !== null && time > last && time - last < 1) {
      this.frameS = time - last;
      this.stats.frameMs = Math.round(this.frameS * 10000) / 10;
    }
    this.lastTime = time;
  };

  /** An init segment: whether it can be played (else the message is dropped). @param {MseMessageInfo} info */
  MseConnection.prototype.takeInit = function (info) {
    if (!info.codec) return false;
    if (!media.isTypeSupported(media.mimeOf(info.codec))) {
      core.unsupported("This browser can't play this H.264 stream here: its MSE cannot play " + info.codec);
      return false;
    }
    if (info.timescale) this.timescale = info.timescale;
    this.stats.codec = info.codec;
    this.waitInit = false;
    return true;
  };

  /** Messages the page does not append (acknowledged already, as they came). @param {number} n */
  MseConnection.prototype.dropped = function (n) {
    if (n > 0) this.stats.dropped += n;
  };

  /**
   * The queue's head (a key unit with its init segment) to a MediaSource: the one attached already and still without
   * a SourceBuffer (primed while the socket opened), else a fresh one. Its SourceBuffer is added once it is open.
   */
  MseConnection.prototype.openSource = function () {
    var head = this.queue.items[0];
    if (!head || !head.init) return;
    if (!this.ms) this.attachSource();
    var ms = this.ms;
    if (!ms) return;
    this.codec = head.codec;
    if (ms.readyState === 'open') this.onSourceOpen(ms);
  };

  /**
   * A fresh MediaSource attached to the video, without a SourceBuffer until a key unit says the codec. Attaching
   * runs the media element's load algorithm, and `sourceopen` comes a task or more later: attached while the socket
   * opens (the connection's start, unless `?prime=off`), that is done before the first key unit arrives, which is
   * then appended at once.
   */
  MseConnection.prototype.attachSource = function () {
    var c = this;
    var MS = media.mediaSourceClass();
    if (!MS) return;
    var ms = new MS();
    c.ms = ms;
    c.sb = null;
    c.edge.reset();
    c.keyTimes = [];
    c.pendingRemove = null;
    ms.addEventListener('sourceopen', function () {
      // Primed ahead of its key unit, the SourceBuffer waits for the codec (openSource adds it then).
      if (c.ms === ms && !c.closed && c.codec && !c.sb) c.onSourceOpen(ms);
    });
    ms.addEventListener('sourceended', function () {
      if (c.ms === ms && !c.closed) c.fail('the MediaSource ended');
    });
    ms.addEventListener('sourceclose', function () {
      if (c.ms === ms && !c.closed) c.fail('the MediaSource closed');
    });
    // Safari's ManagedMediaSource asks to pause and resume fetching; a live stream keeps appending (it is bounded).
    c.objectUrl = media.attach(c.video, ms);
  };

  /** @param {MediaSource} ms */
  MseConnection.prototype.onSourceOpen = function (ms) {
    var c = this;
    /** @type {SourceBuffer} */
    var sb;
    try {
      // Safari pauses at the buffered end of a finite duration; a live stream has none.
      ms.duration = Infinity;
      sb = ms.addSourceBuffer(media.mimeOf(c.codec || ''));
      sb.mode = 'segments';
      c.sb = sb;
    } catch (err) {
      return c.fail(err);
    }
    sb.addEventListener('updateend', function () {
      if (c.sb === sb && !c.closed) c.onUpdateEnd();
    });
    sb.addEventListener('error', function () {
      if (c.sb === sb && !c.closed) c.fail('SourceBuffer error (append or decode)');
    });
    c.pump();
  };

  /**
   * Starts the next append (everything queued, up to a codec change), or a pending trim; one at a time: not while
   * the SourceBuffer is updating, nor while the last append's updateend is still to come (`appending`). Chrome
   * clears `updating` before it dispatches updateend, so a message handled in between found it false and started a
   * second append, and the first updateend then counted the second's messages as its own (one message short in
   * `appended` each time, seen on a loaded machine).
   */
  MseConnection.prototype.pump = function () {
    var sb = this.sb;
    if (!sb || !this.ms || sb.updating || this.appending || this.closed || this.ms.readyState !== 'open') return;
    if (this.queue.items.length === 0) return this.trimPending(sb);
    var head = this.queue.items[0];
    if (head.init && head.codec !== this.codec && !this.changeType(sb, head.codec)) return;
    var batch = this.queue.takeBatch(this.codec);
    for (var k = 0; k < batch.items.length; k++) {
      var item = batch.items[k];
      if (item.init && item.keyTime !== null) this.keyTimes.push(item.keyTime);
    }
    try {
      sb.appendBuffer(batch.data);
      this.appending = batch.items.length;
      this.stats.appends++;
    } catch (err) {
      if (err && /** @type {Error} */ (err).name === 'QuotaExceededError') return this.quotaExceeded(batch.items.length);
      this.dropped(batch.items.length);
      this.fail(err);
    }
  };

  /**
   * A new configuration with another codec string: changeType where the browser has it, else a fresh source.
   * Returns whether appending goes on.
   * @param {SourceBuffer} sb @param {string | null} codec
   */
  MseConnection.prototype.changeType = function (sb, codec) {
    if (typeof sb.changeType !== 'function') {
      this.reopen();
      return false;
    }
    try {
      sb.changeType(media.mimeOf(codec || ''));
      this.codec = codec;
      return true;
    } catch (err) {
      this.reopen();
      return false;
    }
  };

  /** The trim waiting for the SourceBuffer, if any. @param {SourceBuffer} sb */
  MseConnection.prototype.trimPending = function (sb) {
    var range = this.pendingRemove;
    if (!range) return;
    this.pendingRemove = null;
    try {
      sb.remove(range[0], range[1]);
      this.stats.trims++;
    } catch (err) {
      this.fail(err);
    }
  };

  MseConnection.prototype.onUpdateEnd = function () {
    var n = this.appending;
    this.appending = 0;
    if (n > 0) {
      this.stats.appended += n;
      // The first data of this MediaSource: to the live edge, and play.
      if (!this.edge.started()) this.edge.start(this.sb, this.withSound());
      else this.keepLive();
    }
    this.pump();
  };

  MseConnection.prototype.keepLive = function () {
    if (this.sb && !this.closed) this.edge.keep(this.sb, this.frameS, this.withSound());
  };

  /** Whether the SourceBuffer holds sound beside the pictures: a codec string of two tracks ('avc1.…,mp4a.40.2'). */
  MseConnection.prototype.withSound = function () {
    return (this.codec || '').indexOf(',') >= 0;
  };

  /**
   * The buffer is full: empty it, drop to the next key unit (what was queued continues the lost pictures).
   * @param {number} n the messages of the refused append
   */
  MseConnection.prototype.quotaExceeded = function (n) {
    this.stats.quotaErrors++;
    this.noteError('QuotaExceededError');
    this.dropped(n);
    this.dropped(this.queue.clear());
    this.waitInit = true;
    this.edge.reset();
    this.keyTimes = [];
    this.pendingRemove = [0, Infinity];
    this.pump();
  };

  /** Every TICK_MS: the live edge (a stalled video presents no frames), play() if paused, and the trim. */
  MseConnection.prototype.tick = function () {
    var sb = this.sb;
    if (this.closed || !this.edge.started() || !sb) return;
    this.keepLive();
    this.edge.play();
    var now = performance.now();
    if (now - this.lastTrimAt < TRIM_EVERY_MS) return;
    this.lastTrimAt = now;
    var to = parts.trimPoint(this.keyTimes, this.video.currentTime);
    var ranges = sb.buffered;
    if (to !== null && ranges.length && ranges.start(0) < to - 0.001) {
      this.pendingRemove = [0, to];
      this.pump();
    }
  };

  /** A media or decoder error: a fresh MediaSource at the next key unit, on the same socket. @param {unknown} err */
  MseConnection.prototype.fail = function (err) {
    this.noteError(err);
    this.reopen();
  };

  /** @param {unknown} err */
  MseConnection.prototype.noteError = function (err) {
    var errors = this.stats.errors;
    errors.push(errorWords(err));
    if (errors.length > MAX_ERRORS) errors.shift();
  };

  /** Tears the MediaSource down and starts again at the next key unit (one already queued, or one to come). */
  MseConnection.prototype.reopen = function () {
    if (this.closed) return;
    this.stats.reopens++;
    this.resyncing = true;
    core.setNote('resyncing…');
    this.dropped(this.appending);
    this.appending = 0;
    this.teardown();
    // Resume at the first key unit queued, if any; else wait for the next one.
    this.dropped(this.queue.dropToKey());
    if (this.queue.items.length) this.openSource();
    else this.waitInit = true;
  };

  /** Detaches the MediaSource from the video (the last picture stays on screen meanwhile). */
  MseConnection.prototype.teardown = function () {
    var ms = this.ms;
    this.ms = null;
    this.sb = null;
    this.edge.reset();
    this.keyTimes = [];
    this.pendingRemove = null;
    this.presentedWatch.reset();
    if (ms) media.detach(this.video, ms, this.objectUrl);
    this.objectUrl = null;
  };

  /**
   * `count` pictures were presented, the newest at `presentedAt` (ms since the epoch): count, read, report.
   * @param {number} count @param {number} presentedAt @param {number} width @param {number} height
   */
  MseConnection.prototype.presented = function (count, presentedAt, width, height) {
    var s = this.s;
    var v = this.video;
    if (!core.isCurrent(s) || !this.ms) return;
    media.showVideo(canvas);
    this.stats.width = width || v.videoWidth;
    this.stats.height = height || v.videoHeight;
    if (this.resyncing) {
      this.resyncing = false;
      core.setNote(null);
    }
    for (var i = 0; i < count; i++) core.pictureDecoded(s);
    var frame = core.barcodeRead(window.pistreamStripBarcode(v, v.videoWidth, v.videoHeight), presentedAt);
    for (var j = 0; j < count; j++) core.painted(s, frame);
    this.keepLive();
  };

  MseConnection.prototype.close = function () {
    this.closed = true;
    clearInterval(this.tickTimer);
    this.presentedWatch.stop();
    this.video.removeEventListener('error', this.onVideoError);
    this.video.removeEventListener('waiting', this.onWaiting);
    // What was still queued or being appended is dropped with the connection: counted, like every other drop.
    this.dropped(this.queue.clear() + this.appending);
    this.appending = 0;
    this.teardown();
  };

  window.pistreamPlayers = window.pistreamPlayers || {};
  /** @type {Player} */
  var player = {
    id: 'mse',
    name: 'MSE',
    label: 'H.264 · MSE',
    formats: ['fmp4'],
    // The server's sound alone, played beside the pictures through the page's graph once the viewer turns sound on
    // (mse-sound.js): the <video> keeps playing /fmp4 muted at the live edge, so its pictures never wait for sound.
    soundBeside: ['sound'],
    playSoundBeside: function (path) {
      parts.sound.listen(path);
    },
    check: check,
    install: install,
    open: function (s) {
      return new MseConnection(s);
    },
  };
  window.pistreamPlayers.mse = player;
})();
