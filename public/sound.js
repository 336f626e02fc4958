/*
 * The page's sound: one WebAudio graph shared by every connection, the speaker button and the volume slider.
 *
 * Browsers let a page make sound only after a user gesture (autoplay rules), so the page starts muted and makes no
 * AudioContext at all until the speaker button is pressed: the click creates (or resumes) the context, and players
 * schedule their decoded sound into `input()` from then on. Muting again keeps the graph running at gain 0 (so the
 * schedule stays continuous and unmuting is instant); the volume slider sets the gain while unmuted.
 *
 * The graph: players' sources → input (gain 1) → volume gain → speakers, and input → analyser, the tap the A/V
 * offset (av-offset.js) listens on: the sound as scheduled to play, before the volume, so the offset is measured
 * at any volume.
 *
 * The button and slider are shown only when the chosen player's format carries sound (GET /streams says so per
 * format): viewer.js calls `offer(true)`.
 *
 * Plain script, no build step: `window.pistreamSound`; loaded after page-state.js, before viewer-core.js.
 */
(function () {
  'use strict';

  /** Analyser window: 2048 samples (43 ms at 48 kHz), longer than the A/V offset's polling interval. */
  var ANALYSER_SIZE = 2048;

  var state = window.pistream;
  var button = /** @type {HTMLButtonElement} */ (document.getElementById('speaker'));
  var slider = /** @type {HTMLInputElement} */ (document.getElementById('volume'));

  var sound = state.sound;
  sound.volume = Number(slider.value) / 100;

  /** @type {AudioContext | null} */
  var context = null;
  /** @type {GainNode | null} */
  var input = null;
  /** @type {GainNode | null} */
  var volume = null;
  /** @type {AnalyserNode | null} */
  var analyser = null;
  /** Called once the graph exists (av-offset.js starts listening). @type {Array<() => void>} */
  var onGraph = [];

  /** The AudioContext's constructor, or null where the browser has none. */
  function audioContextClass() {
    return window.AudioContext || window.webkitAudioContext || null;
  }

  /** Makes the graph (in the click's handler: a user gesture). Returns false where WebAudio is missing. */
  function makeGraph() {
    var Context = audioContextClass();
    if (!Context) return false;
    // 'interactive': the smallest output buffer the platform offers (sound latency over glitch safety).
    context = new Context({ latencyHint: 'interactive' });
    input = context.createGain();
    volume = context.createGain();
    analyser = context.createAnalyser();
    analyser.fftSize = ANALYSER_SIZE;
    input.connect(volume);
    input.connect(analyser);
    volume.connect(context.destination);
    for (var i = 0; i < onGraph.length; i++) onGraph[i]();
    return true;
  }

  function applyGain() {
    if (volume) volume.gain.value = sound.muted ? 0 : sound.volume;
  }

  /** Why the stream's sound cannot play here (see `unavailable`), or null. @type {string | null} */
  var problem = null;

  function showControls() {
    button.hidden = !sound.available && problem === null;
    button.disabled = problem !== null;
    if (problem !== null) {
      slider.hidden = true;
      button.title = problem;
      button.setAttribute('aria-label', problem);
      return;
    }
    // The slider only while sound plays: muted, the button is the one control that matters.
    slider.hidden = !sound.available || sound.muted;
    button.setAttribute('aria-pressed', sound.muted ? 'false' : 'true');
    button.title = sound.muted ? 'Sound off: click to unmute' : 'Sound on: click to mute';
    button.setAttribute('aria-label', sound.muted ? 'Unmute' : 'Mute');
    button.setAttribute('data-muted', sound.muted ? 'true' : 'false');
    sound.context = context ? context.state : null;
  }

  function toggle() {
    if (!context && !makeGraph()) {
      sound.available = false;
      showControls();
      return;
    }
    sound.muted = !sound.muted;
    // A context made or left suspended by the autoplay rules starts in the click's handler.
    if (!sound.muted && context && context.state !== 'running') {
      context.resume().then(showControls, showControls);
    }
    applyGain();
    showControls();
  }

  button.addEventListener('click', toggle);
  slider.addEventListener('input', function () {
    sound.volume = Number(slider.value) / 100;
    applyGain();
  });

  /** @type {PageSound} */
  var api = {
    /** Whether the stream being played carries sound: shows or hides the controls. @param {boolean} has */
    offer: function (has) {
      sound.available = has && audioContextClass() !== null;
      problem = null;
      showControls();
    },
    /**
     * The stream has sound but this browser cannot play it with the chosen player (WebCodecs without an AudioDecoder
     * for the codec): the button stays, disabled, and says why; the picture is unaffected. @param {string} why
     */
    unavailable: function (why) {
      sound.available = false;
      sound.problem = why;
      problem = why;
      showControls();
    },
    /** Where players connect their sources, or null until the speaker button was first pressed. */
    input: function () {
      return input;
    },
    analyser: function () {
      return analyser;
    },
    /** Calls `then` once the graph exists (at once if it does). @param {() => void} then */
    whenReady: function (then) {
      if (context) then();
      else onGraph.push(then);
    },
  };
  showControls();
  window.pistreamSound = api;
})();
