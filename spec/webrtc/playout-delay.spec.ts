import {
  FIREFOX_PLAYOUT_DELAY,
  PLAYOUT_DELAY,
  PLAYOUT_DELAY_URI,
  playoutDelayExtmap,
  playoutDelayFor,
} from '../../src/webrtc/playout-delay';

describe('playoutDelayExtmap', () => {
  it("answers the extension under the offer's id", () => {
    expect(playoutDelayExtmap(5)).toBe(`a=extmap:5 ${PLAYOUT_DELAY_URI}`);
    expect(playoutDelayExtmap(1)).toBe(`a=extmap:1 ${PLAYOUT_DELAY_URI}`);
    expect(playoutDelayExtmap(14)).toBe(`a=extmap:14 ${PLAYOUT_DELAY_URI}`);
  });

  it('answers nothing when it was not offered, or under an id a one-byte header cannot carry', () => {
    expect(playoutDelayExtmap(undefined)).toBeUndefined();
    expect(playoutDelayExtmap(0)).toBeUndefined();
    expect(playoutDelayExtmap(15)).toBeUndefined();
    expect(playoutDelayExtmap(200)).toBeUndefined();
  });
});

describe('playoutDelayFor', () => {
  it('asks every receiver but Firefox to render at once (min 0, max 0)', () => {
    expect(PLAYOUT_DELAY).toEqual({ min: 0, max: 0 });
    // Chromium's and Safari's origin user name is '-'; libdatachannel's 'rtc'.
    for (const user of ['-', 'rtc', '']) expect(playoutDelayFor(user)).toBe(PLAYOUT_DELAY);
  });

  it('asks Firefox, which froze on 0/0, for min 0 / max 10 ms', () => {
    expect(FIREFOX_PLAYOUT_DELAY).toEqual({ min: 0, max: 1 });
    expect(playoutDelayFor('mozilla...THIS_IS_SDPARTA-128.0')).toBe(FIREFOX_PLAYOUT_DELAY);
    expect(playoutDelayFor('xmozilla...THIS_IS_SDPARTA')).toBe(PLAYOUT_DELAY);
  });
});
