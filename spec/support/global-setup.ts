import { probeFfmpeg, resolveFfmpeg, FFMPEG_ORIGIN_LABELS } from '../../src/process/ffmpeg-path';

/**
 * Says once, before any spec, which ffmpeg this run tests with: the one pistream itself would find here (see the
 * README's "Tests" section for running against another).
 */
export default async function globalSetup(): Promise<void> {
  try {
    const ffmpeg = resolveFfmpeg();
    const { version } = await probeFfmpeg(ffmpeg.path);
    process.stderr.write(`\npistream specs: ffmpeg ${version} at ${ffmpeg.path} (${FFMPEG_ORIGIN_LABELS[ffmpeg.origin]})\n`);
  } catch (err) {
    process.stderr.write(`\npistream specs: no usable ffmpeg (${err instanceof Error ? err.message : String(err)})\n`);
  }
}
