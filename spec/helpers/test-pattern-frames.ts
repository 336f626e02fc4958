import type { Frame } from '../../src/frame';
import { TestPatternRenderer } from '../../src/sources/test-pattern';

/**
 * `n` frames of the test pattern at `width` x `height`, numbered from 0 and stamped 40 ms apart, rendered at once
 * (not paced in real time): input for encoder specs that feed frames at their own pace, e.g. with `lockstep`.
 */
export function testPatternFrames(width: number, height: number, n: number): Frame[] {
  const renderer = new TestPatternRenderer(width, height);
  return Array.from({ length: n }, (_, seq) => renderer.render(seq, 1_700_000_000_000 + seq * 40));
}
