import { appearances, SCREEN_FRESH_MS, screenAv } from '../../bench/av-screen';
import type { ScreenFrame } from '../../bench/screen';

/** A screencast frame at `at` showing picture `frame`, captured `glassMs` before. */
function shows(at: number, frame: number, glassMs: number): ScreenFrame {
  return { at, barcode: { frame, time: at - glassMs }, glassMs };
}

describe('A/V offset on screen and speaker (bench/av-screen.ts)', () => {
  const frames: ScreenFrame[] = [
    { at: 999_900 }, // no picture yet
    shows(1_000_000, 1, 30),
    shows(1_000_010, 1, 40), // the same picture still on screen (the HUD changed): not a new appearance
    shows(1_000_042, 2, 32),
    shows(1_000_084, 3, 34),
  ];

  it('takes each picture at its first appearance only', () => {
    expect(appearances(frames)).toEqual([
      { at: 1_000_000, glassMs: 30 },
      { at: 1_000_042, glassMs: 32 },
      { at: 1_000_084, glassMs: 34 },
    ]);
  });

  it('matches each beep with the picture on screen when it was heard: sound latency − that picture’s', () => {
    const beeps = [
      { at: 1_000_050, audioMs: 50 }, // picture 2 on screen (appeared at 1_000_042)
      { at: 1_000_084, audioMs: 20 }, // picture 3 appeared that very moment
    ];
    expect(screenAv(beeps, frames)).toEqual([
      { audioMs: 50, videoMs: 32, offsetMs: 18 },
      { audioMs: 20, videoMs: 34, offsetMs: -14 },
    ]);
  });

  it('leaves out beeps heard before any picture, or long after the last one appeared', () => {
    const beeps = [
      { at: 999_950, audioMs: 50 },
      { at: 1_000_084 + SCREEN_FRESH_MS + 1, audioMs: 50 },
    ];
    expect(screenAv(beeps, frames)).toEqual([]);
  });
});
