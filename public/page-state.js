/*
 * `window.pistream`: the page's state as tests and the benchmark read it, kept by the viewer core (viewer-core.js);
 * each player adds fields of its own when it is installed.
 *
 * Plain script, no build step; loaded before viewer-core.js.
 */
(function () {
  'use strict';

  /** @type {PageState} */
  var state = {
    /**
     * 'connecting' | 'live' | 'reconnecting' | 'paused' | 'camera offline' (connected, no picture for a while;
     * the state keeps that name for every source, but the page says "camera offline" only when /healthz names a
     * camera as the source, and "stream offline" otherwise) | 'unsupported' (nothing this page can play: see
     * `unsupported`).
     */
    status: 'connecting',
    /** Why nothing can play in this browser (shown as the status line), or null. */
    unsupported: null,
    /** The player in use: 'webcodecs' | 'webrtc' | 'mse' | 'jsmpeg', null until chosen (or when none can play). */
    player: null,
    /** The server's codec id, from `streams` ('h264', 'mpeg1'); null until it answered. */
    codec: null,
    /** What feeds the stream, from /healthz's `source` (e.g. 'rpicam', 'file', 'test'); null until it said. */
    source: null,
    /** Whether /healthz said the source is a camera (its `camera`): the status says "camera offline" only then. */
    camera: false,
    /** The server's reason shown under "offline" (one line), or null when none is shown. */
    reason: null,
    /** Requests to /healthz since the page loaded (made only while offline). */
    healthChecks: 0,
    /** Pictures decoded since the page loaded (all connections). */
    frames: 0,
    /** Bytes received since the page loaded. */
    bytes: 0,
    /** Successful socket opens since the page loaded. */
    connections: 0,
    /** The newest barcode read back from a decoded picture, or null when none has been seen. */
    lastBarcode: null,
    /** Glass-to-glass latencies (ms) of the last pictures that carried a barcode, oldest first. */
    latencies: [],
    fps: 0,
    kbps: 0,
    /** Pictures painted since the page loaded. */
    painted: 0,
    /** The source frame number of the picture painted last (null: none yet, or not known). */
    paintedFrame: null,
    /**
     * The first connection's milestones (ms, from performance.now()): navigation start → socket open, and socket
     * open → first picture decoded / first picture painted (null until they happen).
     */
    timings: { navigationToOpen: null, openToFirstPicture: null, openToFirstPaint: null },
    /** The page's sound (sound.js, jsmpeg-audio.js) and the A/V offsets measured (av-offset.js): see SoundState. */
    sound: {
      available: false,
      problem: null,
      muted: true,
      volume: 1,
      context: null,
      scheduled: 0,
      dropped: 0,
      trimmed: 0,
      underruns: 0,
      queueMs: 0,
      beeps: 0,
      lastOffset: null,
      offsets: [],
    },
  };
  window.pistream = state;
})();
