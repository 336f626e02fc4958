import { map } from 'rxjs';
import { createHub, type Hub } from '../../src/hub';
import { testPattern } from '../../src/sources/test-pattern';
import { pic } from './pictures';

/** A hub over the 640x480@24 test pattern with a stand-in encoder (a keyframe per frame): real timing, no ffmpeg. */
export function standInHub(): Hub {
  const size = { width: 640, height: 480, fps: 24 };
  return createHub({
    source: testPattern(size),
    encoder: size,
    encode: map((frame) => ({ ...pic('I', frame.seq), capturedAt: frame.capturedAt })),
    graceMs: 0,
  });
}
