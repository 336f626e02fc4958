/**
 * ALSA capture devices, as `arecord -l` and `/proc/asound/pcm` list them (pure parsers; the file is read by
 * `findCaptureDevice` in alsa-probe.ts). `auto` takes the first one, as `plughw:CARD,DEVICE`: `plughw` converts
 * rate and channel count, so a mono USB microphone opens at 48 kHz mono (`hw:` refuses a channel count the card
 * does not have: "cannot set channel count").
 */

/** One capture device. */
export interface CaptureDevice {
  readonly card: number;
  readonly device: number;
  /** The card's or device's name, for the startup line. */
  readonly name: string;
}

/**
 * The capture devices in `/proc/asound/pcm`, in order. Its lines read `CC-DD: id : name : playback N : capture N`
 * (a device with only one direction lists only that one).
 * @example
 * procPcmCaptureDevices('01-00: USB Audio : USB Audio : capture 1\n'); // [{ card: 1, device: 0, name: 'USB Audio' }]
 */
export function procPcmCaptureDevices(text: string): CaptureDevice[] {
  const found: CaptureDevice[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+)-(\d+):\s*(.*)$/.exec(line.trim());
    if (!match) continue;
    const fields = match[3]!.split(' : ').map((field) => field.trim());
    if (!fields.some((field) => /^capture \d+$/.test(field))) continue;
    found.push({ card: Number(match[1]), device: Number(match[2]), name: fields[1] || fields[0] || 'ALSA device' });
  }
  return found;
}

/**
 * The capture devices in `arecord -l`'s output: `card 1: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]`.
 * @example
 * arecordCaptureDevices('card 1: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]')[0]?.card; // 1
 */
export function arecordCaptureDevices(text: string): CaptureDevice[] {
  const found: CaptureDevice[] = [];
  for (const line of text.split('\n')) {
    const match = /^card (\d+): [^[]*\[([^\]]*)\], device (\d+):/.exec(line.trim());
    if (match) found.push({ card: Number(match[1]), device: Number(match[3]), name: match[2]!.trim() });
  }
  return found;
}

/** The ALSA name ffmpeg opens a device by: `plughw:1,0`. */
export function plugName(device: Pick<CaptureDevice, 'card' | 'device'>): string {
  return `plughw:${device.card},${device.device}`;
}
