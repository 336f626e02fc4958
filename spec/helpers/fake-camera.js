#!/usr/bin/env node
'use strict';
/*
 * A stand-in for rpicam-vid / libcamera-vid / raspividyuv: writes padded planar I420 frames to stdout exactly as
 * the Pi does (rows padded to the stride with 0xEE, raspividyuv's padded rows too), so the sources' cropping and
 * argument handling run against real process I/O. It accepts every camera flag; it reads only the size ones.
 *
 * The mode follows the flags: `--codec` (rpicam-vid) pads rows to FAKE_CAMERA_ALIGN (default 64; 128 for a Pi 5),
 * `-w` (raspividyuv) pads rows to 32 and the height to 16.
 * Pixel values (never 0xEE): Y = (3·seq + row + col) mod 200, U = 200 + (seq + row + col) mod 30,
 * V = 100 + (seq + row + col) mod 30, with row and col counted within the plane.
 *
 * Environment:
 *   FAKE_CAMERA_ARGV    file to write the argument list to (JSON) before anything else
 *   FAKE_CAMERA_FRAMES  how many frames to write (default: forever)
 *   FAKE_CAMERA_EXIT    exit code after the frames (default 0)
 *   FAKE_CAMERA_HOLD    "1": after the frames, keep running until killed
 *   FAKE_CAMERA_ALIGN   stride alignment in rpicam mode
 *   FAKE_CAMERA_LIST    what `--list-cameras` reports: "none" or (default) one imx219
 */
const fs = require('node:fs');

const args = process.argv.slice(2);
if (process.env.FAKE_CAMERA_ARGV) fs.writeFileSync(process.env.FAKE_CAMERA_ARGV, JSON.stringify(args));

if (args.includes('--list-cameras')) {
  if (process.env.FAKE_CAMERA_LIST === 'none') process.stdout.write('No cameras available!\n');
  else
    process.stdout.write('Available cameras\n-----------------\n0 : imx219 [3280x2464 10-bit RGGB] (/base/soc/i2c0mux/i2c@1/imx219@10)\n');
  process.exit(0);
}

const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const alignUp = (n, a) => Math.ceil(n / a) * a;
const raspivid = args.includes('-w');
const width = raspivid ? flag('-w') : flag('--width');
const height = raspivid ? flag('-h') : flag('--height');
const fps = (raspivid ? flag('-fps') : flag('--framerate')) || 30;
if (!width || !height) {
  process.stderr.write('fake-camera: no size given\n');
  process.exit(64);
}
const stride = raspivid ? alignUp(width, 32) : alignUp(width, Number(process.env.FAKE_CAMERA_ALIGN || 64));
const paddedHeight = raspivid ? alignUp(height, 16) : height;

function paddedFrame(seq) {
  const buf = Buffer.alloc(stride * paddedHeight * 1.5, 0xee);
  const planes = [
    { at: 0, stride, rows: height, cols: width, value: (r, c) => (3 * seq + r + c) % 200 },
    { at: stride * paddedHeight, stride: stride / 2, rows: height / 2, cols: width / 2, value: (r, c) => 200 + ((seq + r + c) % 30) },
    {
      at: stride * paddedHeight * 1.25,
      stride: stride / 2,
      rows: height / 2,
      cols: width / 2,
      value: (r, c) => 100 + ((seq + r + c) % 30),
    },
  ];
  for (const p of planes) {
    for (let r = 0; r < p.rows; r++) for (let c = 0; c < p.cols; c++) buf[p.at + r * p.stride + c] = p.value(r, c);
  }
  return buf;
}

const total = process.env.FAKE_CAMERA_FRAMES === undefined ? Infinity : Number(process.env.FAKE_CAMERA_FRAMES);
let seq = 0;
function next() {
  if (seq >= total) {
    if (process.env.FAKE_CAMERA_HOLD === '1') return setInterval(() => undefined, 1 << 30);
    return process.exit(Number(process.env.FAKE_CAMERA_EXIT || 0));
  }
  const frame = paddedFrame(seq++);
  // Two writes per frame, split off the row grid, so readers meet frames that straddle chunks.
  const cut = Math.floor(frame.length / 3) + 1;
  process.stdout.write(frame.subarray(0, cut));
  process.stdout.write(frame.subarray(cut), () => setTimeout(next, total === Infinity ? 1000 / fps : 0));
}
process.stdout.on('error', () => process.exit(0)); // the reader went away: stop, as rpicam-vid does
next();
