/**
 * A named sound device the start-up check refused (missing, busy, or an ffmpeg without ALSA): one line for a host
 * app (`pistream: audio alsa:plughw:3,0: cannot be opened: …`); the CLI puts the flag in front and exits 2, as for
 * `--source`.
 */
export class AudioCheckError extends Error {
  constructor(
    /** The value as configured: `alsa:plughw:3,0`. */
    readonly given: string,
    readonly problem: string,
  ) {
    super(`pistream: audio ${given}: ${problem}`);
    this.name = 'AudioCheckError';
  }
}
