/** MPEG-1 picture coding types that ffmpeg's mpeg1video encoder emits (B only with `-bf` > 0, which we never set). */
export type PictureType = 'I' | 'P' | 'B' | 'D';

/**
 * One coded MPEG-1 picture, as a decoder needs it: any sequence and GOP headers that precede it are part of
 * `data`, so a picture with `keyframe: true` is a place where a decoder can start.
 */
export interface Picture {
  /** The coded bytes, from the first header start code up to (not including) the next picture's. */
  readonly data: Buffer;
  readonly type: PictureType;
  /** Sequence header + I picture: a decoder can start here. */
  readonly keyframe: boolean;
  /** Source frame number of the frame this picture encodes. */
  readonly seq: number;
  /** Capture time (ms since the epoch) of the frame this picture encodes. */
  readonly capturedAt: number;
  readonly width: number;
  readonly height: number;
}

/**
 * A picture with its wire bytes made once for every viewer (DESIGN §1): `ts` is whole 188-byte MPEG-TS packets
 * (PAT + PMT first on keyframes) carrying the picture as one closed PES.
 */
export interface MuxedPicture extends Picture {
  readonly ts: Buffer;
}
