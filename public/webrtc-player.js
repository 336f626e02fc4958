/*
 * pistream WebRTC player: H.264 over WebRTC, pulled with WHEP. A receive-only RTCPeerConnection offers, the offer is
 * POSTed to the server's WHEP endpoint (with the page's token as `Authorization: Bearer`), the answer holds every
 * candidate of the server (it does not trickle), and the stream plays muted and inline in a <video>. The browser's
 * jitter buffer is asked for the least delay it takes.
 * - Sound: the offer asks for audio too; a server with sound answers it with Opus on the same stream (the browser
 *   lip-syncs the two by the server's sender reports), one without answers it inactive. The track is played through
 *   the page's sound graph (sound.js: muted until the speaker button, the volume, the A/V offset's tap), fed from the
 *   <video>'s stream (Chrome gives WebAudio a remote track's sound only while a media element holds it). Unlike the other players it brings its own connection (no
 * WebSocket): the core hands it the endpoint's URL (`connect`), and it reports the connection's open and end.
 *
 * - Pictures are counted and the test pattern's barcode read as the <video> presents them (the MSE player's
 *   presented-frames watch and the shared strip barcode reader).
 * - On close the session is ended with DELETE on its `Location`, so the server frees the viewer's place at once.
 * - Works on plain-http pages (no secure context needed), where WebCodecs cannot run.
 *
 * Plain script, no build step; loaded after mse-media-source.js and mse-presented-frames.js (whose <video> and
 * frame watch it shares), before viewer.js. Registers itself as `window.pistreamPlayers.webrtc`.
 */
(function () {
  'use strict';

  /**
   * The jitter buffer target asked for (ms). 0 would be the least, but Firefox froze at 0; a few ms more costs
   * nothing a viewer sees.
   */
  var JITTER_TARGET_MS = 10;
  /** The ICE connection taking longer than this (ms) is a failed connection, retried by the core. */
  var CONNECT_TIMEOUT_MS = 10000;

  var core = window.pistreamViewer;
  var parts = window.pistreamMse;
  var canvas = core.canvas;
  /** @type {WebRtcStats | null} */
  var stats = null;
  /** The open session, ended with DELETE when the page goes away. */
  /** @type {WebRtcConnection | null} */
  var current = null;

  /** Why this browser cannot play WebRTC, or null. */
  function check() {
    if (typeof window.RTCPeerConnection !== 'function') return Promise.resolve('this browser has no WebRTC');
    var caps = window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities ? RTCRtpReceiver.getCapabilities('video') : null;
    if (caps && !caps.codecs.some(isH264)) return Promise.resolve("this browser's WebRTC receives no H.264");
    return Promise.resolve(null);
  }

  /** @param {{ mimeType: string }} codec */
  function isH264(codec) {
    return codec.mimeType.toLowerCase() === 'video/h264';
  }

  /** The fields this player adds to `window.pistream`: `webrtc` (see WebRtcStats). @param {PageState} st */
  function install(st) {
    /** @type {WebRtcStats} */
    var fields = { connectionState: null, session: null, errors: [], frameSource: null, jitterBufferTarget: null, audioTrack: false };
    /** @type {WebRtcState} */ (st).webrtc = stats = fields;
  }

  /** @param {unknown} err */
  function errorWords(err) {
    var e = /** @type {{ name?: string, message?: string } | null} */ (err);
    return String((e && (e.name ? e.name + ': ' : '') + (e.message || '')) || err);
  }

  /** The page's `?token=`, sent as `Authorization: Bearer` (WHEP clients send it so). @returns {Record<string, string>} */
  function authHeaders() {
    var token = new URL(window.location.href).searchParams.get('token');
    return token ? { Authorization: 'Bearer ' + token } : {};
  }

  /**
   * Asks the receiver for the least playout delay this browser has: `jitterBufferTarget` (ms, the standard),
   * else Chrome's `playoutDelayHint` (s).
   * @param {RTCRtpReceiver} receiver
   */
  function minimalDelay(receiver) {
    var r = /** @type {{ jitterBufferTarget?: number | null, playoutDelayHint?: number }} */ (/** @type {unknown} */ (receiver));
    var standard = 'jitterBufferTarget' in r;
    if (standard) r.jitterBufferTarget = JITTER_TARGET_MS;
    else if ('playoutDelayHint' in r) r.playoutDelayHint = JITTER_TARGET_MS / 1000;
    if (stats) stats.jitterBufferTarget = standard ? JITTER_TARGET_MS : null;
  }

  /**
   * One WHEP session.
   * @constructor
   * @param {CoreConnection} s
   */
  function WebRtcConnection(s) {
    current = this;
    this.s = s;
    this.closed = false;
    /** @type {string | null} */
    this.location = null;
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {MsePresentedWatch | null} */
    this.watch = null;
    /** The sound's source in the page's graph, once both the track and the graph exist. */
    /** @type {MediaStreamAudioSourceNode | null} */
    this.audio = null;
    this.timer = 0;
  }

  /** Offers, POSTs the offer to the endpoint (`pageUrl`), and plays what the answer brings. @param {string} pageUrl */
  WebRtcConnection.prototype.connect = function (pageUrl) {
    var c = this;
    // The token goes as Bearer, not in the URL (which logs and proxies may keep).
    var endpoint = new URL(pageUrl);
    endpoint.search = '';
    var url = endpoint.href;
    var pc = (c.pc = new RTCPeerConnection({ iceServers: [] }));
    var transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
    minimalDelay(transceiver.receiver);
    // Offered always: a server without sound answers it inactive, and no track comes.
    minimalDelay(pc.addTransceiver('audio', { direction: 'recvonly' }).receiver);
    var video = parts.mediaSource.ensureVideo(canvas);
    /** The one stream the <video> holds: the picture's, with the sound's track added to it (Chrome's WebAudio quirk). */
    var held = new MediaStream();
    pc.ontrack = function (event) {
      held.addTrack(event.track);
      if (video.srcObject !== held) video.srcObject = held;
      video.play().then(null, function () {});
      if (event.track.kind === 'audio') c.playSound(held);
    };
    pc.onconnectionstatechange = function () {
      if (c.closed) return;
      if (stats) stats.connectionState = pc.connectionState;
      if (pc.connectionState === 'connected') {
        clearTimeout(c.timer);
        core.opened(c.s);
      } else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') c.fail('the connection ' + pc.connectionState);
    };
    c.timer = setTimeout(function () {
      c.fail('no connection within ' + CONNECT_TIMEOUT_MS + ' ms');
    }, CONNECT_TIMEOUT_MS);
    c.watch = parts.watchPresented({
      video: video,
      stats: /** @type {WebRtcStats} */ (stats),
      ready: function () {
        return !c.closed;
      },
      presented: function (count, presentedAt, width, height) {
        c.presented(count, presentedAt, width, height);
      },
    });
    c.negotiate(url);
  };

  /**
   * The WHEP exchange: our offer POSTed to `url`, the session's Location kept (for its DELETE), the answer applied;
   * any failure ends this connection with why. @param {string} url
   */
  WebRtcConnection.prototype.negotiate = function (url) {
    var c = this;
    var pc = /** @type {RTCPeerConnection} */ (c.pc);
    pc.createOffer()
      .then(function (offer) {
        return pc.setLocalDescription(offer);
      })
      .then(function () {
        var headers = authHeaders();
        headers['Content-Type'] = 'application/sdp';
        return fetch(url, { method: 'POST', headers: headers, body: /** @type {RTCSessionDescription} */ (pc.localDescription).sdp });
      })
      .then(function (res) {
        if (res.status !== 201) {
          return res.text().then(function (text) {
            throw new Error('WHEP ' + res.status + ': ' + text);
          });
        }
        var location = res.headers.get('location');
        if (location) c.location = new URL(location, url).href;
        if (stats) stats.session = c.location;
        if (c.closed) {
          c.release();
          return undefined;
        }
        return res.text().then(function (answer) {
          return c.closed ? undefined : pc.setRemoteDescription({ type: 'answer', sdp: answer });
        });
      })
      .then(null, function (/** @type {unknown} */ err) {
        c.fail(errorWords(err));
      });
  };

  /**
   * Plays `stream`'s sound through the page's graph once the speaker button has made it (sound.js): muted and volume
   * are the graph's, and the A/V offset listens there as for every player.
   * @param {MediaStream} stream
   */
  WebRtcConnection.prototype.playSound = function (stream) {
    var c = this;
    if (stats) stats.audioTrack = true;
    window.pistreamSound.whenReady(function () {
      var input = window.pistreamSound.input();
      if (c.closed || c.audio || !input) return;
      // The page's graph runs on a real-time AudioContext (sound.js makes it).
      var source = /** @type {AudioContext} */ (input.context).createMediaStreamSource(stream);
      source.connect(input);
      c.audio = source;
    });
  };

  /** The WebRTC stream has no messages of its own: nothing comes through the core. */
  WebRtcConnection.prototype.message = function () {};

  /**
   * `count` pictures were presented, the newest at `presentedAt` (ms since the epoch): count, read, report.
   * @param {number} count @param {number} presentedAt @param {number} width @param {number} height
   */
  WebRtcConnection.prototype.presented = function (count, presentedAt, width, height) {
    var s = this.s;
    if (this.closed || !core.isCurrent(s)) return;
    parts.mediaSource.showVideo(canvas);
    for (var i = 0; i < count; i++) core.pictureDecoded(s);
    var video = parts.mediaSource.ensureVideo(canvas);
    var frame = core.barcodeRead(window.pistreamStripBarcode(video, width || video.videoWidth, height || video.videoHeight), presentedAt);
    for (var j = 0; j < count; j++) core.painted(s, frame);
  };

  /** Ends this session for `why` (kept in `window.pistream.webrtc.errors`) and lets the core reconnect. @param {string} why */
  WebRtcConnection.prototype.fail = function (why) {
    if (this.closed) return;
    if (stats) {
      stats.errors.push(why);
      if (stats.errors.length > 10) stats.errors.shift();
    }
    // Never a picture on this page (the UDP port blocked, the server out of room): the next player may do better.
    if (core.fallBack(why)) return;
    core.closed(this.s);
  };

  /** Ends the session on the server too (DELETE on its Location), so its place is freed at once. */
  WebRtcConnection.prototype.release = function () {
    var location = this.location;
    this.location = null;
    if (location) fetch(location, { method: 'DELETE', headers: authHeaders(), keepalive: true }).then(null, function () {});
  };

  WebRtcConnection.prototype.close = function () {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    if (this.watch) this.watch.stop();
    if (this.pc) this.pc.close();
    if (this.audio) this.audio.disconnect();
    this.audio = null;
    var video = parts.mediaSource.ensureVideo(canvas);
    video.srcObject = null;
    this.release();
  };

  // Leaving the page closes the connection without a word to the server, which would hold the viewer's place until
  // ICE gives up on it: say goodbye (DELETE, sent with keepalive so it survives the page).
  window.addEventListener('pagehide', function () {
    if (current) current.close();
  });

  window.pistreamPlayers = window.pistreamPlayers || {};
  /** @type {Player} */
  var player = {
    id: 'webrtc',
    name: 'WebRTC',
    label: 'H.264 · WebRTC',
    formats: ['webrtc'],
    check: check,
    install: install,
    open: function (s) {
      return new WebRtcConnection(s);
    },
  };
  window.pistreamPlayers.webrtc = player;
})();
