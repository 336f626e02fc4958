import { PLAYOUT_DELAY_URI, playoutDelayExtmap } from '../../src/webrtc/playout-delay';

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
