import { AUDIO_SYNTAX, audioText, parseAudioText } from '../../src/audio/audio-kinds';

describe('--audio text', () => {
  it.each([
    ['auto', { kind: 'auto' }],
    ['none', { kind: 'none' }],
    ['test', { kind: 'test' }],
    ['alsa:plughw:1,0', { kind: 'alsa', device: 'plughw:1,0' }],
    ['alsa:hw:CARD=Device,DEV=0', { kind: 'alsa', device: 'hw:CARD=Device,DEV=0' }],
  ])('reads %s', (text, spec) => {
    expect(parseAudioText(text)).toEqual(spec);
    expect(audioText(parseAudioText(text))).toBe(text);
  });

  it.each(['mic', 'alsa', 'alsa:', 'alsa: ', 'test:1', 'ALSA:hw:1,0', ''])('refuses %j', (text) => {
    expect(() => parseAudioText(text)).toThrow();
  });

  it('says its syntax from the registry', () => {
    expect(AUDIO_SYNTAX).toBe('auto, none, test or alsa:DEVICE');
  });
});
