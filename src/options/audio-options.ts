import Joi from 'joi';
import { isObservable, type Observable } from 'rxjs';
import { AUDIO_KIND_IDS, AUDIO_KINDS, DEFAULT_AUDIO, type AudioSpec } from '../audio/audio-kinds';
import type { PcmChunk } from '../audio/pcm';
import { DEFAULTS } from '../defaults';
import { limited } from './allowed-text';

/** The plugin's sound options. */
export interface AudioOptions {
  /**
   * Where sound comes from: `{ kind: 'auto' }` (the default: the first ALSA capture device, else none), `'none'`,
   * `'test'` (a beep on every whole second of the capture clock), `{ kind: 'alsa', device: 'plughw:1,0' }`, or an
   * `Observable<PcmChunk>` of your own (48 kHz mono s16le, stamped on the frames' clock).
   */
  readonly audio?: AudioSpec | Observable<PcmChunk>;
  /** Sound's bitrate in kbit/s, for every codec (MP2 takes the nearest of its list). Default 64. */
  readonly audioBitrate?: number;
}

const pcmObservable = Joi.any().custom((value: unknown) => {
  if (!isObservable(value)) throw new Error('must be an Observable');
  return value;
});

/** `audio`: a spec (checked against the kinds' registry) or an Observable of PCM chunks. */
export const audioSchema = Joi.alternatives()
  .conditional(pcmObservable, {
    then: pcmObservable,
    otherwise: Joi.object({
      kind: Joi.string()
        .valid(...AUDIO_KIND_IDS)
        .required(),
      device: Joi.string().min(1),
    })
      // The kinds that take a device must have one, the others none.
      .custom((spec: AudioSpec) => {
        const kind = AUDIO_KINDS.find((k) => k.id === spec.kind)!;
        if (kind.device !== (spec.device !== undefined)) throw new Error(kind.device ? 'needs a device' : 'takes no device');
        return spec;
      })
      .messages({ '*': `{{#label}} must be ${AUDIO_KIND_IDS.join(', ')} (alsa with a device), or an Observable of PCM chunks` }),
  })
  .default(DEFAULT_AUDIO);

/** `audioBitrate` (`--audio-bitrate`), kbit/s. */
export const audioBitrateSchema = limited(Joi.number().integer().min(32).max(192).unit('kbit/s')).default(DEFAULTS.audioBitrateKbps);
