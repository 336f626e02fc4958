// The public library API: re-exports only. docs/architecture.md maps where each part lives.
export type { Frame, FrameMeta } from './frame';
export { yuv420Size, assertFrameSize, FramePool } from './frame';
export type { Picture, MuxedPicture } from './picture';
export { BARCODE, drawBarcode, readBarcode, barcodeAge, type BarcodeValue } from './barcode';
export { DEFAULTS, LIMITS, upgradeBurst } from './defaults';

export { testPattern, TestPatternRenderer, type TestPatternOptions } from './sources/test-pattern';
export { rpicam, rpicamStride, type RpicamOptions } from './sources/rpicam';
export { raspivid, type RaspividOptions } from './sources/raspivid';
export { v4l2, type V4l2Options } from './sources/v4l2';
export { fileSource, type FileSourceOptions } from './sources/file';
export { detectSource, type DetectSourceOptions, type DetectedSource, type SourceKind } from './sources/detect';
export { openSource, sourceText, type SourceSpec, type OpenedSource } from './sources/open-source';
export { checkSource, checkFfmpeg, SourceCheckError } from './sources/check-source';
export { rawFrames, type RawFramesOptions } from './sources/raw-frames';
export { rpicamH264, raspividH264, type RpicamH264Options, type RaspividH264Options } from './sources/camera-h264';
export type { SourceOptions } from './sources/source-options';
export { AUDIO_KINDS, parseAudioText, type AudioSpec } from './audio/audio-kinds';
export { PCM, type PcmChunk } from './audio/pcm';
export { testTone, TEST_TONE, type TestToneOptions } from './audio/test-tone';
export { ffmpegPcm, alsaInputArgs } from './audio/capture';
export { stampPcm } from './audio/stamp-pcm';
export { mp2 } from './audio/mp2';
export { aac } from './audio/aac';
export type { AudioCodec, AudioPacket } from './audio/audio-codec';
export { encodeAudio } from './audio/encode-audio';
export { createAudioHub, type AudioHub, type AudioHubOptions, type AudioStats } from './audio/audio-hub';
export { AudioCheckError } from './audio/audio-check-error';
export { gatherBetween, type Gathered } from './operators/gather-between';
export { fromChildProcess, ChildProcessError, type ChildProcessOptions, type SpawnFn } from './process/child-process';
export { resolveFfmpeg, probeFfmpeg } from './process/ffmpeg-path';

export { CODECS, codecById } from './codecs';
export {
  createEncoderCounters,
  type Codec,
  type EncoderSettings,
  type EncodeOptions,
  type EncoderCounters,
  type PipeInput,
} from './codecs/codec';
export { pipeInputArgs, pipeBytes, type PipeInputUse } from './codecs/pipe-input';
export { multipartParts } from './codecs/multipart-parts';
export { mpeg1 } from './codecs/mpeg1/mpeg1-codec';
export type { Mpeg1Picture, PictureType } from './codecs/mpeg1/mpeg1-picture';
export { encodeMpeg1 } from './codecs/mpeg1/encode-mpeg1';
export { encoderArgs } from './codecs/mpeg1/encoder-args';
export { splitPictures } from './codecs/mpeg1/split-pictures';
export { findStartCode, describePicture, START_CODE } from './codecs/mpeg1/start-codes';
export { h264 } from './codecs/h264/h264-codec';
export type { H264Picture } from './codecs/h264/h264-picture';
export { encodeH264 } from './codecs/h264/encode-h264';
export { h264EncoderArgs } from './codecs/h264/encoder-args';
export { h264Level } from './codecs/h264/levels';
export { ffmpegEncoder, type FfmpegEncoderSpec } from './codecs/ffmpeg-encoder';
export { nalUnits, nalType, NAL_TYPE } from './codecs/h264/nal';
export { parseSps, codecString, declaresZeroReorder, withZeroReorder, type Sps } from './codecs/h264/sps';
export { describeAccessUnit, type AccessUnitInfo } from './codecs/h264/access-unit';
export { accessUnits, type AccessUnit, type AccessUnitsOptions } from './codecs/h264/assemble';
export { ensureZeroReorder } from './codecs/h264/zero-reorder';
export { transcodeToMpeg1 } from './codecs/transcode-mpeg1';

export { FORMATS, formatById, formatsFor } from './formats';
export type { WireFormat } from './formats/wire-format';
export { mpegts, toMpegTs, MpegTsMuxer, type MpegTsOptions } from './formats/mpegts';
export { jsmp, toJsmp, jsmpHeader } from './formats/jsmp';
export { h264Units, unitMessage } from './formats/h264-units';
export { fmp4, Fmp4Muxer } from './formats/fmp4';
export { protocol, type UnitHeader } from './protocol';

export { ChunkBuffer, cutChunks, type ChunkCutter } from './operators/chunk-buffer';
export { fromKeyframe } from './operators/from-keyframe';
export { dropWhileSlow, type DropReason, type DropWhileSlowOptions } from './operators/drop-while-slow';
export { gopCache, replayGop, type Gop } from './operators/gop-cache';
export { deliver, Delivery, DeliverySubscriber, type DeliverOptions, type DeliveryOutput } from './operators/deliver';
export { retryWithBackoff, type RetryWithBackoffOptions, type RetryNotice } from './operators/retry-with-backoff';
export { LatestWins, feedStep, awaitingKeyAfter, type FeedStep } from './operators/latest-wins';

export { createHub, type Hub, type HubOptions, type HubStats, type HubRestart } from './hub';
export { withMpeg1Transcode, type TranscodingHub, type Mpeg1TranscodeOptions } from './transcoded-hub';

export { Recorder, type RecorderOptions, type RecorderStats, type RecordingEntry, type RecordableHub } from './recording/recorder';
export { nodeRecorderFs, type RecorderFs, type SegmentFile } from './recording/recorder-fs';
export { segmentName, parseSegmentName, type SegmentExtension } from './recording/segment-name';
export { segmentsToDelete, type SegmentInfo, type RetentionPolicy } from './recording/retention';
export { Snapshotter, SnapshotError, type SnapshotterOptions, type SnapshotStats } from './server/snapshot';
export { Publisher, type PublisherOptions, type PublisherStats, type PublishState } from './publish/publisher';
export {
  publishTarget,
  redactUrl,
  PublishTargetError,
  type PublishTarget,
  type PublishTargetSpec,
  type PublishAudio,
  type PublishProtocol,
} from './publish/publish-target';
export { supervise, backoffDelay, type BackoffOptions, type Supervised } from './publish/supervise';

export { validatePluginOptions, type PistreamPluginOptions, type LegacyListenerOptions } from './options/plugin-options';
export { PluginOptionsError } from './options/plugin-options-error';
export type { RecordOptions } from './options/record-publish-options';
export type { PistreamConfig, LogLevel } from './options/server-config';
export { pistreamPlugin, type PistreamPluginApi } from './server/plugin';
// The server's parts, each a hapi plugin: pistreamPlugin registers them all; a host may register pistreamCore and
// the parts it wants (docs/library.md).
export { pistreamCore, type PistreamCore, type SourceInfo, type KeepOnReason } from './server/plugins/core-plugin';
export { pistreamViewers, type PistreamViewersApi, type ViewersOptions } from './server/plugins/viewers-plugin';
export { pistreamPages } from './server/plugins/pages-plugin';
export { pistreamMonitoring, type MonitoringOptions } from './server/plugins/monitoring-plugin';
export { pistreamSnapshots, type PistreamSnapshotsApi, type SnapshotsOptions } from './server/plugins/snapshots-plugin';
export { pistreamRecordings, type PistreamRecordingsApi, type RecordingsOptions } from './server/plugins/recordings-plugin';
export { pistreamPublishing, type PistreamPublishingApi, type PublishingOptions } from './server/plugins/publishing-plugin';
export { StatusReports } from './server/plugins/status-reports';
export { startServer, type RunningServer, type StartServerOptions } from './server/start-server';
export { parseConfig, parseCommandLine, ConfigError } from './config/command-line';
