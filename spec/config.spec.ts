import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  autoThreads,
  ConfigError,
  configSchema,
  envName,
  flagName,
  parseCommandLine,
  parseConfig,
  version,
  type PistreamConfig,
} from '../src/config';

/** Runs parseConfig and returns its ConfigError's message (failing the test when it does not throw one). */
function errorOf(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error(`expected a ConfigError for ${argv.join(' ')} ${JSON.stringify(env)}`);
}

describe('parseConfig', () => {
  it('defaults to the original pistreaming settings', () => {
    expect(parseConfig([], {})).toEqual<PistreamConfig>({
      source: { kind: 'auto' },
      width: 640,
      height: 480,
      fps: 24,
      frameRate: '24',
      allowNonstandardFps: false,
      rate: { mode: 'bitrate', kbps: 800 },
      gop: 24,
      threads: autoThreads(),
      hflip: false,
      vflip: false,
      rotation: 0,
      port: 8082,
      host: '0.0.0.0',
      alwaysOn: false,
      grace: 5,
      graceMs: 5000,
      logLevel: 'info',
      // Open by default (README, Security): any page of the same host, no auth, plain http, 100 viewers.
      allowOrigins: [],
      publicHealth: false,
      maxViewers: 100,
      headerTimeoutMs: 10_000,
      upgradeRate: 5,
      // Slow viewers (README, Slow viewers): half a second behind by their acks, or 512 KiB unsent.
      maxLagMs: 500,
      highWaterMark: 512 * 1024,
    });
  });

  it('ignores unrelated and empty environment variables', () => {
    expect(parseConfig([], { PATH: '/bin', PISTREAM_PORT: '', PISTREAM_WIDTH: '  ' })).toEqual(parseConfig([], {}));
  });

  // Each flag with a value, its env equivalent, and what the config then holds.
  const cases: [string, string, Partial<PistreamConfig>][] = [
    ['--source', 'test', { source: { kind: 'test' } }],
    ['--source', 'rpicam', { source: { kind: 'rpicam' } }],
    ['--source', 'libcamera', { source: { kind: 'libcamera' } }],
    ['--source', 'raspivid', { source: { kind: 'raspivid' } }],
    ['--source', 'v4l2', { source: { kind: 'v4l2' } }],
    ['--source', 'v4l2:/dev/video2', { source: { kind: 'v4l2', device: '/dev/video2' } }],
    ['--source', 'file:/tmp/a b.yuv', { source: { kind: 'file', path: '/tmp/a b.yuv' } }],
    ['--width', '1280', { width: 1280 }],
    ['--height', '720', { height: 720 }],
    ['--fps', '30', { fps: 30, frameRate: '30', gop: 30 }],
    ['--fps', '25', { fps: 25, frameRate: '25', gop: 25 }],
    ['--fps', '23.976', { fps: 24000 / 1001, frameRate: '24000/1001', gop: 24 }],
    ['--fps', '29.97', { fps: 30000 / 1001, frameRate: '30000/1001', gop: 30 }],
    ['--fps', '60000/1001', { fps: 60000 / 1001, frameRate: '60000/1001', gop: 60 }],
    ['--fps', '60', { fps: 60, frameRate: '60', gop: 60 }],
    ['--bitrate', '1500', { rate: { mode: 'bitrate', kbps: 1500 } }],
    ['--quality', '5', { rate: { mode: 'quality', quantiser: 5 } }],
    ['--gop', '12', { gop: 12 }],
    ['--threads', '3', { threads: 3 }],
    ['--threads', 'auto', { threads: autoThreads() }],
    ['--rotation', '180', { rotation: 180 }],
    ['--rotation', '0', { rotation: 0 }],
    ['--port', '8080', { port: 8080 }],
    ['--port', '0', { port: 0 }],
    ['--host', '127.0.0.1', { host: '127.0.0.1' }],
    ['--host', '::', { host: '::' }],
    ['--host', 'my-pi.local', { host: 'my-pi.local' }],
    ['--legacy-port', '8084', { legacyPort: 8084 }],
    ['--ffmpeg', '/usr/bin/ffmpeg', { ffmpeg: '/usr/bin/ffmpeg' }],
    ['--grace', '0', { grace: 0, graceMs: 0 }],
    ['--grace', '2.5', { grace: 2.5, graceMs: 2500 }],
    ['--log-level', 'debug', { logLevel: 'debug' }],
    ['--log-level', 'silent', { logLevel: 'silent' }],
    ['--max-lag', '1000', { maxLagMs: 1000 }],
    ['--max-lag', '0', { maxLagMs: 0 }],
    ['--high-water-mark', '65536', { highWaterMark: 65536 }],
  ];

  it.each(cases)('reads %s %s', (flag, value, expected) => {
    expect(parseConfig([flag, value], {})).toMatchObject(expected);
    expect(parseConfig([`${flag}=${value}`], {})).toMatchObject(expected);
  });

  it.each(cases)('reads the variable for %s %s', (flag, value, expected) => {
    const name = `PISTREAM_${flag.slice(2).replace(/-/g, '_').toUpperCase()}`;
    expect(parseConfig([], { [name]: value })).toMatchObject(expected);
  });

  const booleans: [string, keyof PistreamConfig][] = [
    ['--hflip', 'hflip'],
    ['--vflip', 'vflip'],
    ['--always-on', 'alwaysOn'],
    ['--allow-nonstandard-fps', 'allowNonstandardFps'],
  ];

  it.each(booleans)('reads the switch %s', (flag, key) => {
    expect(parseConfig([flag], {})[key]).toBe(true);
  });

  it.each(booleans.flatMap(([, key]) =>
    ([['1', true], ['true', true], ['YES', true], ['yes', true], ['0', false], ['false', false], ['no', false]] as const).map(
      ([text, value]) => [envName(key), text, key, value] as const,
    ),
  ))('reads %s=%s', (name, text, key, value) => {
    expect(parseConfig([], { [name]: text })[key]).toBe(value);
  });

  it('lets a flag beat its environment variable', () => {
    const env = { PISTREAM_PORT: '9000', PISTREAM_WIDTH: '800', PISTREAM_SOURCE: 'rpicam', PISTREAM_LOG_LEVEL: 'warn' };
    expect(parseConfig(['--port', '9001', '--source', 'test'], env)).toMatchObject({
      port: 9001,
      source: { kind: 'test' },
      width: 800,
      logLevel: 'warn',
    });
  });

  it('does not check a variable that a flag overrides', () => {
    expect(parseConfig(['--port', '9001'], { PISTREAM_PORT: 'abc' }).port).toBe(9001);
  });

  it('lets --quality beat PISTREAM_BITRATE and --bitrate beat PISTREAM_QUALITY', () => {
    expect(parseConfig(['--quality', '4'], { PISTREAM_BITRATE: '900' }).rate).toEqual({ mode: 'quality', quantiser: 4 });
    expect(parseConfig(['--bitrate', '900'], { PISTREAM_QUALITY: '4' }).rate).toEqual({ mode: 'bitrate', kbps: 900 });
  });

  it('keeps an explicit --gop over the one derived from fps', () => {
    expect(parseConfig(['--fps', '30', '--gop', '15'], {}).gop).toBe(15);
  });

  it('allows the unofficial rates only with --allow-nonstandard-fps', () => {
    for (const fps of [5, 10, 12, 15]) {
      expect(parseConfig(['--fps', String(fps), '--allow-nonstandard-fps'], {})).toMatchObject({
        fps,
        frameRate: String(fps),
        gop: fps,
        allowNonstandardFps: true,
      });
      expect(parseConfig(['--fps', String(fps)], { PISTREAM_ALLOW_NONSTANDARD_FPS: '1' }).fps).toBe(fps);
    }
  });

  // Every bad value names what was wrong (the flag or the variable) and what is allowed, in one line.
  const bad: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--port', '70000'], {}, /^--port must be a whole number from 0 to 65535, got "70000"$/],
    [['--port', '-1'], {}, /^--port must be a whole number from 0 to 65535/],
    [['--port', '80.5'], {}, /^--port must be a whole number/],
    [['--legacy-port', '65536'], {}, /^--legacy-port must be a whole number from 0 to 65535/],
    [['--legacy-port', '8082'], {}, /^--legacy-port must differ from the main port \(8082\)$/],
    [['--width', '641'], {}, /^--width must be an even whole number from 2 to 4094, got "641"$/],
    [['--width', '4096'], {}, /^--width must be an even whole number from 2 to 4094/],
    [['--height', '0'], {}, /^--height must be an even whole number from 2 to 4094/],
    [['--source', 'test', '--width', '320'], {}, /^--width must be at least 512 with --source test/],
    [['--fps', '15'], {}, /^--fps must be one of MPEG-1's frame rates: .*60 \(5, 10, 12 or 15 only with --allow-nonstandard-fps\)/],
    [['--fps', '100'], {}, /^--fps must be one of MPEG-1's frame rates/],
    [['--fps', '20', '--allow-nonstandard-fps'], {}, /^--fps must be one of MPEG-1's frame rates/],
    [['--fps', 'fast'], {}, /^--fps must be one of/],
    [['--rotation', '90'], {}, /^--rotation must be 0 or 180 \(.*rotate it in the page's CSS\), got "90"$/],
    [['--rotation', '270'], {}, /^--rotation must be 0 or 180/],
    [['--source', 'foo'], {}, /^--source must be auto, test, rpicam, libcamera, raspivid, v4l2\[:DEVICE\] or file:PATH, got "foo"$/],
    [['--source', 'file:'], {}, /^--source must be/],
    [['--bitrate', '10', '--quality', '4'], {}, /^--bitrate and --quality cannot be used together/],
    [[], { PISTREAM_BITRATE: '900', PISTREAM_QUALITY: '4' }, /^PISTREAM_BITRATE and PISTREAM_QUALITY cannot be used together/],
    [['--bitrate', '10'], {}, /^--bitrate must be a whole number of kbit\/s from 16 to 100000/],
    [['--quality', '1'], {}, /^--quality must be a whole number from 2 to 31/],
    [['--quality', '32'], {}, /^--quality must be a whole number from 2 to 31/],
    [['--gop', '0'], {}, /^--gop must be a whole number of frames from 1 to 600/],
    [['--threads', '0'], {}, /^--threads must be auto or a whole number from 1 to 16/],
    [['--threads', 'many'], {}, /^--threads must be auto or a whole number from 1 to 16/],
    [['--host', 'not a host'], {}, /^--host must be a host name or an IP address/],
    [['--grace', '-1'], {}, /^--grace must be a number of seconds from 0 to 86400/],
    [['--max-lag', '0.5'], {}, /^--max-lag must be a whole number of ms from 0 to 60000, got "0.5"$/],
    [[], { PISTREAM_MAX_LAG: '-1' }, /^PISTREAM_MAX_LAG must be a whole number of ms from 0 to 60000/],
    [['--high-water-mark', '100'], {}, /^--high-water-mark must be a whole number of bytes from 1024 to 1073741824/],
    [['--log-level', 'loud'], {}, /^--log-level must be fatal, error, warn, info, debug, trace, silent, got "loud"$/],
    [['--colour'], {}, /^unknown flag --colour \(see --help\)$/],
    [['--prot', '80'], {}, /^unknown flag --prot; did you mean --port\?/],
    [['-x'], {}, /^unknown flag -x/],
    [['--port'], {}, /^--port needs a value: a whole number from 0 to 65535$/],
    [['stray'], {}, /^pistream takes only flags/],
    [[], { PISTREAM_PORT: 'abc' }, /^PISTREAM_PORT must be a whole number from 0 to 65535, got "abc"$/],
    [[], { PISTREAM_HFLIP: 'maybe' }, /^PISTREAM_HFLIP must be true or false/],
    [[], { PISTREAM_ROTATION: '90' }, /^PISTREAM_ROTATION must be 0 or 180/],
    [[], { PISTREAM_FPS: '15' }, /^PISTREAM_FPS must be one of/],
    [['--source', 'test'], { PISTREAM_WIDTH: '320' }, /^PISTREAM_WIDTH must be at least 512/],
  ];

  it.each(bad)('rejects %j %j with one line naming it', (argv, env, message) => {
    const text = errorOf(argv, env);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('gives ConfigError exit code 2', () => {
    expect(new ConfigError('x').exitCode).toBe(2);
  });

  it('does not exit or print for --help and --version, and refuses to make a config of them', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    const write = jest.spyOn(process.stdout, 'write');
    try {
      expect(errorOf(['--help'])).toMatch(/^--help /);
      expect(errorOf(['--version'])).toMatch(/^--version /);
      expect(exit).not.toHaveBeenCalled();
      expect(write).not.toHaveBeenCalled();
    } finally {
      exit.mockRestore();
      write.mockRestore();
    }
  });

  it('does not read process.env, only the env it is given', () => {
    process.env.PISTREAM_PORT = '1234';
    try {
      expect(parseConfig([], {}).port).toBe(8082);
    } finally {
      delete process.env.PISTREAM_PORT;
    }
  });
});

describe('parseCommandLine', () => {
  it('gives the help text for --help and -h, listing every flag with its default and variable', () => {
    const line = parseCommandLine(['--help'], {});
    expect(line).toEqual(parseCommandLine(['-h'], {}));
    if (line.action !== 'help') throw new Error('expected help');
    for (const key of Object.keys(configSchema.describe().keys as object)) {
      expect(line.text).toContain(flagName(key));
      expect(line.text).toMatch(new RegExp(`env ${envName(key)}, default \\S`));
    }
    expect(line.text).toContain('env PISTREAM_PORT, default 8082');
    expect(line.text).toMatch(/512/);
  });

  it("gives package.json's version for --version and -v", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(version).toBe(pkg.version);
    expect(parseCommandLine(['--version'], {})).toEqual({ action: 'version', text: `${pkg.version}\n` });
    expect(parseCommandLine(['-v'], {})).toEqual({ action: 'version', text: `${pkg.version}\n` });
  });

  it('gives the config to run otherwise', () => {
    expect(parseCommandLine(['--port', '1'], {})).toEqual({ action: 'run', config: parseConfig(['--port', '1'], {}) });
  });
});

describe('configSchema', () => {
  it('validates and converts values with our messages', () => {
    expect(configSchema.validate({ port: '80', hflip: 'yes', source: 'v4l2:/dev/video1' }).value).toEqual({
      port: 80,
      hflip: true,
      source: { kind: 'v4l2', device: '/dev/video1' },
    });
    expect(configSchema.validate({ port: '70000' }).error?.message).toBe('port must be a whole number from 0 to 65535');
    expect(configSchema.validate({ fps: 15 }).error?.message).toMatch(/^fps must be one of/);
    expect(configSchema.validate({ fps: 15 }, { context: { nonstandard: true } }).value).toEqual({ fps: [15, 1] });
  });
});

describe('autoThreads', () => {
  it('leaves a core free and stays within 1–4', () => {
    expect([1, 2, 3, 4, 5, 8, 64].map((cpus) => autoThreads(cpus))).toEqual([1, 1, 2, 3, 4, 4, 4]);
  });
});

describe('flagName and envName', () => {
  it('spell a key as a flag and as a variable', () => {
    expect(flagName('legacyPort')).toBe('--legacy-port');
    expect(envName('legacyPort')).toBe('PISTREAM_LEGACY_PORT');
    expect(envName('allowNonstandardFps')).toBe('PISTREAM_ALLOW_NONSTANDARD_FPS');
  });
});
