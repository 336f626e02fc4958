/**
 * The one registry of sound sources: what `--audio` and `{ audio: { kind } }` may name and how each is written on
 * the command line. Every list of kinds and wording outside src/audio reads them from here.
 */

/** What the plugin's `audio` option names: where sound comes from. */
export interface AudioSpec {
  /** `auto`: the first ALSA capture device, else none; `none`: silent; `test`: the beep on whole seconds; `alsa`: `device`. */
  readonly kind: AudioKindId;
  /** The ALSA device (`plughw:1,0`, `default`, `hw:CARD=Device,DEV=0`): with kind `alsa` only. */
  readonly device?: string;
}

/** One kind of sound source. */
export interface AudioKindInfo {
  readonly id: string;
  /** For `--help`. */
  readonly help: string;
  /** Whether it takes `:DEVICE` on the command line (and `device` in options): required when true. */
  readonly device: boolean;
  /** Whether the server captures nothing with it. */
  readonly silent: boolean;
  /** Whether it is probed at start and turns into another kind (`auto`: `alsa` or `none`). */
  readonly probed: boolean;
}

/** Every kind, in the order `--help` lists them (`auto` first: the default). */
export const AUDIO_KINDS = [
  {
    id: 'auto',
    help: 'the first ALSA capture device (arecord -l), else none; never fails a start',
    device: false,
    silent: false,
    probed: true,
  },
  { id: 'none', help: 'no sound', device: false, silent: true, probed: false },
  {
    id: 'test',
    help: 'a 1 kHz beep for the first 100 ms of every whole second of the capture clock (the clock the test pattern shows), silence between',
    device: false,
    silent: false,
    probed: false,
  },
  { id: 'alsa', help: 'this ALSA capture device, e.g. alsa:plughw:1,0', device: true, silent: false, probed: false },
] as const satisfies readonly AudioKindInfo[];

export type AudioKindId = (typeof AUDIO_KINDS)[number]['id'];

export const AUDIO_KIND_IDS: readonly AudioKindId[] = AUDIO_KINDS.map((kind) => kind.id);

/** The kind a configuration without `audio` has. */
export const DEFAULT_AUDIO: AudioSpec = { kind: 'auto' };

/** `auto, none, test or alsa:DEVICE`: how `--audio` is written, for help and errors. */
export const AUDIO_SYNTAX = `${AUDIO_KINDS.slice(0, -1)
  .map((kind) => (kind.device ? `${kind.id}:DEVICE` : kind.id))
  .join(', ')} or ${AUDIO_KINDS.map((kind) => (kind.device ? `${kind.id}:DEVICE` : kind.id)).at(-1)!}`;

/** The registry entry of a kind (undefined for a name that is none). */
export function audioKind(id: string): AudioKindInfo | undefined {
  return (AUDIO_KINDS as readonly AudioKindInfo[]).find((kind) => kind.id === id);
}

/**
 * `--audio`'s text as a spec: `auto`, `none`, `test`, or `alsa:DEVICE` (the device may hold colons and commas:
 * `alsa:plughw:1,0`). Throws for anything else.
 * @example
 * parseAudioText('alsa:plughw:1,0'); // { kind: 'alsa', device: 'plughw:1,0' }
 */
export function parseAudioText(text: string): AudioSpec {
  const colon = text.indexOf(':');
  const id = colon < 0 ? text : text.slice(0, colon);
  const kind = audioKind(id);
  if (!kind) throw new Error(`unknown sound source ${id}`);
  if (!kind.device) {
    if (colon >= 0) throw new Error(`${id} takes no device`);
    return { kind: kind.id as AudioKindId };
  }
  const device = colon < 0 ? '' : text.slice(colon + 1);
  if (device.trim() === '') throw new Error(`${id} needs a device`);
  return { kind: kind.id as AudioKindId, device };
}

/** The spec as `--audio` writes it (`alsa:plughw:1,0`). */
export function audioText(spec: AudioSpec): string {
  return spec.device === undefined ? spec.kind : `${spec.kind}:${spec.device}`;
}
