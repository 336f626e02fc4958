#!/usr/bin/env node
'use strict';
/*
 * A stand-in for rpicam-vid / libcamera-vid / raspivid encoding H.264: writes real Annex B (read from
 * FAKE_H264_FILE, made by a real encoder) as a Pi does: before each IDR its SPS + PPS (and anything else before
 * the first slice) as a separate small write, then one write per picture, with a pause between pictures.
 * It accepts every camera flag and reads none of them; `--help` lists rpicam-vid's flags.
 *
 * Environment:
 *   FAKE_H264_FILE        the Annex B stream to play (required)
 *   FAKE_H264_FPS         pictures per second (default 50)
 *   FAKE_H264_FRAMES      how many pictures to write, looping over the file (default: the file once)
 *   FAKE_H264_HOLD        "1": after the pictures, keep running until killed
 *   FAKE_H264_EXIT        exit code after the pictures (default 0)
 *   FAKE_H264_NO_LOW_LATENCY  "1": `--help` does not list --low-latency (an older rpicam-vid)
 *   FAKE_CAMERA_ARGV      file to write the argument list to (JSON), or with `--help`, to FAKE_CAMERA_ARGV.help
 */
const fs = require('node:fs');

const args = process.argv.slice(2);
const env = process.env;
if (args.includes('--help')) {
  if (env.FAKE_CAMERA_ARGV) fs.writeFileSync(`${env.FAKE_CAMERA_ARGV}.help`, JSON.stringify(args));
  const flags = ['--codec', '--inline', '--flush', '--intra', '--profile', '--level', '--bitrate'];
  if (env.FAKE_H264_NO_LOW_LATENCY !== '1') flags.push('--low-latency');
  process.stdout.write(`Valid options are:\n${flags.map((f) => `  ${f} arg`).join('\n')}\n`);
  process.exit(0);
}
if (env.FAKE_CAMERA_ARGV) fs.writeFileSync(env.FAKE_CAMERA_ARGV, JSON.stringify(args));

/** NAL header offsets (after each start code) in `buf`. */
function nalStarts(buf) {
  const starts = [];
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts;
}

/** The stream as writes: [leading non-VCL NALs], [picture] per access unit (whole-stream cut, first_mb rule). */
function writesOf(buf) {
  const pictures = [];
  let current = null;
  for (const at of nalStarts(buf)) {
    const type = buf[at] & 0x1f;
    const vcl = type >= 1 && type <= 5;
    const from = at >= 4 && buf[at - 4] === 0 ? at - 4 : at - 3;
    const firstSlice = vcl && (buf[at + 1] & 0x80) !== 0;
    if (current === null || (current.vcl && (!vcl || firstSlice))) {
      current = { from, sliceFrom: -1, vcl: false };
      pictures.push(current);
    }
    if (vcl && current.sliceFrom < 0) current.sliceFrom = from;
    current.vcl = current.vcl || vcl;
  }
  return pictures.map((p, k) => {
    const to = k + 1 < pictures.length ? pictures[k + 1].from : buf.length;
    return p.sliceFrom > p.from ? [buf.subarray(p.from, p.sliceFrom), buf.subarray(p.sliceFrom, to)] : [buf.subarray(p.from, to)];
  });
}

const pictures = writesOf(fs.readFileSync(env.FAKE_H264_FILE));
const total = env.FAKE_H264_FRAMES === undefined ? pictures.length : Number(env.FAKE_H264_FRAMES);
const interval = 1000 / Number(env.FAKE_H264_FPS || 50);
let n = 0;
function next() {
  if (n >= total) {
    if (env.FAKE_H264_HOLD === '1') return setInterval(() => undefined, 1 << 30);
    return process.exit(Number(env.FAKE_H264_EXIT || 0));
  }
  const writes = pictures[n++ % pictures.length];
  for (const w of writes.slice(0, -1)) process.stdout.write(w);
  process.stdout.write(writes[writes.length - 1], () => setTimeout(next, interval));
}
process.stdout.on('error', () => process.exit(0)); // the reader went away: stop, as rpicam-vid does
next();
