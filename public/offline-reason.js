/*
 * While the page is connected without pictures ("camera offline"), the server's reason under the status line:
 * asked of `healthz` (next to the page) every 2 s, and only then. Also learns what feeds the stream (healthz's
 * `source`), so the status can say "camera" only for a camera.
 *
 * Plain script, no build step: `window.pistreamOfflineReason(options)` returns { start, stop }; the viewer core
 * (viewer-core.js) starts it on going offline and stops it on anything else.
 */
(function () {
  'use strict';

  /** While offline, the server is asked why (`healthz`) this often; never while pictures flow. */
  var HEALTH_POLL_MS = 2000;
  /** A `healthz` request unanswered after this long is given up (and asked again at the next poll). */
  var HEALTH_TIMEOUT_MS = 5000;
  /** The reason shown under the status: one line, at most this many characters. */
  var MAX_REASON_CHARS = 200;

  /**
   * @param {OfflineReasonOptions} options
   * `options`: state (window.pistream: `source`, `reason`, `healthChecks` are kept here), reasonEl (the line under
   * the status), healthUrl() (healthz's URL), onSource() (the source kind changed). (A closure over one poller's
   * state, as a module would hold it: its inner functions are the short ones.)
   */
  window.pistreamOfflineReason = function (options) {
    var state = options.state;
    var reasonEl = options.reasonEl;
    var healthUrl = options.healthUrl;
    var onSource = options.onSource;

    /**
     * The /healthz polls: the timer of the next one, the request under way (`busy`, its give-up timer and abort
     * controller), and a generation that outdates answers still on their way once polling stops.
     */
    /** @type {{ timer: number, busy: boolean, requestTimer: number, controller: AbortController | null, generation: number }} */
    var health = { timer: 0, busy: false, requestTimer: 0, controller: null, generation: 0 };

    function startHealthPolls() {
      if (health.timer || health.busy) return;
      pollHealth();
    }

    /** Stops asking, forgets any answer still on its way, and hides the reason. */
    function stopHealthPolls() {
      health.generation++;
      clearTimeout(health.timer);
      clearTimeout(health.requestTimer);
      health.timer = health.requestTimer = 0;
      if (health.controller) health.controller.abort();
      health.controller = null;
      health.busy = false;
      showReason(null);
    }

    /**
     * Asks /healthz why there are no pictures, then again every HEALTH_POLL_MS while still offline. An answer that
     * is not health JSON (401: health needs credentials the page lacks; 404: no /healthz under a host app) or no
     * answer at all shows nothing extra.
     */
    function pollHealth() {
      health.timer = 0;
      if (typeof window.fetch !== 'function') return;
      var generation = health.generation;
      var controller = typeof window.AbortController === 'function' ? new window.AbortController() : null;
      health.controller = controller;
      health.busy = true;
      health.requestTimer = setTimeout(function () {
        if (controller) controller.abort();
      }, HEALTH_TIMEOUT_MS);
      state.healthChecks++;
      var current = function () {
        return generation === health.generation;
      };
      window
        .fetch(healthUrl(), {
          cache: 'no-store',
          credentials: 'same-origin',
          headers: { Accept: 'application/json' },
          signal: controller ? controller.signal : undefined,
        })
        .then(function (res) {
          var type = res.headers.get('content-type') || '';
          // 503 is what a failing pipeline answers; its body says why.
          if ((res.status !== 200 && res.status !== 503) || type.indexOf('application/json') !== 0) return null;
          return res.json();
        })
        .then(
          function (body) {
            if (current()) onHealth(body);
          },
          function () {
            if (current()) onHealth(null);
          }
        )
        .then(function () {
          if (!current()) return;
          clearTimeout(health.requestTimer);
          health.requestTimer = 0;
          health.controller = null;
          health.busy = false;
          health.timer = setTimeout(pollHealth, HEALTH_POLL_MS);
        });
    }

    /** @param {HealthAnswer | null} body */
    function onHealth(body) {
      if (!body || typeof body !== 'object') {
        showReason(null);
        return;
      }
      if (typeof body.source === 'string' && body.source !== state.source) {
        state.source = body.source;
        state.camera = body.camera === true;
        onSource();
      }
      showReason(body.status === 'failing' && typeof body.reason === 'string' ? body.reason : null);
    }

    /** The reason as one short line: no stack frames, no line breaks, at most MAX_REASON_CHARS. @param {string} text */
    function oneLine(text) {
      var lines = String(text).split(/\r?\n|\r/);
      var kept = [];
      for (var i = 0; i < lines.length; i++) {
        var line = lines[i].replace(/\s+/g, ' ').trim();
        if (line && !/^at\s/.test(line)) kept.push(line);
      }
      var joined = kept.join(' | ');
      return joined.length > MAX_REASON_CHARS ? joined.slice(0, MAX_REASON_CHARS - 1).trim() + '…' : joined;
    }

    /** @param {string | null} text */
    function showReason(text) {
      if (!reasonEl) return;
      var line = text ? oneLine(text) : '';
      state.reason = line || null;
      if (reasonEl.textContent !== line) reasonEl.textContent = line;
      reasonEl.hidden = !line;
    }

    return { start: startHealthPolls, stop: stopHealthPolls };
  };
})();
