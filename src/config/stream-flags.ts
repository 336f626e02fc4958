import Joi from 'joi';
import { CODECS } from '../codecs';
import { mpeg1 } from '../codecs/mpeg1/mpeg1-codec';
import { DEFAULTS } from '../defaults';
import { DEFAULT_SOURCE_KIND, SOURCE_SYNTAX } from '../sources/source-kinds';
import { numberLimits } from '../options/allowed-text';
import { ROTATION_RULE } from '../options/plugin-options';
import { AUDIO_KINDS, AUDIO_SYNTAX, audioText, DEFAULT_AUDIO, parseAudioText } from '../audio/audio-kinds';
import type { FlagSpec } from './flag-values';
import { boolean, BOOLEAN, encoderAllowed, fpsText, number, parseSource, pluginNumber, sizeRange } from './flag-values';
import { autoThreads } from './auto-threads';

/** The flags of what is streamed: the source, the codec and its encoder settings, the picture's orientation. */
export const STREAM_FLAGS: readonly FlagSpec[] = [
  {
    key: 'source',
    flag: '--source <kind>',
    shown: DEFAULT_SOURCE_KIND,
    target: 'plugin.source',
    help: `where frames come from: ${SOURCE_SYNTAX}; auto tries rpicam, libcamera, raspivid, then /dev/video0, else the test pattern`,
    schema: Joi.string().custom((v: string) => parseSource(v)),
    allowed: SOURCE_SYNTAX,
  },
  {
    key: 'codec',
    flag: '--codec <codec>',
    shown: mpeg1.id,
    target: 'plugin.codec',
    help:
      `video codec: ${CODECS.map((c) => `${c.id} (${c.label}, default bitrate ${c.defaultBitrate} kbit/s, GOP ${c.defaultGop(DEFAULTS.fps)} at ${DEFAULTS.fps} fps)`).join(', ')}; ` +
      "h264 comes from the Pi camera's own encoder (no ffmpeg), or libx264 for the test pattern, V4L2 and files; the page plays it " +
      'through WebCodecs on https or localhost, else through MSE, and browsers with neither get an MPEG-1 transcode',
    schema: Joi.string(),
    allowed: CODECS.map((c) => c.id).join(' or '),
  },
  {
    key: 'width',
    flag: '--width <px>',
    shown: String(DEFAULTS.width),
    target: 'plugin.encoder.width',
    help: `frame width, ${sizeRange} (below 512 the test pattern has no barcode, so the page shows no latency figure)`,
    ...number(encoderAllowed('width')),
  },
  {
    key: 'height',
    flag: '--height <px>',
    shown: String(DEFAULTS.height),
    target: 'plugin.encoder.height',
    help: `frame height, ${sizeRange}`,
    ...number(encoderAllowed('height')),
  },
  {
    key: 'fps',
    flag: '--fps <rate>',
    shown: String(DEFAULTS.fps),
    target: 'plugin.encoder.fps',
    help: `frames per second (24, 29.97 or 30000/1001): ${CODECS.map((c) => `${c.label} ${c.settingsHelp.fps}`).join('; ')}`,
    schema: fpsText,
    allowed: 'a number of frames per second, e.g. 24, 29.97 or 30000/1001',
  },
  {
    key: 'allowNonstandardFps',
    flag: '--allow-nonstandard-fps',
    shown: 'off',
    target: 'plugin.encoder.allowNonstandardFps',
    help:
      'also allow 5, 10, 12 and 15 fps, written with the unofficial MPEG-1 rate codes that ffmpeg uses ' +
      'under -strict unofficial; JSMpeg ignores the code while streaming, other players may not',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'bitrate',
    flag: '--bitrate <kbit/s>',
    shown: CODECS.map((c) => `${c.defaultBitrate} (${c.label})`).join(', '),
    target: 'plugin.encoder.bitrate',
    help: 'target bitrate in kbit/s (not with --quality)',
    ...number(encoderAllowed('bitrate')),
  },
  {
    key: 'quality',
    flag: '--quality <q>',
    shown: 'off',
    target: 'plugin.encoder.quality',
    help: `fixed quality instead of a bitrate (not with --bitrate), lower is better and bigger: ${CODECS.map((c) => `${c.label} ${c.settingsHelp.quality}`).join(', ')}`,
    ...number(
      `a whole number (${CODECS.map((c) => {
        const { min, max } = numberLimits(c.settings.extract('quality'));
        return `${c.label}: ${min} to ${max}`;
      }).join('; ')})`,
    ),
  },
  {
    key: 'gop',
    flag: '--gop <frames>',
    shown: 'fps, rounded (one keyframe a second)',
    target: 'plugin.encoder.gop',
    help: 'pictures from one keyframe to the next; new viewers start at once from the cached GOP, so longer costs only recovery time after loss',
    ...number(encoderAllowed('gop')),
  },
  {
    key: 'threads',
    flag: '--threads <n|auto>',
    shown: `auto (${autoThreads()} here)`,
    target: 'plugin.encoder.threads',
    help: 'encoder threads; mpeg1video threads by slices, so more threads encode each picture sooner and add no delay; auto leaves one core for the camera and Node, at most 4',
    // A pattern, not valid('auto'): joi skips custom() for a value that valid() allows, which left 'auto' as text.
    schema: Joi.alternatives(
      Joi.number(),
      Joi.string()
        .pattern(/^auto$/)
        .custom(() => autoThreads()),
    ),
    allowed: `auto or ${encoderAllowed('threads')}`,
  },
  {
    key: 'hflip',
    flag: '--hflip',
    shown: 'off',
    target: 'plugin.source.hflip',
    help: 'mirror left–right',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'vflip',
    flag: '--vflip',
    shown: 'off',
    target: 'plugin.source.vflip',
    help: 'mirror top–bottom',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'rotation',
    flag: '--rotation <0|180>',
    shown: '0',
    target: 'plugin.source.rotation',
    help: "turn the picture; the camera can only flip, so 90 and 270 belong in the page's CSS",
    ...number(ROTATION_RULE),
  },
  {
    key: 'audio',
    flag: '--audio <source>',
    shown: audioText(DEFAULT_AUDIO),
    target: 'plugin.audio',
    help:
      `sound: ${AUDIO_KINDS.map((kind) => `${kind.device ? `${kind.id}:DEVICE` : kind.id} (${kind.help})`).join('; ')}; ` +
      'a named device that is missing or busy stops the start',
    schema: Joi.string().custom((text: string) => parseAudioText(text)),
    allowed: AUDIO_SYNTAX,
  },
  {
    key: 'audioBitrate',
    flag: '--audio-bitrate <kbit/s>',
    help: 'sound bitrate for every audio codec (MP2 takes the nearest it has)',
    ...pluginNumber('plugin.audioBitrate'),
  },
  // The listener's flags: no plugin judges them, so their schemas (listener-options.ts) check the values here.
];
