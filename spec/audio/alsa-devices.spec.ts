import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arecordCaptureDevices, plugName, procPcmCaptureDevices } from '../../src/audio/alsa-devices';
import { alsaProblemText, firstCaptureDevice } from '../../src/audio/alsa-probe';

// Listings in the shapes the kernel and alsa-utils print them: a Pi 4 with a USB microphone, a Pi 5 (HDMI
// devices with an empty name field), a laptop whose first card records too, a Pi with no capture device.
const fixture = (name: string) => join(__dirname, '../fixtures/audio', name);
const read = (name: string) => readFileSync(fixture(name), 'utf8');

describe('ALSA capture devices', () => {
  it('finds the capture devices of /proc/asound/pcm, skipping playback-only ones', () => {
    expect(procPcmCaptureDevices(read('proc-asound-pcm.txt'))).toEqual([{ card: 1, device: 0, name: 'USB Audio' }]);
    expect(procPcmCaptureDevices(read('proc-asound-pcm-pi5.txt'))).toEqual([{ card: 2, device: 0, name: 'USB Audio' }]);
    expect(procPcmCaptureDevices(read('proc-asound-pcm-laptop.txt'))).toEqual([
      { card: 0, device: 0, name: 'CONEXANT Analog' },
      { card: 1, device: 0, name: 'USB Audio' },
    ]);
    expect(procPcmCaptureDevices(read('proc-asound-pcm-no-capture.txt'))).toEqual([]);
    expect(procPcmCaptureDevices('')).toEqual([]);
  });

  it("reads arecord -l's cards and devices", () => {
    expect(arecordCaptureDevices(read('arecord-l.txt'))).toEqual([
      { card: 1, device: 0, name: 'USB PnP Sound Device' },
      { card: 3, device: 0, name: 'HD Pro Webcam C920' },
    ]);
    expect(arecordCaptureDevices('arecord: device_list:274: no soundcards found...')).toEqual([]);
  });

  it('opens a device through plughw (rate and channel conversion for a mono USB microphone)', () => {
    expect(plugName({ card: 2, device: 0 })).toBe('plughw:2,0');
  });

  it('auto takes the first capture device of the file, and none where there is no file (no sound card, a container)', async () => {
    await expect(firstCaptureDevice(fixture('proc-asound-pcm-pi5.txt'))).resolves.toEqual({ card: 2, device: 0, name: 'USB Audio' });
    await expect(firstCaptureDevice(fixture('proc-asound-pcm-no-capture.txt'))).resolves.toBeUndefined();
    await expect(firstCaptureDevice(fixture('no-such-file'))).resolves.toBeUndefined();
  });

  it("words ffmpeg's complaint about a device in one line", () => {
    const missing =
      'ALSA lib confmisc.c:165:(snd_config_get_card) Cannot get card index for 7\n' +
      '[alsa @ 0x562f86795940] cannot open audio device plughw:7,0 (No such file or directory)\n' +
      'plughw:7,0: Input/output error\n';
    expect(alsaProblemText(missing, 'failed', 'ffmpeg')).toBe('cannot be opened: No such file or directory');
    const busy = '[alsa @ 0x1] cannot open audio device hw:1,0 (Device or resource busy)\nhw:1,0: Input/output error\n';
    expect(alsaProblemText(busy, 'failed', 'ffmpeg')).toMatch(/^is busy: another program is recording from it/);
    expect(alsaProblemText('Unknown input format: alsa\n', 'failed', '/opt/ffmpeg')).toBe('this ffmpeg (/opt/ffmpeg) has no ALSA input');
  });
});
