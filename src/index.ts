// The public library API: re-exports only (DESIGN §9).
export type { Frame } from './frame';
export { yuv420Size, assertFrameSize } from './frame';
export type { Picture, PictureType, MuxedPicture } from './picture';
export { BARCODE, drawBarcode, readBarcode, barcodeAge, type BarcodeValue } from './barcode';

export { testPattern, TestPatternRenderer, type TestPatternOptions } from './sources/test-pattern';
export { rpicam, rpicamStride, type RpicamOptions } from './sources/rpicam';
export { raspivid, type RaspividOptions } from './sources/raspivid';
export { v4l2, type V4l2Options } from './sources/v4l2';
export { fileSource, type FileSourceOptions } from './sources/file';
export { detectSource, type DetectSourceOptions, type DetectedSource, type SourceKind } from './sources/detect';
export { openSource, type SourceSpec, type OpenedSource } from './sources/open-source';
export { rawFrames, type RawFramesOptions } from './sources/raw-frames';
export type { SourceOptions } from './sources/source-options';
export { fromChildProcess, ChildProcessError, type ChildProcessOptions, type SpawnFn } from './sources/child-process';

export { encodeMpeg1 } from './encoder/encode-mpeg1';
export { encoderArgs, type EncoderOptions, type EncoderCounters } from './encoder/encoder-options';
export { resolveFfmpeg, probeFfmpeg } from './encoder/ffmpeg-path';
export { multipartParts } from './encoder/multipart-parts';

export { splitPictures } from './mpeg1/split-pictures';
export { findStartCode, describePicture, START_CODE } from './mpeg1/start-codes';

export { toMpegTs, MpegTsMuxer, type MpegTsOptions } from './transport/mpegts';
export { toJsmp, jsmpHeader } from './transport/jsmp';

export { fromKeyframe } from './operators/from-keyframe';
export { dropWhileSlow, type DropReason, type DropWhileSlowOptions } from './operators/drop-while-slow';
export { gopCache, replayGop, type Gop } from './operators/gop-cache';

export { createHub, type Hub, type HubOptions, type HubStats } from './hub';

export { pistreamPlugin, type PistreamPluginOptions, type PistreamPluginApi } from './server/plugin';
export { startServer, type RunningServer, type StartServerOptions } from './server/start-server';
export { parseConfig, ConfigError, type PistreamConfig } from './config';
