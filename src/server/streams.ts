import type { ServerRoute } from '@hapi/hapi';
import { PCM } from '../audio/pcm';
import type { Hub } from '../hub';
import { formatAudio, type FormatAudio } from './audio-status';

/** What `GET /streams` answers: the page asks it which player to use and where the stream is. */
export interface StreamsInfo {
  /** The hub's codec id: `'mpeg1'` or `'h264'`. */
  readonly codec: string;
  /** For people: `'H.264'`. */
  readonly codecLabel: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /**
   * The wire formats served, with their WebSocket paths below the plugin's prefix (`'/h264'`), and the sound each
   * carries (`audio`, absent for a silent one: no sound on the server, or a format without an audio track yet).
   */
  readonly formats: readonly { readonly id: string; readonly label: string; readonly path: string; readonly audio?: FormatAudio }[];
  /** The server's sound: what captures it (`source`), or why there is none (`off`). */
  readonly audio: { readonly source: string } | { readonly off: string };
  /** Whether the server records (`GET recordings` lists the segments): the page shows its recordings button. */
  readonly recordings: boolean;
  /** WebRTC viewers: the WHEP endpoint's path below the plugin's prefix (`'/whep'`), or why there is none. */
  readonly webrtc?: StreamsDetails['webrtc'];
}

/** What the parts add to `GET /streams` at request time. */
export interface StreamsDetails {
  /** The WHEP endpoint and the sound its answers carry (Opus, when the server has sound), or why there is none. */
  readonly webrtc?: { readonly path: string; readonly audio?: FormatAudio } | { readonly off: string };
}

/** The answer of `GET /streams` for a hub (pure). */
export function streamsInfo(hub: Hub, extras: { readonly recordings?: boolean; readonly audio?: string } = {}): StreamsInfo {
  return {
    codec: hub.codec.id,
    codecLabel: hub.codec.label,
    width: hub.width,
    height: hub.height,
    fps: Number(hub.fps.toFixed(3)),
    formats: hub.formats.map((format) => {
      const audio = formatAudio(format, hub.audio, PCM.sampleRate, PCM.channels);
      return { id: format.id, label: format.label, path: format.path, ...(audio ? { audio } : {}) };
    }),
    audio: hub.audio ? { source: hub.audio.label } : { off: extras.audio ?? 'none' },
    recordings: extras.recordings === true,
  };
}

/**
 * `GET /streams`: which codec the server sends and at which paths, so the page picks its player (WebCodecs for
 * H.264, JSMpeg for MPEG-1) before opening a socket. Same auth as the page; never cached (a restart with another
 * `--codec` must show at once).
 */
export function streamsRoute(
  hub: Hub,
  extras: { readonly recordings?: boolean; readonly audio?: string } = {},
  details: () => StreamsDetails = () => ({}),
): ServerRoute {
  const info = streamsInfo(hub, extras);
  return {
    method: 'GET',
    path: '/streams',
    options: { cache: { privacy: 'private', expiresIn: 0 } },
    handler: () => ({ ...info, ...details() }),
  };
}
