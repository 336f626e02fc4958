// Import rules for pistream, checked by `npm run deps` (part of `npm test`) with dependency-cruiser.
// A violation prints the rule name, the importing file → the imported module, and the rule's comment below.
// Paths are relative to the repository root. spec/architecture.spec.ts checks that these rules still catch
// violations (fixture tree in spec/fixtures/deps/).
//
// Layout, bottom to top (a layer may import the layers listed for it, never one above it):
//   src/defaults.ts                      imports nothing from src
//   src/frame.ts, picture.ts, barcode.ts, protocol.ts   leaf modules: only each other (barcode and protocol type
//                                        the scripts in public/ that the page and the server share)
//   src/process/                         child-process edge + ffmpeg locator: only frame, picture, defaults
//   src/operators/                       pure RxJS operators: only picture, frame, defaults
//   src/sources/                         process/, frame, picture, barcode, defaults, codecs/ (a camera that encodes by
//                                        itself emits a codec's pictures), each other
//   src/codecs/                          process/, frame, picture, defaults, operators/, each other; but a codec's
//                                        folder (src/codecs/<a>/) never another's (src/codecs/<b>/) nor the registry
//                                        (index.ts): shared parsing lives in src/codecs/common/
//   src/audio/                           sound: capture (ALSA through ffmpeg, the test tone), the audio codecs, their
//                                        encoders and the sound hub: process/, operators/, leaves, defaults, each other
//   src/formats/                         picture, frame, protocol, codecs/, audio/, defaults, operators/, each other
//   src/hub.ts, transcoded-hub.ts        codecs/, formats/, operators/, picture, frame, defaults, each other
//   src/webrtc/                          WHEP and RTP/RTCP for WebRTC viewers: codecs/, operators/, leaves, defaults,
//                                        each other; node-datachannel only in peer-session.ts (its edge)
//   src/version.ts                       the package's version: imports nothing from src
//   src/options/                         what a server accepts (the plugin's schema): codecs/, formats/, sources/,
//                                        hub.ts (types), publish/ (its target parser), leaves, defaults
//   src/recording/                       the recorder (an edge: files): hub.ts (types), formats/, codecs/, operators/,
//                                        picture, frame, defaults
//   src/publish/                         the publishers (an edge: one ffmpeg per target): hub.ts (types), process/, codecs/,
//                                        operators/, picture, frame, defaults
//   src/server/                          everything above except cli.ts and config/
//   src/config/                          argv/env → options: defaults, codecs/, formats/, sources/, process/,
//                                        options/, version (never server/)
//   src/cli.ts                           config/, server/, defaults
//   src/index.ts                         public API re-exports: anything in src
const path = require('node:path');

// `src/config.ts` is the pre-move location of `src/config/`; both are held to the config rules.
const CONFIG = '^src/config(?:/|[.]ts$)';
const DEFAULTS = '^src/defaults[.]ts$';
const FRAME = '^src/frame[.]ts$';
const PICTURE = '^src/picture[.]ts$';
const BARCODE = '^src/barcode[.]ts$';
const PROTOCOL = '^src/protocol[.]ts$';
const LEAVES = '^src/(?:frame|picture|barcode|protocol)[.]ts$';
const PROCESS = '^src/process/';
const SOURCES = '^src/sources/';
const CODECS = '^src/codecs/';
const FORMATS = '^src/formats/';
const OPERATORS = '^src/operators/';
const HUB = '^src/(?:hub|transcoded-hub)[.]ts$';
const VERSION = '^src/version[.]ts$';
const OPTIONS = '^src/options/';
const RECORDING = '^src/recording/';
const PUBLISH = '^src/publish/';
const SERVER = '^src/server/';
const CLI = '^src/cli[.]ts$';
const INDEX = '^src/index[.]ts$';
const WEBRTC = '^src/webrtc/';
const AUDIO = '^src/audio/';
const WEBRTC_EDGE = '^src/webrtc/peer-session[.]ts$';
const NODE_DATACHANNEL = '(?:^|/)node_modules/(?:node-datachannel|@node-datachannel/[^/]+)/';

// Core modules show up as `fs` / `node:fs`; packages as their resolved file under node_modules (incl. @types).
const CHILD_PROCESS_OR_FS = '^(?:node:)?(?:child_process|fs|fs/promises)$';
const WS_OR_HAPI = '(?:^|/)node_modules/(?:@types/)?(?:ws|hapi-pino|@hapi/[^/]+|hapi__[^/]+)/';

/**
 * One rule per layer: from `from`, any import of a src module outside `allowed` is a violation.
 * Imports of src/index.ts, src/cli.ts and (from config) src/server/ are left to their own rules,
 * so each bad import is reported once.
 */
function layer(name, from, allowed, comment) {
  return {
    name,
    severity: 'error',
    comment,
    from: { path: from },
    to: { path: '^src/', pathNot: [from, ...allowed, INDEX, CLI] },
  };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // 1. The pure middle does no I/O and knows nothing of the server.
    {
      name: 'pure-middle-no-io',
      severity: 'error',
      comment:
        'picture/frame/barcode/defaults, src/operators/, src/formats/, src/hub.ts and src/transcoded-hub.ts are pure: no child_process, ' +
        'fs, ws, @hapi/* or hapi-pino. Spawning goes through src/process/, sockets and HTTP live in src/server/.',
      from: { path: '^src/(?:(?:picture|frame|barcode|defaults|hub|transcoded-hub)[.]ts$|operators/|formats/)' },
      to: { path: [CHILD_PROCESS_OR_FS, WS_OR_HAPI] },
    },
    {
      name: 'codecs-io-via-process',
      severity: 'error',
      comment:
        'src/codecs/ must not import child_process, fs, ws, @hapi/* or hapi-pino directly (type imports included): ' +
        'encoders spawn ffmpeg through src/process/ (import SpawnFn/ChildProcessOptions types from there too); parsers stay pure.',
      from: { path: CODECS },
      to: { path: [CHILD_PROCESS_OR_FS, WS_OR_HAPI] },
    },

    {
      name: 'webrtc-library-at-its-edge',
      severity: 'error',
      comment:
        'node-datachannel (a native addon, missing on some platforms) is imported only by src/webrtc/peer-session.ts, ' +
        'which loads it lazily; everything else in src/webrtc/ is pure and the rest of src goes through that file.',
      from: { path: '^src/', pathNot: WEBRTC_EDGE },
      to: { path: NODE_DATACHANNEL },
    },
    {
      name: 'webrtc-pure-but-its-edge',
      severity: 'error',
      comment:
        'src/webrtc/ (WHEP decisions, SDP, RTCP) is pure: no child_process, fs, ws, @hapi/* or hapi-pino; ' +
        'its one edge is peer-session.ts (node-datachannel), and the HTTP binding belongs in src/server/.',
      from: { path: WEBRTC },
      to: { path: [CHILD_PROCESS_OR_FS, WS_OR_HAPI] },
    },
    {
      name: 'codecs-not-each-other',
      severity: 'error',
      comment:
        "A codec folder (src/codecs/<a>/) must not import another codec's folder (src/codecs/<b>/) or the codec registry " +
        '(src/codecs/index.ts, which imports every codec): what codecs share lives in src/codecs/common/ or beside the ' +
        'folders in src/codecs/ (codec.ts, ffmpeg-encoder.ts); what joins two codecs (the MPEG-1 transcode) lives there too.',
      from: { path: '^src/codecs/([^/]+)/' },
      to: { path: '^src/codecs/(?:[^/]+/|index[.]ts$)', pathNot: '^src/codecs/(?:$1|common)/' },
    },
    {
      name: 'codecs-common-is-a-leaf',
      severity: 'error',
      comment:
        'src/codecs/common/ holds what codecs share (start codes, frame rates): it imports no codec folder and no codecs/ file beside them.',
      from: { path: '^src/codecs/common/' },
      to: { path: '^src/codecs/', pathNot: '^src/codecs/common/' },
    },

    // 2. Configuration is parsed without the server.
    {
      name: 'config-not-to-server',
      severity: 'error',
      comment:
        'src/config/ turns argv/env into plugin options and must not import src/server/ ' +
        '(move shared option types/parsers down into src/options/ or src/defaults.ts, and let both import them).',
      from: { path: CONFIG },
      to: { path: SERVER },
    },

    // 3. Layering: nothing imports upward.
    layer('layer-defaults', DEFAULTS, [], 'src/defaults.ts is the single module of defaults and imports nothing from src.'),
    layer(
      'layer-leaves',
      LEAVES,
      [LEAVES],
      'src/frame.ts, src/picture.ts, src/barcode.ts and src/protocol.ts are leaf modules: they import nothing from src except each other.',
    ),
    layer(
      'layer-process',
      PROCESS,
      [FRAME, PICTURE, DEFAULTS],
      'src/process/ (child-process edge, ffmpeg locator) may import only src/frame.ts, src/picture.ts and src/defaults.ts from src.',
    ),
    layer(
      'layer-operators',
      OPERATORS,
      [PICTURE, FRAME, DEFAULTS],
      'src/operators/ are pure RxJS operators: they may import only src/picture.ts, src/frame.ts and src/defaults.ts.',
    ),
    layer(
      'layer-sources',
      SOURCES,
      [PROCESS, FRAME, PICTURE, BARCODE, DEFAULTS, CODECS],
      'src/sources/ may import only src/process/, frame, picture, barcode, defaults, codecs/ (a camera that encodes ' +
        "by itself, such as the Pi's H.264 encoder, emits a codec's pictures) and each other " +
        '(not formats/, operators/, hub.ts, server/, config/).',
    ),
    layer(
      'layer-codecs',
      CODECS,
      [PROCESS, FRAME, PICTURE, DEFAULTS, OPERATORS],
      'src/codecs/ may import only src/process/, frame, picture, defaults, operators/ and each other ' +
        '(not sources/, formats/, hub.ts, server/, config/).',
    ),
    layer(
      'layer-audio',
      AUDIO,
      [PROCESS, OPERATORS, LEAVES, DEFAULTS],
      'src/audio/ (sound: capture, audio codecs, encoders, the sound hub) may import only process/, operators/, picture, frame, ' +
        'barcode, protocol, defaults and itself (not formats/, hub.ts, server/, options/, config/).',
    ),
    layer(
      'layer-formats',
      FORMATS,
      [PICTURE, FRAME, PROTOCOL, CODECS, AUDIO, DEFAULTS, OPERATORS],
      'src/formats/ (wire formats) may import only picture, frame, protocol, codecs/, defaults, operators/ and each other ' +
        '(not hub.ts, server/, sources/, process/, config/).',
    ),
    layer(
      'layer-hub',
      HUB,
      [CODECS, AUDIO, FORMATS, OPERATORS, PICTURE, FRAME, DEFAULTS],
      'src/hub.ts and src/transcoded-hub.ts may import only codecs/, formats/, operators/, picture, frame, defaults and each other ' +
        '(not sources/, process/, server/, config/).',
    ),
    layer(
      'layer-webrtc',
      WEBRTC,
      [CODECS, AUDIO, OPERATORS, LEAVES, DEFAULTS],
      'src/webrtc/ (WHEP, SDP, RTP/RTCP for WebRTC viewers) may import only codecs/, audio/, operators/, picture, frame, barcode, ' +
        'protocol, defaults and itself (not hub.ts, formats/, server/, options/, config/): the server wires it in.',
    ),
    layer('layer-version', VERSION, [], 'src/version.ts reads the package version and imports nothing from src.'),
    layer(
      'layer-options',
      OPTIONS,
      [CODECS, AUDIO, FORMATS, SOURCES, HUB, PUBLISH, LEAVES, DEFAULTS],
      "src/options/ (the plugin's schema and the server config type) may import only codecs/, formats/, sources/, " +
        'hub.ts, publish/ (the target parser), picture, frame, barcode, defaults and itself (not server/, config/, cli.ts).',
    ),
    layer(
      'layer-publish',
      PUBLISH,
      [HUB, PROCESS, CODECS, AUDIO, OPERATORS, PICTURE, FRAME, DEFAULTS],
      'src/publish/ (one supervised ffmpeg per publish target) may import only hub.ts (types), process/, codecs/, operators/, picture, ' +
        'frame and defaults (not server/, options/, sources/, config/): the server wires it in.',
    ),
    layer(
      'layer-recording',
      RECORDING,
      [HUB, CODECS, AUDIO, FORMATS, OPERATORS, PICTURE, FRAME, DEFAULTS],
      'src/recording/ (the recorder: segments on disk, retention) may import only hub.ts, codecs/, formats/, operators/, ' +
        'picture, frame and defaults (not server/, options/, process/, sources/, config/): the server wires it in.',
    ),
    layer(
      'layer-server',
      SERVER,
      [HUB, CODECS, AUDIO, FORMATS, SOURCES, PROCESS, OPERATORS, OPTIONS, RECORDING, PUBLISH, WEBRTC, LEAVES, DEFAULTS, VERSION],
      'src/server/ may import options/, hub, codecs/, formats/, sources/, process/, operators/, recording/, publish/, webrtc/, picture, frame, barcode, ' +
        'defaults, version and itself, but not src/cli.ts or src/config/ (config feeds the server, not the other way round).',
    ),
    layer(
      'layer-config',
      CONFIG,
      [DEFAULTS, CODECS, AUDIO, FORMATS, SOURCES, PROCESS, OPTIONS, VERSION, SERVER /* reported by config-not-to-server */],
      'src/config/ may import only src/defaults.ts, codecs/, formats/, sources/ (types), process/, options/, version and itself.',
    ),
    layer('layer-cli', CLI, [CONFIG, SERVER, DEFAULTS], 'src/cli.ts may import only src/config/, src/server/ and src/defaults.ts.'),
    {
      name: 'no-import-of-index',
      severity: 'error',
      comment: 'src/index.ts is the public API (re-exports only): modules inside src import the module itself, not the index.',
      from: { path: '^src/', pathNot: INDEX },
      to: { path: INDEX },
    },
    {
      name: 'no-import-of-cli',
      severity: 'error',
      comment: 'src/cli.ts is the command-line entry point: nothing in src imports it.',
      from: { path: '^src/', pathNot: CLI },
      to: { path: CLI },
    },

    // 4. No cycles.
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Circular import in src (type-only imports count too). Break the cycle by moving the shared piece down a layer ' +
        '(e.g. types into the lower module, or defaults into src/defaults.ts).',
      from: { path: '^src/' },
      to: { circular: true },
    },

    // 5. Test and tool code stays out of the product, and spec/ helpers out of bench/soak.
    {
      name: 'src-not-to-tests-or-tools',
      severity: 'error',
      comment: 'src/ is the shipped package: it must not import spec/, bench/, soak/ or examples/.',
      from: { path: '^src/' },
      to: { path: '^(?:spec|bench|soak|examples)/' },
    },
    {
      name: 'bench-soak-not-to-spec',
      severity: 'error',
      comment: 'bench/ and soak/ must not import spec/ (move a shared helper into bench/ or src/ instead).',
      from: { path: '^(?:bench|soak)/' },
      to: { path: '^spec/' },
    },

    // 6. Packages.
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        'src/ imports a devDependency, which is not installed for users of the package. Move it to "dependencies" ' +
        'in package.json, or keep the import out of src/. (Type-only imports of @types/* are fine.)',
      from: { path: '^src/' },
      to: {
        dependencyTypes: ['npm-dev'],
        dependencyTypesNot: ['type-only'],
        pathNot: ['node_modules/@types/'],
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'This import cannot be resolved to a file: a moved/renamed module or a package missing from package.json ' +
        '(run npm install). Fix the import path.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    // spec/fixtures/deps/ breaks every rule on purpose; spec/architecture.spec.ts cruises it on its own.
    exclude: { path: ['^spec/fixtures/deps/', '^dist/', '^bench/results/'] },
    // Type-only imports are dependencies too (layering and cycles); resolve .ts via tsconfig.json.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.cjs', '.mjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
