// A device whose H.264 decoder is slower than the stream, emulated in the page: shared by the slow-decoder bench and
// its e2e spec.

/**
 * A script for Playwright's `addInitScript` that wraps the page's `VideoDecoder` before its scripts run: the real
 * decoder is given a unit at most every `window.pistreamSlowDecoder.delayMs` ms (`delayMs` to start with; 0: at
 * once), the rest waiting in the wrapper's queue (counted in `decodeQueueSize`). Pictures then come out as from a
 * decoder that takes that long per picture (or the real one's time, if longer); nothing else changes, so a player
 * cannot tell it from a slow device. `window.pistreamSlowDecoder.delayMs` may be changed while it runs.
 * @example await page.addInitScript(slowVideoDecoderScript(43)); // at most 23 pictures a second
 */
export function slowVideoDecoderScript(delayMs: number): string {
  return `(function (delayMs) {
    var Real = window.VideoDecoder;
    if (!Real) return;
    var hook = (window.pistreamSlowDecoder = { delayMs: delayMs });
    function SlowVideoDecoder(init) {
      this.real = new Real(init);
      this.queue = [];
      this.timer = 0;
      this.nextAt = 0;
    }
    SlowVideoDecoder.isConfigSupported = function (config) { return Real.isConfigSupported(config); };
    Object.defineProperty(SlowVideoDecoder.prototype, 'state', { get: function () { return this.real.state; } });
    Object.defineProperty(SlowVideoDecoder.prototype, 'decodeQueueSize', {
      get: function () { return this.queue.length + this.real.decodeQueueSize; }
    });
    SlowVideoDecoder.prototype.configure = function (config) { this.real.configure(config); };
    SlowVideoDecoder.prototype.decode = function (chunk) { this.queue.push(chunk); this.pump(); };
    SlowVideoDecoder.prototype.pump = function () {
      if (this.timer || this.queue.length === 0) return;
      var self = this;
      this.timer = setTimeout(function () {
        self.timer = 0;
        if (self.real.state !== 'configured') return;
        self.real.decode(self.queue.shift());
        self.nextAt = performance.now() + hook.delayMs;
        self.pump();
      }, Math.max(0, this.nextAt - performance.now()));
    };
    SlowVideoDecoder.prototype.flush = function () { return this.real.flush(); };
    SlowVideoDecoder.prototype.reset = function () { this.queue = []; this.real.reset(); };
    SlowVideoDecoder.prototype.close = function () {
      clearTimeout(this.timer);
      this.timer = 0;
      this.queue = [];
      this.real.close();
    };
    window.VideoDecoder = SlowVideoDecoder;
  })(${delayMs});`;
}
