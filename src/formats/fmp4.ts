import { defer, map, type OperatorFunction } from 'rxjs';
import { h264 } from '../codecs/h264/h264-codec';
import type { H264Picture } from '../codecs/h264/h264-picture';
import { NAL_TYPE, nalType, nalUnits } from '../codecs/h264/nal';
import type { MuxedPicture, Picture } from '../picture';
import { aac } from '../audio/aac';
import type { AudioPacket } from '../audio/audio-codec';
import { PCM } from '../audio/pcm';
import { muxBeside } from './sound-beside';
import { FMP4_TIMESCALE, fragment, initSegment, type SoundTrack } from './mp4-boxes';
import { soundFragment } from './mp4-sound';
import type { StreamFacts, WireFormat } from './wire-format';

/** Ticks per ms of the media timescale. */
const TICKS_PER_MS = FMP4_TIMESCALE / 1000;
/** The nominal rate when none is given. */
const DEFAULT_FPS = 30;
/**
 * A sample lasts at least this many nominal frame intervals. Chromium's MSE takes a decode time more than twice
 * the previous sample's duration after it for a discontinuity and drops everything up to the next key unit; a
 * camera that misses a frame or two (a busy Pi) makes such gaps. 1.5 intervals tolerate two missed frames; the
 * small overlap this gives consecutive samples is harmless (each is shown until the next one's time).
 */
const MIN_DURATION_INTERVALS = 1.5;

/** NAL units that `avcC` carries (SPS, PPS) or MP4 does without (access unit delimiters): not in samples. */
const OUT_OF_BAND: ReadonlySet<number> = new Set([NAL_TYPE.sps, NAL_TYPE.pps, NAL_TYPE.aud]);

/**
 * The fMP4 muxer of one stream (what {@link fmp4}'s `mux()` makes): per access unit one `moof` + `mdat`, and in
 * front of each key unit the init segment of its configuration (made once per distinct SPS/PPS and kept), so a
 * viewer can start at any key unit and a changed configuration reaches everyone at once. Decode times come from
 * the capture clock (ms since the muxer's first picture, in 90 kHz ticks, strictly increasing); a sample lasts
 * as long as the gap before it (at least 1.5 nominal frame intervals), so nothing waits for the next picture.
 */
export class Fmp4Muxer {
  private start: number | undefined;
  /** The sound track's next decode time (in its sample rate's ticks), once it has had a frame. */
  private soundNext: number | undefined;
  private lastTime = -1;
  private readonly minDuration: number;
  private lastDuration: number;

  /**
   * @param fps the stream's nominal frame rate (durations are never shorter than 1.5 of its intervals).
   * @param sound a sound track (AAC-LC, track 2) beside the video: the init segment declares it, and each `mux`
   * call writes the frames given with a picture as a fragment of their own before the picture's.
   */
  constructor(
    fps = DEFAULT_FPS,
    private readonly sound?: SoundTrack & { readonly samplesPerFrame: number },
  ) {
    this.minDuration = Math.round((MIN_DURATION_INTERVALS * FMP4_TIMESCALE) / fps);
    this.lastDuration = this.minDuration;
  }
  private sequence = 0;
  private init: { key: Buffer; segment: Buffer } | undefined;

  /**
   * The bytes for one access unit (Annex B): init segment + fragment for a key unit, else the fragment alone; with
   * a sound track, the `audio` frames (ADTS, captured since the previous picture) as a fragment before the picture's.
   */
  mux(picture: H264Picture, audio: readonly AudioPacket[] = []): Buffer {
    const nals = nalUnits(picture.data);
    const samples = nals.filter((nal) => !OUT_OF_BAND.has(nalType(nal)));
    this.start ??= picture.capturedAt;
    const sound = this.sound && audio.length > 0 ? this.soundFragment(audio) : undefined;
    let time = Math.round((picture.capturedAt - this.start) * TICKS_PER_MS);
    if (time <= this.lastTime) time = this.lastTime + 1;
    if (this.lastTime >= 0) this.lastDuration = Math.max(this.minDuration, time - this.lastTime);
    this.lastTime = time;
    const media = fragment(++this.sequence, time, this.lastDuration, picture.keyframe, samples);
    const parts = [...(picture.keyframe ? [this.initFor(nals, picture)] : []), ...(sound ? [sound] : []), media];
    return parts.length === 1 ? media : Buffer.concat(parts);
  }

  /**
   * The sound frames as one fragment, decode time from the first one's capture time on the video's clock (ms since
   * the first picture, in sample-rate ticks), unless it is within half a frame of where the last fragment ended:
   * then right there, so rounding leaves no gap and no overlap. Frames from before the first picture are dropped.
   */
  private soundFragment(audio: readonly AudioPacket[]): Buffer | undefined {
    const { sampleRate, samplesPerFrame } = this.sound!;
    const frames = audio.filter((frame) => frame.capturedAt >= this.start!);
    if (frames.length === 0) return undefined;
    let time = Math.round(((frames[0]!.capturedAt - this.start!) * sampleRate) / 1000);
    if (this.soundNext !== undefined && Math.abs(time - this.soundNext) < samplesPerFrame / 2) time = this.soundNext;
    if (this.soundNext !== undefined && time < this.soundNext) time = this.soundNext;
    this.soundNext = time + frames.length * samplesPerFrame;
    return soundFragment(++this.sequence, time, samplesPerFrame, frames);
  }

  private initFor(nals: readonly Buffer[], picture: H264Picture): Buffer {
    const sps = nals.find((nal) => nalType(nal) === NAL_TYPE.sps);
    const pps = nals.find((nal) => nalType(nal) === NAL_TYPE.pps);
    if (!sps || !pps) throw new Error(`key unit ${picture.seq} carries no SPS and PPS: an fMP4 init segment needs both`);
    const key = Buffer.concat([
      sps,
      pps,
      Buffer.from([picture.width >> 8, picture.width & 0xff, picture.height >> 8, picture.height & 0xff]),
    ]);
    if (!this.init?.key.equals(key))
      this.init = { key, segment: initSegment(Buffer.from(sps), Buffer.from(pps), picture.width, picture.height, this.sound) };
    return this.init.segment;
  }
}

/**
 * Fragmented MP4 for Media Source Extensions, at `/fmp4`: one binary message per access unit, a `moof`+`mdat`,
 * with the init segment (`ftyp`+`moov`, `mvhd` duration 0 and no `mehd`: Chrome's one-frame live renderer) in
 * front of every key unit. The page appends each message to its `SourceBuffer` as it comes. Works on plain-http
 * pages, where WebCodecs is not available. Video only: see {@link fmp4Sound} for the same with the server's sound.
 */
export const fmp4: WireFormat = {
  id: 'fmp4',
  label: 'fragmented MP4 (MSE)',
  path: '/fmp4',
  codecs: [h264.id],
  mux:
    (stream?: StreamFacts): OperatorFunction<Picture, MuxedPicture> =>
    (pictures$) =>
      defer(() => {
        const muxer = new Fmp4Muxer(stream?.fps);
        return pictures$.pipe(map((picture): MuxedPicture => ({ ...picture, wire: muxer.mux(picture as H264Picture), format: 'fmp4' })));
      }),
};

/**
 * `/fmp4` with the server's sound, at `/fmp4-sound`: the init segment declares AAC-LC (48 kHz mono, track 2) beside
 * the H.264 track, and each message is the picture's fragment preceded by a fragment of the AAC frames captured
 * since the previous picture (a picture never waits for sound). A variant rather than `/fmp4` itself, because a
 * `<video>` fed one muxed SourceBuffer plays only as far as both tracks are buffered: the sound's encoder and its
 * wait for the next picture would hold every MSE viewer's picture back by tens of ms, wanted or not, and a
 * player that declares only the video codec would fail on the second track. A page asks for it when its viewer
 * turns the sound on. Without sound on the server it carries the video alone (`GET /streams` then names no audio).
 */
export const fmp4Sound: WireFormat = {
  id: 'fmp4-sound',
  label: 'fragmented MP4 with sound (MSE)',
  path: '/fmp4-sound',
  codecs: [h264.id],
  audio: aac,
  mux:
    (stream?: StreamFacts): OperatorFunction<Picture, MuxedPicture> =>
    (pictures$) =>
      defer(() => {
        const sound = { sampleRate: PCM.sampleRate, channels: PCM.channels, samplesPerFrame: aac.samplesPerFrame };
        const muxer = new Fmp4Muxer(stream?.fps, stream?.audio ? sound : undefined);
        return pictures$.pipe(muxBeside(stream?.audio, 'fmp4-sound', (picture, audio) => muxer.mux(picture as H264Picture, audio)));
      }),
};
