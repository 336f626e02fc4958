import Joi from 'joi';
import { DEFAULTS } from '../defaults';
import { allowedText, defaultOf } from '../options/allowed-text';
import { publishAudioSchema } from '../options/record-publish-options';
import { durationHelp } from './duration-text';
import type { FlagSpec } from './flag-values';
import { convertedBy, duration, optionSchema, parseByteSize, splitPublishUrls } from './flag-values';

/** The flags of recording to disk and publishing to media servers. */
export const RECORD_PUBLISH_FLAGS: readonly FlagSpec[] = [
  {
    key: 'record',
    flag: '--record <dir>',
    shown: 'off',
    target: 'plugin.record.dir',
    help: 'record the stream as it is (no second encode) into this directory, in segments cut at keyframes: MPEG-TS for MPEG-1, fragmented MP4 for H.264; keeps the camera on; listed at /recordings',
    schema: Joi.string().min(1),
    allowed: 'a directory path',
  },
  {
    key: 'recordSegment',
    flag: '--record-segment <seconds>',
    target: 'plugin.record.segmentMs',
    help: `length of a recording segment: each is cut at the first keyframe after this long (${durationHelp('s')})`,
    ...duration('s', optionSchema('plugin.record.segmentMs')),
  },
  {
    key: 'recordKeep',
    flag: '--record-keep <duration>',
    target: 'plugin.record.keepMs',
    help: 'delete recordings older than this, oldest first: seconds, or with a unit: 30m, 12h, 7d, 2w',
    ...duration('s', optionSchema('plugin.record.keepMs')),
    shown: 'forever',
    allowed: 'a duration such as 3600, 90m, 12h, 7d or 2w',
  },
  {
    key: 'recordMaxSize',
    flag: '--record-max-size <bytes>',
    shown: 'no limit',
    target: 'plugin.record.maxBytes',
    help: 'delete the oldest recordings while all of them take more than this: bytes, or with a unit: 500M, 20G (powers of 1024)',
    schema: convertedBy(parseByteSize),
    allowed: 'a size such as 1073741824, 500M or 20G, at least 1M',
  },
  {
    key: 'recordSync',
    flag: '--record-sync <seconds>',
    target: 'plugin.record.syncMs',
    help: `fsync the segment being written this often, so a power cut loses at most that much; 0: only when a segment closes (${durationHelp('s')})`,
    ...duration('s', optionSchema('plugin.record.syncMs')),
  },
  {
    key: 'recordMinFree',
    flag: '--record-min-free <size|percent>',
    shown: String(defaultOf(optionSchema('plugin.record.minFree'))),
    target: 'plugin.record.minFree',
    help: 'delete the oldest recordings while the disk has less free than this, before it fills: a percentage of the disk (5%) or a size (2G); 0: off',
    schema: Joi.alternatives(
      Joi.string()
        .pattern(/^\s*\d+(\.\d+)?\s*%\s*$/)
        .custom((v: string) => v.replace(/\s/g, '')),
      convertedBy(parseByteSize),
    ),
    allowed: 'a percentage of the disk such as 5%, or a size such as 2G',
  },
  {
    // No target: put in place by the parser, so a refused URL is reported without its secrets (see fromPluginError).
    key: 'publish',
    flag: '--publish <url>',
    shown: 'off',
    repeatable: true,
    help:
      'also publish the stream to a media server (repeat it, or a comma list): rtmp:// or rtmps:// (FLV: H.264 as it is, plus silent AAC), ' +
      'srt:// (MPEG-TS; needs an ffmpeg with SRT), rtsp:// (push over TCP); all but srt:// need --codec h264; keeps the camera on, ' +
      `GOP at most ${DEFAULTS.publishMaxGopSeconds} s; logs show the URL without its key (prefer the variable: ps shows flags)`,
    schema: Joi.string().custom((v: string) => splitPublishUrls(v)),
    allowed: 'URLs such as rtmp://host/app/key (comma-separated)',
    secret: () => 'is not a list of URLs',
  },
  {
    key: 'publishAudio',
    flag: '--publish-audio <audio>',
    shown: String(defaultOf(publishAudioSchema)),
    target: 'plugin.publishAudio',
    help: 'the audio track of --publish targets: silent (silent AAC: YouTube and others refuse video without audio) or none',
    schema: Joi.string(),
    allowed: allowedText(publishAudioSchema),
  },
];
