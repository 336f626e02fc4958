/**
 * Every default and limit of a pistream server, in one place: the plugin's schema, the CLI's `--help`, the
 * hub and the viewers all read them from here. Codec-specific defaults (bitrate, GOP) live with each codec.
 */
export const DEFAULTS = {
  /** HTTP and WebSocket port: the original pistreaming's page port. */
  port: 8082,
  /** Every interface. */
  host: '0.0.0.0',
  /** The original's frame size and rate. */
  width: 640,
  height: 480,
  fps: 24,
  /** How long the camera and encoder keep running after the last viewer leaves. */
  graceMs: 5000,
  /** No picture for this long while running counts as a failure (a frozen camera or encoder). */
  watchdogMs: 5000,
  /**
   * A restart waits `initialDelayMs`, doubling per failure in a row up to `maxDelayMs`; the count goes back to
   * zero only after `healthyMs` of pictures without a failure.
   */
  restart: { initialDelayMs: 500, maxDelayMs: 10_000, healthyMs: 60_000 },
  /** Unsent bytes on a viewer's socket above which it is slow (clients that cannot ack are judged by this). */
  highWaterMark: 512 * 1024,
  /** A viewer whose acks show it this many ms behind is slow. */
  maxLagMs: 500,
  /** A viewer slow this long is closed with 1008 and reconnects. */
  stuckMs: 10_000,
  /** A viewer closed for being stuck gets this long to finish the closing handshake before it is cut off. */
  slowCloseGraceMs: 2000,
  /**
   * Host names the server answers to besides IP addresses, this machine's name and `<name>.local`, and a TLS
   * certificate's names (a DNS-rebinding page sends its own name, which is none of these): `--allowed-hosts` adds more.
   */
  allowedHosts: ['localhost', '*.localhost'],
  /** Viewers at once over every listener; more are closed with 1013. */
  maxViewers: 100,
  /**
   * Viewers at once from one client address, over every stream path and player (0: no cap); more are closed with
   * 1013, so one host on the LAN cannot take every slot of `maxViewers`.
   */
  maxViewersPerAddress: 10,
  /** Sound's bitrate in kbit/s, for every audio codec (MP2 snaps it to its list): plenty for a mono microphone. */
  audioBitrateKbps: 64,
  /** The one UDP port every WebRTC viewer shares (so one firewall rule admits them all). */
  webrtcPort: 8189,
  /** WebSocket ping interval; a viewer that has not answered the previous ping is terminated. */
  heartbeatMs: 15_000,
  /** WebSocket upgrades per second per client address (the burst is {@link upgradeBurst} of it). */
  upgradeRatePerSecond: 5,
  /**
   * Failed logins (wrong Basic password or token) per client address: after `maxFailures` within `windowMs`, the
   * address gets 429 for `firstLockoutMs`, doubling with each lockout in a row up to `maxLockoutMs`.
   */
  loginFailures: { maxFailures: 5, windowMs: 60_000, firstLockoutMs: 1000, maxLockoutMs: 300_000 },
  /** scrypt checks of `--auth-file` passwords at once (each takes 16 MiB and a thread-pool thread), and waiting at most. */
  scryptConcurrency: 2,
  scryptQueue: 64,
  /** CSP `frame-ancestors` of every response: who may frame the page (`--frame-ancestors`). */
  frameAncestors: "'self'",
  /** `Strict-Transport-Security` max-age when serving TLS: 180 days (a camera that drops TLS is unreachable that long). */
  hstsMaxAgeSeconds: 15_552_000,
  /** How long a client may take to send its request headers. */
  headerTimeoutMs: 10_000,
  /** On stop, viewers that have not finished the closing handshake by then are cut off. */
  closeGraceMs: 1000,
  /** On stop, how long to wait for the camera and encoder processes to exit. */
  childExitMs: 1000,
  /** A child process that has not exited this long after SIGTERM gets SIGKILL. */
  killTimeoutMs: 2000,
  /** Pictures must have come this recently for /healthz to say `ok` while the pipeline runs. */
  healthyWithinMs: 2000,
  /** hapi's limits for a page request: a response within 10 s, an idle socket closed after 30 s. */
  requestTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
  /** The CLI exits this long after a signal even if stopping hangs (the original hung until browsers closed). */
  stopTimeoutMs: 2000,
  logLevel: 'info',
  /** `/snapshot.jpg` answers 503 when no picture could be had and decoded within this long (camera start included). */
  snapshotTimeoutMs: 5000,
  /**
   * `/snapshot.jpg` answers with the JPEG it made last while the newest picture is less than this much newer
   * (a flood of requests must not keep ffmpeg decoding back to back).
   */
  snapshotFreshMs: 200,
  /** `/snapshot.jpg` requests per second per client address (bursts of as many); beyond, 429. */
  snapshotRatePerSecond: 5,
  /** JPEG quantiser of `/snapshot.jpg` (ffmpeg `-q:v`, 2–31, lower is better and bigger). */
  snapshotQuality: 4,
  /** `--record-segment`: a recording segment is cut at the first keyframe this long after its start. */
  recordSegmentMs: 60_000,
  /** The segment being written is fsync'd this often (`--record-sync`): a power cut loses at most this much. */
  recordSyncMs: 2000,
  /**
   * `--record-min-free`: retention deletes the oldest segments while the recording's file system has less free than
   * this, so the disk never fills (a percentage of the disk, or bytes).
   */
  recordMinFree: '5%',
  /** While recording cannot write (disk full, directory gone or read-only), it tries again this often. */
  recordRetryMs: 5000,
  /** How often retention (`--record-keep`, `--record-max-size`) looks for segments to delete, besides at each cut. */
  recordRetentionCheckMs: 60_000,
  /**
   * Bytes waiting to be written to a recording at most: a disk slower than the stream makes the recorder drop
   * pictures up to the next keyframe rather than queue without bound (a few seconds of a 2 Mbit/s stream).
   */
  recordMaxQueuedBytes: 4 * 1024 * 1024,
  /**
   * `--publish`: ffmpeg never reconnects by itself, so each target's ffmpeg is restarted after a failure, waiting
   * `initialDelayMs` doubling per failure in a row up to `maxDelayMs`, each wait shortened by up to `jitter` of
   * itself at random (targets do not retry in step); the count goes back to zero after `healthyMs` of publishing.
   */
  publishRestart: { initialDelayMs: 1000, maxDelayMs: 30_000, healthyMs: 60_000, jitter: 0.25 },
  /** A publishing ffmpeg that has sent no new byte for this long (connecting included) is restarted. */
  publishStallMs: 10_000,
  /** ffmpeg's I/O timeout on an rtmp(s) connection (`-rw_timeout`): a far end that stops reading fails within it. */
  publishIoTimeoutMs: 5000,
  /** `--publish-audio`: a silent AAC track (YouTube and others refuse video without audio). */
  publishAudio: 'silent',
  /** While publishing, a keyframe at least this often (seconds): Twitch and others want 2 s, YouTube at most 4. */
  publishMaxGopSeconds: 2,
} as const;

/** Upgrades one address may make at once after a quiet spell: four seconds' worth of its rate, at least one. */
export function upgradeBurst(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond * 4));
}

/** Wire limits of the viewer protocol. */
export const LIMITS = {
  /**
   * Sound older than this (ms since its capture) is not sent, to a WebSocket viewer or a WebRTC one. A starting
   * encoder finds about a second of sound queued in its pipe (the capture runs while ffmpeg starts) and puts it out at
   * once: sent, it filled the browser's jitter buffer, which then played that late for many seconds (850 ms, draining
   * to 380 ms over 10 s). Sound normally leaves 40–80 ms after capture on a loaded machine.
   */
  maxSoundAgeMs: 300,
  /** Largest control message a viewer may send (an ack is ~30 bytes); anything else is a policy violation. */
  controlMessageBytes: 256,
  /** ws refuses frames above this with 1009 before reading them. */
  maxPayloadBytes: 64 * 1024,
  /** `/snapshot.jpg?width=`: the widths it takes (a larger one than the stream's is served at the stream's). */
  snapshotMinWidth: 16,
  snapshotMaxWidth: 4096,
  /** `--record-segment`'s limits, and the smallest `--record-max-size` (a segment or two of a slow stream). */
  recordSegmentMinMs: 1000,
  recordSegmentMaxMs: 86_400_000,
  recordMinBytes: 1024 * 1024,
} as const;
