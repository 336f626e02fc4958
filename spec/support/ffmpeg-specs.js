// A jest `--filter`: keeps the specs that can start an ffmpeg, for the second ffmpeg pass (`npm run test:ffmpeg`).
// Every ffmpeg that pistream or a spec helper starts is found through src/process/ffmpeg-path.ts, so a spec that can
// start one imports it, directly or through other modules: dependency-cruiser lists those (`--reaches`). Specs that
// run the built package in a child Node (the CLI, the README's example) start their ffmpeg there, out of the import
// graph: they are the ones that spawn `process.execPath`. Over-inclusive by design (a spec that imports the hub for
// its marbles is kept too); those cost milliseconds, and no spec that starts an ffmpeg is left out.
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');

const root = join(__dirname, '..', '..');

/** The modules under spec/ and src/ that import ffmpeg-path.ts, directly or not, as absolute paths. */
function reachingFfmpegPath() {
  const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const json = execFileSync(
    process.execPath,
    [
      depcruise,
      'spec',
      'src',
      '--config',
      '.dependency-cruiser.js',
      '--reaches',
      '^src/process/ffmpeg-path\\.ts$',
      '--output-type',
      'json',
    ],
    { cwd: root, maxBuffer: 64 << 20, encoding: 'utf8' },
  );
  return new Set(JSON.parse(json).modules.map((module) => resolve(root, module.source)));
}

/**
 * Specs left out of the bundled pass, each with why: a known defect, written here so that it is seen, not hidden.
 * `'spec/path.spec.ts': 'what does not work with the bundled ffmpeg 4.1 (known defect)'`. Empty: every spec that
 * can start an ffmpeg passes with it (publishing with sound was here until FLV got its `aac_adtstoasc`).
 */
const NOT_WITH_BUNDLED = {};

module.exports = async function ffmpegSpecs(testPaths) {
  const reaching = reachingFfmpegPath();
  const runsPackage = (path) => /\bprocess\.execPath\b/.test(readFileSync(path, 'utf8'));
  const left = (path) => NOT_WITH_BUNDLED[relative(root, path)];
  for (const path of testPaths.filter(left)) console.warn(`not in the bundled-ffmpeg pass: ${relative(root, path)}: ${left(path)}`);
  return { filtered: testPaths.filter((path) => (reaching.has(path) || runsPackage(path)) && !left(path)) };
};
