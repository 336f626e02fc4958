#!/usr/bin/env node
// `npm run test:ffmpeg`: the specs that can start an ffmpeg (see ffmpeg-specs.js), run again as on a machine with no
// ffmpeg installed, where pistream falls back to the binary of @ffmpeg-installer/ffmpeg (4.1). PATH is rebuilt as one
// folder of links to every program on the real PATH except ffmpeg, ffprobe and ffplay, so nothing else changes
// (a PISTREAM_FFMPEG set outside is dropped for the same reason). Extra arguments go to jest.
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readdirSync, rmSync, symlinkSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { delimiter, join } = require('node:path');

const root = join(__dirname, '..', '..');
const HIDDEN = new Set(['ffmpeg', 'ffprobe', 'ffplay']);

/** A folder of links to the first program of each name on `pathEnv`, leaving out HIDDEN. */
function pathWithout(pathEnv, into) {
  const linked = new Set(HIDDEN);
  for (const dir of pathEnv.split(delimiter)) {
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      continue; // a PATH entry that does not exist
    }
    for (const name of names) {
      if (linked.has(name)) continue;
      linked.add(name);
      symlinkSync(join(dir, name), join(into, name));
    }
  }
  return into;
}

const bin = mkdtempSync(join(tmpdir(), 'pistream-no-ffmpeg-'));
try {
  const env = { ...process.env, PATH: pathWithout(process.env.PATH ?? '', bin) };
  delete env.PISTREAM_FFMPEG;
  const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const args = [jest, '--filter', join(__dirname, 'ffmpeg-specs.js'), ...process.argv.slice(2)];
  const run = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(bin, { recursive: true, force: true });
}
