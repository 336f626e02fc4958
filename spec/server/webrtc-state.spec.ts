import { h264 } from '../../src/codecs/h264/h264-codec';
import { formatsFor } from '../../src/formats';
import type { Hub } from '../../src/hub';
import { webRtcState } from '../../src/server/webrtc-state';
import type { WebRtcLibrary } from '../../src/webrtc/peer-session';
import { standInHub } from '../helpers/stand-in-hub';

describe('webRtcState: whether a server serves WebRTC viewers, and why not', () => {
  const library = {} as WebRtcLibrary;
  const loads = () => ({ ok: true as const, library });
  const h264Hub = { codec: h264, formats: formatsFor(h264.id) } as unknown as Hub;
  const on = { webrtc: { port: 8189, addresses: [], stun: [] } };

  it('is on for an H.264 hub where the library loads', () => {
    expect(webRtcState(on, h264Hub, loads)).toEqual({ on: true, library });
  });

  it('is off, saying why, when the options turn it off, the stream is MPEG-1, or the library has no build', () => {
    const load = jest.fn(loads);
    expect(webRtcState({ webrtc: { ...on.webrtc, enabled: false } }, h264Hub, load)).toEqual({
      on: false,
      reason: 'WebRTC is off, as the options say',
    });
    const mpeg1 = standInHub();
    expect(webRtcState(on, mpeg1, load)).toEqual({
      on: false,
      reason: 'WebRTC is off: it sends H.264 access units, and this MPEG-1 stream has none',
    });
    mpeg1.close();
    // Not loaded when it would not be used: a platform without a build pays nothing.
    expect(load).not.toHaveBeenCalled();
    expect(webRtcState(on, h264Hub, () => ({ ok: false, reason: 'WebRTC is not available on linux/arm: no build' }))).toEqual({
      on: false,
      reason: 'WebRTC is not available on linux/arm: no build',
    });
  });
});
