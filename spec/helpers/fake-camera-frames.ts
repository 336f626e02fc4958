import { join } from 'node:path';

/** Path of the camera stand-in script (see its header for the flags and environment it understands). */
export const FAKE_CAMERA = join(__dirname, 'fake-camera.js');

/** The tightly packed I420 frame `seq` the stand-in writes, padding cropped: what a source must emit. */
export function fakeCameraFrame(width: number, height: number, seq: number): Buffer {
  const out = Buffer.alloc((width * height * 3) / 2);
  let i = 0;
  for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) out[i++] = (3 * seq + r + c) % 200;
  for (let r = 0; r < height / 2; r++) for (let c = 0; c < width / 2; c++) out[i++] = 200 + ((seq + r + c) % 30);
  for (let r = 0; r < height / 2; r++) for (let c = 0; c < width / 2; c++) out[i++] = 100 + ((seq + r + c) % 30);
  return out;
}
