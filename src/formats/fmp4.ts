import { defer, map, type OperatorFunction } from 'rxjs';
import type { H264Picture } from '../codecs/h264/h264-picture';
import { NAL_TYPE, nalType, nalUnits } from '../codecs/h264/nal';
import type { MuxedPicture, Picture } from '../picture';
import { FMP4_TIMESCALE, fragment, initSegment } from './mp4-boxes';
import type { WireFormat } from './wire-format';

/** Ticks per ms of the media timescale. */
const TICKS_PER_MS = FMP4_TIMESCALE / 1000;
/** The first sample's duration, before a second picture tells the real one: 1/30 s. */
const FIRST_DURATION = FMP4_TIMESCALE / 30;

/** NAL units that `avcC` carries (SPS, PPS) or MP4 does without (access unit delimiters): not in samples. */
const OUT_OF_BAND: ReadonlySet<number> = new Set([NAL_TYPE.sps, NAL_TYPE.pps, NAL_TYPE.aud]);

/**
 * The fMP4 muxer of one stream (what {@link fmp4}'s `mux()` makes): per access unit one `moof` + `mdat`, and in
 * front of each key unit the init segment of its configuration (made once per distinct SPS/PPS and kept), so a
 * viewer can start at any key unit and a changed configuration reaches everyone at once. Decode times come from
 * the capture clock (ms since the muxer's first picture, in 90 kHz ticks, strictly increasing); a sample lasts
 * as long as the gap before it, so nothing waits for the next picture.
 */
export class Fmp4Muxer {
  private start: number | undefined;
  private lastTime = -1;
  private lastDuration = FIRST_DURATION;
  private sequence = 0;
  private init: { key: Buffer; segment: Buffer } | undefined;

  /** The bytes for one access unit (Annex B): init segment + fragment for a key unit, else the fragment alone. */
  mux(picture: H264Picture): Buffer {
    const nals = nalUnits(picture.data);
    const samples = nals.filter((nal) => !OUT_OF_BAND.has(nalType(nal)));
    this.start ??= picture.capturedAt;
    let time = Math.round((picture.capturedAt - this.start) * TICKS_PER_MS);
    if (time <= this.lastTime) time = this.lastTime + 1;
    if (this.lastTime >= 0) this.lastDuration = Math.max(1, time - this.lastTime);
    this.lastTime = time;
    const media = fragment(++this.sequence, time, this.lastDuration, picture.keyframe, samples);
    if (!picture.keyframe) return media;
    return Buffer.concat([this.initFor(nals, picture), media]);
  }

  private initFor(nals: readonly Buffer[], picture: H264Picture): Buffer {
    const sps = nals.find((nal) => nalType(nal) === NAL_TYPE.sps);
    const pps = nals.find((nal) => nalType(nal) === NAL_TYPE.pps);
    if (!sps || !pps) throw new Error(`key unit ${picture.seq} carries no SPS and PPS: an fMP4 init segment needs both`);
    const key = Buffer.concat([sps, pps, Buffer.from([picture.width >> 8, picture.width & 0xff, picture.height >> 8, picture.height & 0xff])]);
    if (!this.init?.key.equals(key)) this.init = { key, segment: initSegment(Buffer.from(sps), Buffer.from(pps), picture.width, picture.height) };
    return this.init.segment;
  }
}

/**
 * Fragmented MP4 for Media Source Extensions, at `/fmp4`: one binary message per access unit, a `moof`+`mdat`,
 * with the init segment (`ftyp`+`moov`, `mvhd` duration 0 and no `mehd`: Chrome's one-frame live renderer) in
 * front of every key unit. The page appends each message to its `SourceBuffer` as it comes. Works on plain-http
 * pages, where WebCodecs is not available.
 */
export const fmp4: WireFormat = {
  id: 'fmp4',
  label: 'fragmented MP4 (MSE)',
  path: '/fmp4',
  codecs: ['h264'],
  mux: (): OperatorFunction<Picture, MuxedPicture> =>
    (pictures$) =>
      defer(() => {
        const muxer = new Fmp4Muxer();
        return pictures$.pipe(map((picture): MuxedPicture => ({ ...picture, wire: muxer.mux(picture as H264Picture), format: 'fmp4' })));
      }),
};
