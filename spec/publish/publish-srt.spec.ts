import pino from 'pino';
import { fromStartupError, parseConfig } from '../../src/config/command-line';
import { probeOutputProtocols, resolveFfmpeg } from '../../src/process/ffmpeg-path';
import { startServer } from '../../src/server/start-server';
import { SourceCheckError } from '../../src/sources/check-source';

describe('--publish srt:// and the ffmpeg in use', () => {
  it('an ffmpeg without SRT (the bundled static 4.1) is refused at start in one line saying how to get one; never the passphrase', async () => {
    const ffmpeg = resolveFfmpeg();
    const argv = ['--source', 'test', '--host', '127.0.0.1', '--port', '0', '--publish', 'srt://127.0.0.1:9000?passphrase=SECRET12345'];
    if ((await probeOutputProtocols(ffmpeg.path)).includes('srt')) {
      // An ffmpeg with libsrt (Debian's) is taken: nothing to refuse here.
      return;
    }
    const started = startServer(parseConfig(argv, {}), { logger: pino({ level: 'silent' }) });
    const err = await started.then(
      () => {
        throw new Error('started');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SourceCheckError);
    const line = fromStartupError(err, argv, {})!;
    expect(line.exitCode).toBe(2);
    expect(line.message).toMatch(/cannot send SRT, which --publish srt:\/\/127\.0\.0\.1:9000\?\*\*\* needs .*apt install ffmpeg/);
    expect(line.message).not.toContain('SECRET');
    expect(line.message).not.toContain('\n');
  });
});
