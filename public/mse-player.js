/*
 * The H.264 player for pages where WebCodecs is not there (plain-http pages on a LAN, iPhones): plays the server's
 * fragmented MP4 (`fmp4`, next to this page) through Media Source Extensions in a <video>, plugged into the viewer
 * core (viewer-core.js).
 *
 * The stream: one message per access unit; a key unit's message is an init segment (ftyp + moov, whose avcC gives
 * the codec string) followed by its moof + mdat, every other message one moof + mdat. Timestamps (tfdt) are the
 * capture clock's, so a viewer's first time is not 0.
 *
 * - `MediaSource` (or `ManagedMediaSource` on iPhone, with `disableRemotePlayback`, or it may hand off to AirPlay),
 *   `duration = Infinity` (Safari pauses on underflow otherwise), one SourceBuffer in 'segments' mode. The server's
 *   init segments have mvhd duration 0 and no mehd, which puts Chrome's renderer in its one-frame low-delay mode.
 * - Appends strictly one at a time (updateend): messages that arrive meanwhile are queued and appended together
 *   next (a joining burst, the replayed GOP, goes in as one append). The queue is bounded: when it grows (the tab
 *   is slow) it jumps to the newest key unit queued, or, past a hard bound, drops everything and waits for the
 *   next key unit.
 * - Live edge: at the start and whenever the buffered end is more than LIVE_GAP_S ahead of the playhead, seek to
 *   just before the buffered end; with less than that but more than 1.5 pictures ahead, play at 1.25x until the
 *   playhead reaches the end (see CATCH_UP_RATE). Playback is never slowed down to hold a buffer (the playbackRate
 *   rule that makes a peer sit at 1 s).
 * - Trim: every few seconds, remove what lies before the newest key unit that is at least KEEP_S behind the
 *   playhead (a removal ending inside a GOP would take the rest of that GOP with it).
 * - Recovery: a QuotaExceededError empties the buffer and waits for the next key unit; a media or decoder error
 *   (video.error, the SourceBuffer's error, the MediaSource closing or ending under us) reopens a fresh
 *   MediaSource at the next key unit, on the same socket; "resyncing…" in the HUD meanwhile.
 * - Pictures are counted and the test pattern's barcode read as they are presented: requestVideoFrameCallback
 *   gives each presented frame (presentedFrames counts those the callback missed); the 512x32 top-left strip is
 *   drawn into a small canvas and read from RGB.
 * - Acks count messages taken in (queued for the SourceBuffer, or dropped), not appended: the MediaSource opens
 *   asynchronously, and a joining burst acknowledged only once appended would look to the server like a viewer
 *   lagging by its maxLagMs, which skips it to the next key unit (a hole in the timeline right after the join).
 *   What the page cannot keep up with it drops itself (the bounded queue, the seek to the live edge).
 *
 * Registers itself as `window.pistreamPlayers.mse`.
 */
(function () {
  'use strict';

  /** Seek to the live edge when the buffered end is more than this ahead of the playhead (s). */
  var LIVE_GAP_S = 0.15;
  /**
   * Below that, play slightly faster (never slower) while more than CATCH_UP_FRAMES pictures' worth is buffered
   * ahead of the playhead: the playhead then reaches the buffered end, waits there for the next picture (Chrome's
   * low-delay renderer resumes on one), and shows each picture as it comes. Without it the playhead keeps whatever
   * lag an arrival hiccup gave it (the clock stops while it waits, and never makes the time up): measured on the
   * bench machine, p50 ~40-55 ms at 640x480@24 with the seek rule alone, ~11 ms with it.
   */
  var CATCH_UP_RATE = 1.25;
  var CATCH_UP_FRAMES = 1.5;
  /** Before the stream has told its picture interval (s). */
  var DEFAULT_FRAME_S = 1 / 24;
  /** Where a seek to the live edge lands: this much before the buffered end (s), inside the newest picture. */
  var EDGE_S = 0.005;
  /** Trim every TRIM_EVERY_MS, keeping at least KEEP_S before the playhead. */
  var TRIM_EVERY_MS = 3000;
  var KEEP_S = 2;
  /** The live-edge check also runs on this timer (a stalled or paused video presents no frames to check on). */
  var TICK_MS = 250;
  /**
   * Messages queued behind an append in progress: past MAX_QUEUE the queue jumps to the newest key unit in it; past
   * HARD_MAX_QUEUE messages or HARD_MAX_BYTES (no key unit in it: the tab cannot keep up) everything queued is
   * dropped and appending resumes at the next key unit. A joining burst (the replayed GOP) is let in whole.
   */
  var MAX_QUEUE = 24;
  var HARD_MAX_QUEUE = 240;
  var HARD_MAX_BYTES = 16 * 1024 * 1024;
  /** Where requestVideoFrameCallback is missing: read the presented picture this often (ms). */
  var POLL_MS = 20;
  /** Any baseline H.264 type, to ask before connecting whether this browser's MSE plays H.264 at all. */
  var PROBE_TYPE = 'video/mp4; codecs="avc1.42E01E"';
  /** Entries kept in state.mse.errors. */
  var MAX_ERRORS = 10;

  var core = window.pistreamViewer;
  var barcodeReader = window.pistreamBarcode;
  var state = core.state;
  var canvas = core.canvas;
  /** The <video> this player shows instead of the canvas (made on first use, kept for later connections). */
  var video = null;
  /** The barcode strip's canvas. */
  var strip = null;
  var stripCtx = null;
  /** The newest connection (for `state.mse.pending`). */
  var current = null;

  /** The MediaSource constructor to use: MediaSource, else ManagedMediaSource (iPhone), else null. */
  function mediaSourceClass() {
    return window.MediaSource || window.ManagedMediaSource || null;
  }

  function isTypeSupported(type) {
    var MS = mediaSourceClass();
    try {
      return !!(MS && typeof MS.isTypeSupported === 'function' && MS.isTypeSupported(type));
    } catch (err) {
      return false;
    }
  }

  /** Why this browser cannot play H.264 through MSE, or null; asynchronously, to `then(problem)` (as webcodecs'). */
  function check(then) {
    if (!mediaSourceClass()) return then('this browser has no Media Source Extensions');
    then(isTypeSupported(PROBE_TYPE) ? null : "this browser's Media Source Extensions play no H.264");
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

  /** The fields this player adds to `window.pistream`. */
  function install(st) {
    watchPolicy();
    st.mse = {
      /** 'MediaSource' | 'ManagedMediaSource': which of the two plays. */
      api: window.MediaSource ? 'MediaSource' : 'ManagedMediaSource',
      /** The codec string read from the init segment's avcC ('avc1.42C01E'), null before the first one. */
      codec: null,
      /**
       * Messages taken in (all connections); each one is appended, dropped, or still queued or being appended:
       * `received === appended + dropped + pending` at any moment.
       */
      received: 0,
      /** Messages appended, and dropped (before a key unit, or from a queue that grew). */
      appended: 0,
      dropped: 0,
      /** appendBuffer calls (one per message, or one for several queued together). */
      appends: 0,
      /** Seeks to the live edge (the first of each MediaSource included). */
      seeks: 0,
      /** Buffer trims (SourceBuffer.remove). */
      trims: 0,
      /** Fresh MediaSources after an error, QuotaExceededErrors, and the errors' words (last few). */
      reopens: 0,
      quotaErrors: 0,
      errors: [],
      /** The latest gap between the buffered end and the playhead (ms), null before playing. */
      gapMs: null,
      /** The playback rate now: 1, or CATCH_UP_RATE while catching up with the buffered end. */
      rate: 1,
      /** The stream's picture interval, from consecutive fragments' times (ms). */
      frameMs: null,
      /**
       * Breaks in the fragments' sequence numbers (the server numbers every picture; a break is pictures it
       * skipped for this viewer, or a new muxer), and the pictures missing in them.
       */
      sequenceBreaks: 0,
      sequenceMissing: 0,
      /** How pictures are counted and read: 'rvfc' (requestVideoFrameCallback) | 'poll' (approximate). */
      frameSource: null,
      /** The presented picture's size. */
      width: 0,
      height: 0,
    };
    /** Messages of the open connection still queued or in the append in progress: received = appended + dropped + pending. */
    Object.defineProperty(st.mse, 'pending', {
      enumerable: true,
      get: function () {
        return current && !current.closed ? current.queue.length + current.appending : 0;
      },
    });
  }

  /** Makes (once) the <video> that shows the stream, beside the canvas; hidden until it presents a picture. */
  function ensureVideo() {
    if (video) return video;
    video = document.createElement('video');
    video.id = 'mse-video';
    video.setAttribute('aria-label', 'Live picture');
    video.muted = true;
    video.defaultMuted = true;
    video.setAttribute('muted', '');
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    video.autoplay = true;
    video.controls = false;
    // ManagedMediaSource needs it (else Safari may hand the stream to AirPlay and stop feeding); harmless elsewhere.
    video.disableRemotePlayback = true;
    video.hidden = true;
    canvas.parentNode.insertBefore(video, canvas.nextSibling);
    return video;
  }

  /** The video takes the canvas' place (the canvas stays for the other players). */
  function showVideo() {
    if (!video.hidden) return;
    video.hidden = false;
    canvas.hidden = true;
  }

  // --- ISO BMFF boxes, as far as this player reads them -------------------------------------------------------

  function fourcc(bytes, at) {
    return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  }

  /** The boxes in bytes[from, to): [{ type, start (of the header), body (of the payload), end }]. */
  function boxes(bytes, from, to) {
    var list = [];
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var at = from;
    while (at + 8 <= to) {
      var size = view.getUint32(at);
      var header = 8;
      if (size === 1) {
        if (at + 16 > to) break;
        size = view.getUint32(at + 8) * 4294967296 + view.getUint32(at + 12);
        header = 16;
      } else if (size === 0) {
        size = to - at;
      }
      if (size < header || at + size > to) break;
      list.push({ type: fourcc(bytes, at + 4), start: at, body: at + header, end: at + size });
      at += size;
    }
    return list;
  }

  function child(bytes, box, type, skip) {
    if (!box) return null;
    var list = boxes(bytes, box.body + (skip || 0), box.end);
    for (var i = 0; i < list.length; i++) if (list[i].type === type) return list[i];
    return null;
  }

  /**
   * A path of boxes below `box`: each step a type, or [type, bytes of its own fields before its children] (stsd's
   * entry count, a sample entry's fields).
   */
  function path(bytes, box, steps) {
    var skip = 0;
    for (var i = 0; i < steps.length && box; i++) {
      var step = steps[i];
      var type = typeof step === 'string' ? step : step[0];
      box = child(bytes, box, type, skip);
      skip = typeof step === 'string' ? 0 : step[1];
    }
    return box;
  }

  function hex2(n) {
    return (n < 16 ? '0' : '') + n.toString(16).toUpperCase();
  }

  /**
   * What a message holds: { init (it starts with an init segment), codec ('avc1.PPCCLL' from avcC, or null),
   * timescale (mdhd's, or null), time (the first moof's baseMediaDecodeTime in s, when the timescale is known),
   * sequence (its mfhd sequence number, or null) }.
   * A key unit's time is what the buffer may be trimmed up to.
   */
  function inspect(bytes, timescale) {
    var top = boxes(bytes, 0, bytes.byteLength);
    var info = { init: false, codec: null, timescale: null, time: null, sequence: null };
    var moof = null;
    for (var i = 0; i < top.length; i++) {
      var box = top[i];
      if (box.type === 'ftyp' || box.type === 'moov') info.init = true;
      if (box.type === 'moov') {
        var trak = child(bytes, box, 'trak');
        var mdia = child(bytes, trak, 'mdia');
        var mdhd = child(bytes, mdia, 'mdhd');
        if (mdhd) info.timescale = readUint32(bytes, mdhd.body + (bytes[mdhd.body] === 1 ? 20 : 12));
        // stsd: version/flags and an entry count before its entries; avc1: a 78-byte visual sample entry header.
        var avcC = path(bytes, mdia, ['minf', 'stbl', ['stsd', 8], ['avc1', 78], 'avcC']);
        if (!avcC) avcC = path(bytes, mdia, ['minf', 'stbl', ['stsd', 8], ['avc3', 78], 'avcC']);
        if (avcC && avcC.body + 4 <= avcC.end) {
          info.codec = 'avc1.' + hex2(bytes[avcC.body + 1]) + hex2(bytes[avcC.body + 2]) + hex2(bytes[avcC.body + 3]);
        }
      }
      if (box.type === 'moof' && !moof) moof = box;
    }
    var scale = info.timescale || timescale;
    var mfhd = moof ? child(bytes, moof, 'mfhd') : null;
    if (mfhd) info.sequence = readUint32(bytes, mfhd.body + 4);
    var tfdt = moof ? path(bytes, moof, ['traf', 'tfdt']) : null;
    if (tfdt && scale) {
      var version = bytes[tfdt.body];
      var base =
        version === 1
          ? readUint32(bytes, tfdt.body + 4) * 4294967296 + readUint32(bytes, tfdt.body + 8)
          : readUint32(bytes, tfdt.body + 4);
      info.time = base / scale;
    }
    return info;
  }

  function readUint32(bytes, at) {
    return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
  }

  function mimeOf(codec) {
    return 'video/mp4; codecs="' + codec + '"';
  }

  function errorWords(err) {
    return String((err && (err.name ? err.name + ': ' : '') + (err.message || '')) || err);
  }

  // --- one connection -----------------------------------------------------------------------------------------

  /** One connection's MediaSource, SourceBuffer and queue. */
  function Connection(s) {
    var c = this;
    current = c;
    c.s = s;
    c.closed = false;
    c.video = ensureVideo();
    /** Messages waiting for the SourceBuffer: { bytes, init, codec, keyTime }. */
    c.queue = [];
    c.queuedBytes = 0;
    /** Media messages are dropped until one brings an init segment: at the start, after an error or a drop. */
    c.waitInit = true;
    /** The current MediaSource (null until the first key unit, and between a teardown and the next key unit). */
    c.ms = null;
    c.sb = null;
    c.objectUrl = null;
    /** The SourceBuffer's codec, and mdhd's timescale. */
    c.codec = null;
    c.timescale = null;
    /** Messages in the append in progress (0: none). */
    c.appending = 0;
    /** Whether this MediaSource has been started (its first seek to the live edge and play()). */
    c.started = false;
    /** Times (s) of the key units appended to this MediaSource, oldest first: where trims may end. */
    c.keyTimes = [];
    c.lastTrimAt = performance.now();
    /** The newest message's time (s), and the picture interval (s). */
    c.lastTime = null;
    c.lastSequence = null;
    c.frameS = DEFAULT_FRAME_S;
    /** A removal waiting for the SourceBuffer: [from, to] (s), or null. */
    c.pendingRemove = null;
    c.lastPresented = null;
    c.polledTime = -1;
    c.frameHandle = 0;
    c.pollTimer = 0;
    c.resyncing = false;
    c.tickTimer = setInterval(function () {
      c.tick();
    }, TICK_MS);
    c.onVideoError = function () {
      // A stale event of a source torn down already finds error reset to null by the new source's load.
      if (c.ms && !c.closed && video.error) c.fail('video error ' + video.error.code + ' ' + (video.error.message || ''));
    };
    video.addEventListener('error', c.onVideoError);
    c.watchFrames();
  }

  Connection.prototype.message = function (buffer) {
    if (this.closed) return;
    state.mse.received++;
    this.s.handled++;
    core.ack(this.s);
    var bytes = new Uint8Array(buffer);
    var info = inspect(bytes, this.timescale);
    if (info.sequence !== null) {
      if (this.lastSequence !== null && info.sequence !== this.lastSequence + 1) {
        state.mse.sequenceBreaks++;
        if (info.sequence > this.lastSequence) state.mse.sequenceMissing += info.sequence - this.lastSequence - 1;
      }
      this.lastSequence = info.sequence;
    }
    if (info.init && !info.codec) info.codec = this.codec;
    if (this.waitInit && !info.init) return this.dropped(1);
    if (info.init) {
      if (!info.codec) return this.dropped(1);
      if (!isTypeSupported(mimeOf(info.codec))) {
        core.unsupported("This browser can't play this H.264 stream here: its MSE cannot play " + info.codec);
        return this.dropped(1);
      }
      if (info.timescale) this.timescale = info.timescale;
      state.mse.codec = info.codec;
      this.waitInit = false;
    }
    if (info.time !== null && this.lastTime !== null && info.time > this.lastTime && info.time - this.lastTime < 1) {
      this.frameS = info.time - this.lastTime;
      state.mse.frameMs = Math.round(this.frameS * 10000) / 10;
    }
    this.lastTime = info.time;
    this.queue.push({ bytes: bytes, init: info.init, codec: info.codec, keyTime: info.init ? info.time : null });
    this.queuedBytes += bytes.byteLength;
    this.bound();
    if (!this.ms) this.openSource();
    else this.pump();
  };

  /** Keeps the queue bounded (see MAX_QUEUE): the joining burst, before the SourceBuffer exists, is let in whole. */
  Connection.prototype.bound = function () {
    var q = this.queue;
    if (q.length > MAX_QUEUE && this.sb) {
      for (var i = q.length - 1; i > 0; i--) {
        if (q[i].init) {
          this.dropQueued(i);
          return;
        }
      }
    }
    if (q.length > HARD_MAX_QUEUE || this.queuedBytes > HARD_MAX_BYTES) {
      this.dropQueued(q.length);
      this.waitInit = true;
    }
  };

  /** Drops the first `n` queued messages. */
  Connection.prototype.dropQueued = function (n) {
    var gone = this.queue.splice(0, n);
    for (var i = 0; i < gone.length; i++) this.queuedBytes -= gone[i].bytes.byteLength;
    this.dropped(gone.length);
  };

  /** Messages the page does not append (acknowledged already, as they came). */
  Connection.prototype.dropped = function (n) {
    if (n > 0) state.mse.dropped += n;
  };

  /** A fresh MediaSource on the video for the queue's head (a key unit with its init segment). */
  Connection.prototype.openSource = function () {
    var c = this;
    var head = c.queue[0];
    if (!head || !head.init) return;
    var MS = mediaSourceClass();
    var ms = new MS();
    c.ms = ms;
    c.sb = null;
    c.started = false;
    c.keyTimes = [];
    c.pendingRemove = null;
    c.codec = head.codec;
    ms.addEventListener('sourceopen', function () {
      if (c.ms !== ms || c.closed) return;
      c.onSourceOpen(ms);
    });
    ms.addEventListener('sourceended', function () {
      if (c.ms === ms && !c.closed) c.fail('the MediaSource ended');
    });
    ms.addEventListener('sourceclose', function () {
      if (c.ms === ms && !c.closed) c.fail('the MediaSource closed');
    });
    // Safari's ManagedMediaSource asks to pause and resume fetching; a live stream keeps appending (it is bounded).
    var v = c.video;
    v.disableRemotePlayback = true;
    // srcObject where a MediaSource is accepted (Safari; no blob: URL needed), else a blob: URL.
    var attached = false;
    if ('srcObject' in v && typeof window.ManagedMediaSource === 'function' && ms instanceof window.ManagedMediaSource) {
      try {
        v.srcObject = ms;
        attached = true;
      } catch (err) {
        attached = false;
      }
    }
    if (!attached) {
      c.objectUrl = URL.createObjectURL(ms);
      v.src = c.objectUrl;
    }
  };

  Connection.prototype.onSourceOpen = function (ms) {
    var c = this;
    try {
      // Safari pauses at the buffered end of a finite duration; a live stream has none.
      ms.duration = Infinity;
      var sb = ms.addSourceBuffer(mimeOf(c.codec));
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
  Connection.prototype.pump = function () {
    var c = this;
    var sb = c.sb;
    if (!sb || sb.updating || c.appending || c.closed || c.ms.readyState !== 'open') return;
    if (c.queue.length === 0) {
      if (c.pendingRemove) {
        var range = c.pendingRemove;
        c.pendingRemove = null;
        try {
          sb.remove(range[0], range[1]);
          state.mse.trims++;
        } catch (err) {
          c.fail(err);
        }
      }
      return;
    }
    var head = c.queue[0];
    if (head.init && head.codec !== c.codec) {
      // A new configuration with another codec string: changeType where the browser has it, else a fresh source.
      if (typeof sb.changeType !== 'function') return c.reopen('codec change');
      try {
        sb.changeType(mimeOf(head.codec));
        c.codec = head.codec;
      } catch (err) {
        return c.reopen(err);
      }
    }
    var n = 1;
    var size = head.bytes.byteLength;
    while (n < c.queue.length && !(c.queue[n].init && c.queue[n].codec !== c.codec)) {
      size += c.queue[n].bytes.byteLength;
      n++;
    }
    var batch = c.queue.splice(0, n);
    c.queuedBytes -= size;
    var data = batch[0].bytes;
    if (n > 1) {
      data = new Uint8Array(size);
      for (var i = 0, at = 0; i < n; i++) {
        data.set(batch[i].bytes, at);
        at += batch[i].bytes.byteLength;
      }
    }
    for (var k = 0; k < n; k++) if (batch[k].init && batch[k].keyTime !== null) c.keyTimes.push(batch[k].keyTime);
    try {
      sb.appendBuffer(data);
      c.appending = n;
      state.mse.appends++;
    } catch (err) {
      if (err && err.name === 'QuotaExceededError') return c.quotaExceeded(n);
      c.dropped(n);
      c.fail(err);
    }
  };

  Connection.prototype.onUpdateEnd = function () {
    var n = this.appending;
    this.appending = 0;
    if (n > 0) {
      state.mse.appended += n;
      if (!this.started) this.start();
      else this.keepLive();
    }
    this.pump();
  };

  /** The buffer is full: empty it, drop to the next key unit (what was queued continues the lost pictures). */
  Connection.prototype.quotaExceeded = function (n) {
    state.mse.quotaErrors++;
    this.noteError('QuotaExceededError');
    this.dropped(n);
    this.dropQueued(this.queue.length);
    this.waitInit = true;
    this.started = false;
    this.keyTimes = [];
    this.pendingRemove = [0, Infinity];
    this.pump();
  };

  /** The first data of this MediaSource: to the live edge, and play. */
  Connection.prototype.start = function () {
    var end = this.liveEnd();
    if (end === null) return;
    this.started = true;
    this.seek(end);
    this.play();
  };

  Connection.prototype.play = function () {
    var v = this.video;
    if (!v.paused) return;
    var played = v.play();
    // Autoplay of a muted, inline video is allowed; a refusal is retried by the next tick.
    if (played && typeof played.then === 'function') played.then(null, function () {});
  };

  /** The end of the newest buffered range (s), or null when nothing is buffered. */
  Connection.prototype.liveEnd = function () {
    var ranges = this.sb ? this.sb.buffered : null;
    if (!ranges || ranges.length === 0) return null;
    return ranges.end(ranges.length - 1);
  };

  Connection.prototype.seek = function (end) {
    state.mse.seeks++;
    this.setRate(1);
    this.video.currentTime = Math.max(end - EDGE_S, 0);
  };

  /** Back to the live edge when the playhead is more than LIVE_GAP_S behind it (or outside the newest range). */
  Connection.prototype.keepLive = function () {
    if (!this.started || !this.sb || this.closed) return;
    var ranges;
    try {
      ranges = this.sb.buffered;
    } catch (err) {
      return;
    }
    if (!ranges || ranges.length === 0) return;
    var last = ranges.length - 1;
    var end = ranges.end(last);
    var now = this.video.currentTime;
    var gap = end - now;
    state.mse.gapMs = Math.round(gap * 1000);
    if (this.video.seeking) return;
    if (gap > LIVE_GAP_S || now < ranges.start(last)) return this.seek(end);
    this.setRate(gap > CATCH_UP_FRAMES * this.frameS ? CATCH_UP_RATE : 1);
  };

  Connection.prototype.setRate = function (rate) {
    state.mse.rate = rate;
    if (this.video.playbackRate !== rate) this.video.playbackRate = rate;
  };

  /** Every TICK_MS: the live edge (a stalled video presents no frames), play() if paused, and the trim. */
  Connection.prototype.tick = function () {
    if (this.closed || !this.started || !this.sb) return;
    this.keepLive();
    this.play();
    var now = performance.now();
    if (now - this.lastTrimAt < TRIM_EVERY_MS) return;
    this.lastTrimAt = now;
    // Up to the newest key unit at least KEEP_S behind the playhead: that GOP and the ones after it stay whole.
    var before = this.video.currentTime - KEEP_S;
    var to = null;
    while (this.keyTimes.length > 1 && this.keyTimes[1] <= before) this.keyTimes.shift();
    if (this.keyTimes.length && this.keyTimes[0] <= before) to = this.keyTimes[0];
    var ranges = this.sb.buffered;
    if (to !== null && ranges.length && ranges.start(0) < to - 0.001) {
      this.pendingRemove = [0, to];
      this.pump();
    }
  };

  /** A media or decoder error: a fresh MediaSource at the next key unit, on the same socket. */
  Connection.prototype.fail = function (err) {
    this.noteError(err);
    this.reopen(err);
  };

  Connection.prototype.noteError = function (err) {
    var errors = state.mse.errors;
    errors.push(typeof err === 'string' ? err : errorWords(err));
    if (errors.length > MAX_ERRORS) errors.shift();
  };

  /** Tears the MediaSource down and starts again at the next key unit (one already queued, or one to come). */
  Connection.prototype.reopen = function () {
    if (this.closed) return;
    state.mse.reopens++;
    this.resyncing = true;
    core.setNote('resyncing…');
    if (this.appending) this.dropped(this.appending);
    this.appending = 0;
    this.teardown();
    // Resume at the first key unit queued, if any; else wait for the next one.
    var q = this.queue;
    var i = 0;
    while (i < q.length && !q[i].init) i++;
    this.dropQueued(i);
    if (q.length) this.openSource();
    else this.waitInit = true;
  };

  /** Detaches the MediaSource from the video (the last picture stays on screen meanwhile). */
  Connection.prototype.teardown = function () {
    var ms = this.ms;
    this.ms = null;
    this.sb = null;
    this.started = false;
    this.keyTimes = [];
    this.pendingRemove = null;
    this.lastPresented = null;
    if (!ms) return;
    if (ms.readyState === 'open') {
      try {
        // Stops whatever the SourceBuffer was doing (an append in progress is aborted).
        var list = ms.sourceBuffers;
        for (var i = 0; i < list.length; i++) if (list[i].updating) list[i].abort();
      } catch (err) {
        // Closing anyway.
      }
    }
    var v = this.video;
    if (v.srcObject) v.srcObject = null;
    v.removeAttribute('src');
    try {
      v.load();
    } catch (err) {
      // Nothing to release.
    }
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  };

  // --- presented pictures -------------------------------------------------------------------------------------

  Connection.prototype.watchFrames = function () {
    var c = this;
    var v = c.video;
    if (typeof v.requestVideoFrameCallback === 'function') {
      state.mse.frameSource = 'rvfc';
      var onFrame = function (now, meta) {
        if (c.closed) return;
        c.frameHandle = v.requestVideoFrameCallback(onFrame);
        // presentationTime: when the frame was handed to the compositor (performance.now() clock), as ms since
        // the epoch; the same moment the WebCodecs player's drawImage stands for.
        var presentedAt = meta.presentationTime + (Date.now() - performance.now());
        var count = 1;
        if (c.lastPresented !== null && meta.presentedFrames > c.lastPresented) {
          count = Math.min(meta.presentedFrames - c.lastPresented, 100);
        }
        c.lastPresented = meta.presentedFrames;
        c.presented(count, presentedAt, meta.width, meta.height);
      };
      c.frameHandle = v.requestVideoFrameCallback(onFrame);
      return;
    }
    // No requestVideoFrameCallback (Firefox before 132, older Safari): poll the playhead. The figures are then
    // approximate: a picture is counted when the playhead is seen to move (several presented between two polls
    // count as one), and its latency is taken at the poll, up to POLL_MS after it was shown.
    state.mse.frameSource = 'poll';
    c.pollTimer = setInterval(function () {
      if (c.closed || !c.started || v.readyState < 2) return;
      var t = v.currentTime;
      if (t === c.polledTime) return;
      c.polledTime = t;
      c.presented(1, Date.now(), v.videoWidth, v.videoHeight);
    }, POLL_MS);
  };

  /** `count` pictures were presented, the newest at `presentedAt` (ms since the epoch): count, read, report. */
  Connection.prototype.presented = function (count, presentedAt, width, height) {
    var s = this.s;
    if (!core.isCurrent(s) || !this.ms) return;
    showVideo();
    state.mse.width = width || this.video.videoWidth;
    state.mse.height = height || this.video.videoHeight;
    if (this.resyncing) {
      this.resyncing = false;
      core.setNote(null);
    }
    for (var i = 0; i < count; i++) core.pictureDecoded(s);
    var frame = core.barcodeRead(readBarcode(this.video), presentedAt);
    for (var j = 0; j < count; j++) core.painted(s, frame);
    this.keepLive();
  };

  Connection.prototype.close = function () {
    this.closed = true;
    clearInterval(this.tickTimer);
    clearInterval(this.pollTimer);
    if (this.frameHandle && typeof this.video.cancelVideoFrameCallback === 'function') {
      this.video.cancelVideoFrameCallback(this.frameHandle);
    }
    this.video.removeEventListener('error', this.onVideoError);
    // What was still queued or being appended is dropped with the connection: counted, like every other drop.
    this.dropped(this.queue.length + this.appending);
    this.appending = 0;
    this.queue = [];
    this.queuedBytes = 0;
    this.teardown();
  };

  /** Reads the test pattern's barcode from the video's presented picture (its 512x32 top-left strip, RGB). */
  function readBarcode(v) {
    var width = barcodeReader.WIDTH;
    var height = barcodeReader.HEIGHT;
    if (v.videoWidth < width || v.videoHeight < height) return null;
    if (!strip) {
      strip = document.createElement('canvas');
      strip.width = width;
      strip.height = height;
      stripCtx = strip.getContext('2d', { willReadFrequently: true });
    }
    stripCtx.drawImage(v, 0, 0, width, height, 0, 0, width, height);
    var pixels = stripCtx.getImageData(0, 0, width, height).data;
    return barcodeReader.read(function (x, y) {
      var i = (y * width + x) * 4;
      return (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
    });
  }

  window.pistreamPlayers = window.pistreamPlayers || {};
  window.pistreamPlayers.mse = {
    id: 'mse',
    label: 'H.264 · MSE',
    /** The socket's path next to the page; viewer.js replaces it with the one `streams` names. */
    path: 'fmp4',
    check: check,
    install: install,
    open: function (s) {
      return new Connection(s);
    },
    /** For tests: the box reader. */
    inspect: inspect,
  };
})();
