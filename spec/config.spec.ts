import { CODECS } from '../src/codecs';
import { mpeg1 } from '../src/codecs/mpeg1/mpeg1-codec';
import { allowedText, defaultOf } from '../src/options/allowed-text';
import { pluginSchema, TOKEN } from '../src/options/plugin-options';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseCommandLine, parseConfig, version, type PistreamConfig } from '../src/config/command-line';
import { autoThreads, configSchema, envName, flagName, FLAGS } from '../src/config/flags';
import { hashPassword } from '../src/options/auth-users';
import { validatePluginOptions, type PistreamPluginOptions } from '../src/options/plugin-options';
import { PluginOptionsError } from '../src/options/plugin-options-error';
import type { SourceSpec } from '../src/sources/open-source';

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

/** What a config holds, in part (for toMatchObject). */
type Partly<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends Buffer ? T[K] : NonNullable<T[K]> extends object ? Partly<NonNullable<T[K]>> : T[K];
};

/** The source spec as the plugin's schema takes it from the flags, with the flips (which `SourceSpec` does not declare). */
type FlagSource = SourceSpec & { readonly hflip?: boolean; readonly vflip?: boolean; readonly rotation?: number };

/** A config as the flags make it. */
type FlagConfig = Omit<PistreamConfig, 'plugin'> & {
  readonly plugin: Omit<PistreamPluginOptions, 'source'> & { readonly source?: FlagSource };
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A copy of `tree` with `value` at the dotted path `keys`, copying the objects on the way. */
function withValue(tree: Record<string, unknown>, keys: readonly string[], value: unknown): Record<string, unknown> {
  const [key, ...rest] = keys;
  return { ...tree, [key!]: rest.length === 0 ? value : withValue((tree[key!] ?? {}) as Record<string, unknown>, rest, value) };
}

const TLS_CERT = join(__dirname, 'fixtures', 'tls', 'test-only-localhost.crt');
const TLS_KEY = join(__dirname, 'fixtures', 'tls', 'test-only-localhost.key');

describe('parseConfig', () => {
  it('defaults to the original pistreaming settings, leaving the rest of the plugin options to the plugin', () => {
    expect(parseConfig([], {})).toEqual<PistreamConfig>({
      port: 8082,
      host: '0.0.0.0',
      logLevel: 'info',
      headerTimeoutMs: 10_000,
      plugin: {
        source: { kind: 'auto' },
        encoder: { width: 640, height: 480, fps: 24, threads: autoThreads() },
      },
    });
  });

  it("gets the documented defaults from the plugin's schema", () => {
    const valid = validatePluginOptions(parseConfig([], {}).plugin);
    expect(valid).toMatchObject({
      // Slow viewers (README, Slow viewers): half a second behind by their acks, or 512 KiB unsent.
      maxLagMs: 500,
      highWaterMark: 512 * 1024,
      // Open by default (README, Security): any page of the same host, no auth, 100 viewers.
      maxViewers: 100,
      upgradeRate: { perSecond: 5, burst: 20 },
      graceMs: 5000,
      alwaysOn: false,
      publicHealth: false,
      allowOrigins: [],
      allowedHosts: [],
      trustProxy: [],
      encoder: { width: 640, height: 480, fps: 24, threads: autoThreads() },
    });
    expect(valid.codec.id).toBe('mpeg1');
    expect(valid.formats.map((format) => format.id)).toEqual(['mpegts', 'jsmp']);
    expect(valid.auth).toBeUndefined();
    expect(valid.legacyListener).toBeUndefined();
    // No bitrate, quality or GOP: the codec picks them when it encodes.
    expect(valid.encoder).not.toHaveProperty('bitrate');
    expect(valid.encoder).not.toHaveProperty('quality');
    expect(valid.encoder).not.toHaveProperty('gop');
  });

  it('takes --legacy-port with --codec h264: the original protocol is served through the MPEG-1 transcode', () => {
    const config = parseConfig(['--codec', 'h264', '--legacy-port', '8084'], {});
    expect(config.plugin.codec).toBe('h264');
    expect(config.plugin.legacyListener).toMatchObject({ port: 8084 });
  });

  it('ignores unrelated and empty environment variables', () => {
    expect(parseConfig([], { PATH: '/bin', PISTREAM_PORT: '', PISTREAM_WIDTH: '  ' })).toEqual(parseConfig([], {}));
  });

  // Each flag with a value, its env equivalent, and what the config then holds.
  const cases: [string, string, Partly<FlagConfig>][] = [
    ['--source', 'test', { plugin: { source: { kind: 'test' } } }],
    ['--source', 'rpicam', { plugin: { source: { kind: 'rpicam' } } }],
    ['--source', 'libcamera', { plugin: { source: { kind: 'libcamera' } } }],
    ['--source', 'raspivid', { plugin: { source: { kind: 'raspivid' } } }],
    ['--source', 'v4l2', { plugin: { source: { kind: 'v4l2' } } }],
    ['--source', 'v4l2:/dev/video2', { plugin: { source: { kind: 'v4l2', device: '/dev/video2' } } }],
    ['--source', 'file:/tmp/a b.yuv', { plugin: { source: { kind: 'file', path: '/tmp/a b.yuv' } } }],
    ['--codec', 'mpeg1', { plugin: { codec: 'mpeg1' } }],
    ['--codec', 'h264', { plugin: { codec: 'h264' } }],
    ['--width', '1280', { plugin: { encoder: { width: 1280 } } }],
    ['--height', '720', { plugin: { encoder: { height: 720 } } }],
    ['--fps', '30', { plugin: { encoder: { fps: 30 } } }],
    ['--fps', '25', { plugin: { encoder: { fps: 25 } } }],
    ['--fps', '23.976', { plugin: { encoder: { fps: 23.976 } } }],
    ['--fps', '29.97', { plugin: { encoder: { fps: 29.97 } } }],
    ['--fps', '60000/1001', { plugin: { encoder: { fps: 60000 / 1001 } } }],
    ['--fps', '60', { plugin: { encoder: { fps: 60 } } }],
    ['--bitrate', '1500', { plugin: { encoder: { bitrate: 1500 } } }],
    ['--quality', '5', { plugin: { encoder: { quality: 5 } } }],
    ['--gop', '12', { plugin: { encoder: { gop: 12 } } }],
    ['--threads', '3', { plugin: { encoder: { threads: 3 } } }],
    ['--threads', 'auto', { plugin: { encoder: { threads: autoThreads() } } }],
    ['--rotation', '180', { plugin: { source: { kind: 'auto', rotation: 180 } } }],
    ['--rotation', '0', { plugin: { source: { kind: 'auto', rotation: 0 } } }],
    ['--port', '8080', { port: 8080 }],
    ['--port', '0', { port: 0 }],
    ['--host', '127.0.0.1', { host: '127.0.0.1' }],
    ['--host', '::', { host: '::' }],
    ['--host', 'my-pi.local', { host: 'my-pi.local' }],
    ['--legacy-port', '8084', { plugin: { legacyListener: { port: 8084, headerTimeoutMs: 10_000 } } }],
    ['--legacy-port', '0', { plugin: { legacyListener: { port: 0 } } }],
    ['--ffmpeg', '/usr/bin/ffmpeg', { plugin: { encoder: { ffmpeg: '/usr/bin/ffmpeg' } } }],
    ['--grace', '0', { plugin: { graceMs: 0 } }],
    ['--grace', '2.5', { plugin: { graceMs: 2500 } }],
    // A duration with a unit means that; a bare number keeps the flag's documented unit.
    ['--grace', '500ms', { plugin: { graceMs: 500 } }],
    ['--grace', '2m', { plugin: { graceMs: 120_000 } }],
    ['--max-lag', '1.5s', { plugin: { maxLagMs: 1500 } }],
    ['--header-timeout', '250ms', { headerTimeoutMs: 250 }],
    ['--log-level', 'debug', { logLevel: 'debug' }],
    ['--log-level', 'silent', { logLevel: 'silent' }],
    ['--allow-origin', 'https://example.com:8443/page', { plugin: { allowOrigins: ['https://example.com:8443'] } }],
    ['--allow-origin', 'https://a.example, http://b.example', { plugin: { allowOrigins: ['https://a.example', 'http://b.example'] } }],
    ['--allow-origin', '*', { plugin: { allowOrigins: ['*'] } }],
    ['--trust-proxy', 'loopback', { plugin: { trustProxy: ['loopback'] } }],
    ['--trust-proxy', '10.0.0.0/8, fd00::/8,private', { plugin: { trustProxy: ['10.0.0.0/8', 'fd00::/8', 'private'] } }],
    ['--max-viewers', '5', { plugin: { maxViewers: 5 } }],
    ['--header-timeout', '2.5', { headerTimeoutMs: 2500 }],
    ['--upgrade-rate', '2', { plugin: { upgradeRate: { perSecond: 2, burst: 8 } } }],
    ['--upgrade-rate', '0.1', { plugin: { upgradeRate: { perSecond: 0.1, burst: 1 } } }],
    ['--upgrade-rate', '0', { plugin: { upgradeRate: false } }],
    ['--max-lag', '1000', { plugin: { maxLagMs: 1000 } }],
    ['--max-lag', '0', { plugin: { maxLagMs: 0 } }],
    ['--high-water-mark', '65536', { plugin: { highWaterMark: 65536 } }],
    ['--auth', 'alice:s3cr:et', { plugin: { auth: { users: { alice: 's3cr:et' } } } }],
    ['--token', 'a-long-token', { plugin: { auth: { token: 'a-long-token' } } }],
  ];

  it.each(cases)('reads %s %s', (flag, value, expected) => {
    expect(parseConfig([flag, value], {})).toMatchObject(expected);
    expect(parseConfig([`${flag}=${value}`], {})).toMatchObject(expected);
  });

  it.each(cases)('reads the variable for %s %s', (flag, value, expected) => {
    const name = `PISTREAM_${flag.slice(2).replace(/-/g, '_').toUpperCase()}`;
    expect(parseConfig([], { [name]: value })).toMatchObject(expected);
  });

  it('fills in no plugin option that no flag gave', () => {
    expect(Object.keys(parseConfig(['--max-lag', '1000'], {}).plugin).sort()).toEqual(['encoder', 'maxLagMs', 'source']);
    expect(Object.keys(parseConfig(['--bitrate', '900'], {}).plugin.encoder!).sort()).toEqual([
      'bitrate',
      'fps',
      'height',
      'threads',
      'width',
    ]);
  });

  // fps is the number typed; the plugin's schema makes it the exact MPEG-1 rate.
  it.each([
    ['24', 24, 24],
    ['23.976', 23.976, 24000 / 1001],
    ['29.97', 29.97, 30000 / 1001],
    ['30000/1001', 30000 / 1001, 30000 / 1001],
    ['59.94', 59.94, 60000 / 1001],
    [' 60000 / 1001 ', 60000 / 1001, 60000 / 1001],
  ])('keeps --fps %j as typed, which the plugin makes exact', (text, typed, exact) => {
    const config = parseConfig(['--fps', text], {});
    expect(config.plugin.encoder?.fps).toBe(typed);
    expect(validatePluginOptions(config.plugin).encoder?.fps).toBe(exact);
    expect(validatePluginOptions(parseConfig([], { PISTREAM_FPS: text }).plugin).encoder?.fps).toBe(exact);
  });

  it('puts --legacy-port together with the header timeout and TLS of the main listener', () => {
    const config = parseConfig(['--legacy-port', '8084', '--header-timeout', '3', '--tls-cert', TLS_CERT, '--tls-key', TLS_KEY], {});
    expect(config.headerTimeoutMs).toBe(3000);
    expect(config.tls).toEqual({ cert: readFileSync(TLS_CERT), key: readFileSync(TLS_KEY) });
    expect(config.plugin.legacyListener).toEqual({ port: 8084, headerTimeoutMs: 3000, tls: config.tls });
    expect(parseConfig(['--tls-cert', TLS_CERT, '--tls-key', TLS_KEY], {}).plugin).not.toHaveProperty('legacyListener');
  });

  describe('with an auth file', () => {
    let dir: string;
    let file: string;
    let line: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pistream-config-'));
      file = join(dir, 'users');
      line = await hashPassword('alice', 's3cret');
      writeFileSync(file, `# viewers\n${line}\n`);
      writeFileSync(join(dir, 'plain'), 'bob:hunter2\n');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('puts the file, --auth and --token together in plugin.auth', () => {
      const hash = line.slice('alice:'.length);
      expect(parseConfig(['--auth-file', file], {}).plugin.auth).toEqual({ users: { alice: hash } });
      expect(parseConfig(['--auth-file', file, '--auth', 'bob:pw'], { PISTREAM_TOKEN: 'a-long-token' }).plugin.auth).toEqual({
        users: { alice: hash, bob: 'pw' },
        token: 'a-long-token',
      });
      expect(parseConfig([], { PISTREAM_AUTH_FILE: file }).plugin.auth).toEqual({ users: { alice: hash } });
    });

    it('refuses a file of plain passwords, naming the flag and the line', () => {
      expect(errorOf(['--auth-file', join(dir, 'plain')])).toMatch(/^--auth-file: \S+plain line 1 is not "user:scrypt\$SALT\$KEY"/);
      expect(errorOf([], { PISTREAM_AUTH_FILE: join(dir, 'plain') })).toMatch(/^PISTREAM_AUTH_FILE: /);
    });

    it('never prints what the file holds, nor a user:password given as its path', () => {
      for (const message of [errorOf(['--auth-file', join(dir, 'plain')]), errorOf([], { PISTREAM_AUTH_FILE: join(dir, 'plain') })]) {
        expect(message).not.toContain('hunter2');
        expect(message).not.toContain('bob');
      }
      expect(errorOf(['--auth-file', 'bob:hunter2'])).toBe(
        '--auth-file: cannot read the file it names (ENOENT); that looks like user:password (not shown: a secret), which is what --auth takes',
      );
      expect(errorOf([], { PISTREAM_AUTH_FILE: 'bob:hunter2' })).not.toContain('hunter2');
    });
  });

  const booleans: [string, (config: PistreamConfig) => unknown][] = [
    ['--hflip', (c) => (c.plugin.source as FlagSource).hflip],
    ['--vflip', (c) => (c.plugin.source as FlagSource).vflip],
    ['--always-on', (c) => c.plugin.alwaysOn],
    ['--allow-nonstandard-fps', (c) => c.plugin.encoder?.allowNonstandardFps],
    ['--public-health', (c) => c.plugin.publicHealth],
  ];

  it('has a case for every switch', () => {
    expect(booleans.map(([flag]) => flag).sort()).toEqual(
      FLAGS.filter((s) => !s.flag.includes('<'))
        .map((s) => flagName(s.key))
        .sort(),
    );
  });

  it.each(booleans)('reads the switch %s', (flag, get) => {
    expect(get(parseConfig([flag], {}))).toBe(true);
    expect(get(parseConfig([], {}))).toBeUndefined();
  });

  it.each(
    booleans.flatMap(([flag, get]) =>
      (
        [
          ['1', true],
          ['true', true],
          ['YES', true],
          ['yes', true],
          ['on', true],
          ['0', false],
          ['false', false],
          ['no', false],
          ['off', false],
        ] as const
      ).map(([text, value]) => [`PISTREAM_${flag.slice(2).replace(/-/g, '_').toUpperCase()}`, text, get, value] as const),
    ),
  )('reads %s=%s', (name, text, get, value) => {
    expect(get(parseConfig([], { [name]: text }))).toBe(value);
  });

  it('keeps the flips with the source that --source names', () => {
    expect(parseConfig(['--hflip', '--source', 'rpicam', '--rotation', '180'], { PISTREAM_VFLIP: '1' }).plugin.source).toEqual({
      kind: 'rpicam',
      hflip: true,
      vflip: true,
      rotation: 180,
    });
  });

  it('lets a flag beat its environment variable', () => {
    const env = {
      PISTREAM_PORT: '9000',
      PISTREAM_WIDTH: '800',
      PISTREAM_SOURCE: 'rpicam',
      PISTREAM_LOG_LEVEL: 'warn',
      PISTREAM_ALLOW_ORIGIN: 'https://env.example',
    };
    expect(
      parseConfig(
        ['--port', '9001', '--source', 'test', '--allow-origin', 'https://a.example', '--allow-origin', 'https://b.example'],
        env,
      ),
    ).toMatchObject({
      port: 9001,
      logLevel: 'warn',
      plugin: {
        source: { kind: 'test' },
        encoder: { width: 800 },
        allowOrigins: ['https://a.example', 'https://b.example'],
      },
    });
  });

  it('does not check a variable that a flag overrides', () => {
    expect(parseConfig(['--port', '9001'], { PISTREAM_PORT: 'abc' }).port).toBe(9001);
    expect(parseConfig(['--rotation', '180'], { PISTREAM_ROTATION: '90' }).plugin.source).toEqual({ kind: 'auto', rotation: 180 });
  });

  it('lets --quality beat PISTREAM_BITRATE and --bitrate beat PISTREAM_QUALITY', () => {
    const quality = parseConfig(['--quality', '4'], { PISTREAM_BITRATE: '900' }).plugin.encoder;
    expect(quality?.quality).toBe(4);
    expect(quality).not.toHaveProperty('bitrate');
    const bitrate = parseConfig(['--bitrate', '900'], { PISTREAM_QUALITY: '4' }).plugin.encoder;
    expect(bitrate?.bitrate).toBe(900);
    expect(bitrate).not.toHaveProperty('quality');
  });

  it('gives a GOP only when --gop is given (the codec derives one from fps otherwise)', () => {
    expect(parseConfig(['--fps', '30'], {}).plugin.encoder).not.toHaveProperty('gop');
    expect(parseConfig(['--fps', '30', '--gop', '15'], {}).plugin.encoder?.gop).toBe(15);
    expect(validatePluginOptions(parseConfig(['--fps', '30', '--gop', '15'], {}).plugin).encoder?.gop).toBe(15);
  });

  it('allows the unofficial rates only with --allow-nonstandard-fps', () => {
    for (const fps of [5, 10, 12, 15]) {
      const config = parseConfig(['--fps', String(fps), '--allow-nonstandard-fps'], {});
      expect(config.plugin.encoder).toMatchObject({ fps, allowNonstandardFps: true });
      expect(validatePluginOptions(config.plugin).encoder?.fps).toBe(fps);
      expect(parseConfig(['--fps', String(fps)], { PISTREAM_ALLOW_NONSTANDARD_FPS: '1' }).plugin.encoder?.fps).toBe(fps);
      expect(errorOf(['--fps', String(fps)])).toMatch(/^--fps must be one of MPEG-1's frame rates/);
    }
  });

  // Every bad value names what was wrong (the flag or the variable) and what is allowed, in one line.
  const bad: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--port', '70000'], {}, /^--port must be a whole number from 0 to 65535, got "70000"$/],
    [['--port', '-1'], {}, /^--port must be a whole number from 0 to 65535/],
    [['--port', '80.5'], {}, /^--port must be a whole number/],
    [['--legacy-port', '65536'], {}, /^--legacy-port must be a whole number from 0 to 65535, got "65536"$/],
    [['--legacy-port', '8082'], {}, /^--legacy-port must differ from the main port \(8082\)$/],
    [['--legacy-port', '9000', '--port', '9000'], {}, /^--legacy-port must differ from the main port \(9000\)$/],
    [['--width', '641'], {}, /^--width must be an even whole number from 2 to 4094, got "641"$/],
    [['--width', '4096'], {}, /^--width must be an even whole number from 2 to 4094/],
    [['--height', '0'], {}, /^--height must be an even whole number from 2 to 4094/],
    [
      ['--fps', '15'],
      {},
      /^--fps must be one of MPEG-1's frame rates: .*60 \(5, 10, 12 or 15 only with --allow-nonstandard-fps\), got "15"$/,
    ],
    [['--fps', '100'], {}, /^--fps must be one of MPEG-1's frame rates/],
    [['--fps', '20', '--allow-nonstandard-fps'], {}, /^--fps must be one of MPEG-1's frame rates/],
    [['--fps', 'fast'], {}, /^--fps must be a number of frames per second, e.g. 24, 29.97 or 30000\/1001, got "fast"$/],
    [['--fps', '1/0'], {}, /^--fps must be one of/],
    [['--rotation', '90'], {}, /^--rotation must be 0 or 180 \(.*rotate it in the page's CSS\), got "90"$/],
    [['--rotation', '270'], {}, /^--rotation must be 0 or 180/],
    [['--source', 'rpicam', '--hflip', '--rotation', '90'], {}, /^--rotation must be 0 or 180/],
    [['--source', 'foo'], {}, /^--source must be auto, test, rpicam, libcamera, raspivid, v4l2\[:DEVICE\] or file:PATH, got "foo"$/],
    [['--source', 'file:'], {}, /^--source must be/],
    [['--codec', 'h265'], {}, /^--codec must be mpeg1 or h264, got "h265"$/],
    [
      ['--codec', 'h264', '--quality', '52'],
      {},
      /^--quality must be a whole number from 0 to 51 \(a constant rate factor: lower is better\), got "52"$/,
    ],
    [['--codec', 'h264', '--fps', '121'], {}, /^--fps must be a number of frames per second from 1 to 120, got "121"$/],
    [['--bitrate', '10', '--quality', '4'], {}, /^--bitrate and --quality cannot be used together/],
    [[], { PISTREAM_BITRATE: '900', PISTREAM_QUALITY: '4' }, /^PISTREAM_BITRATE and PISTREAM_QUALITY cannot be used together/],
    [['--bitrate', '10'], {}, /^--bitrate must be a whole number of kbit\/s from 16 to 100000, got "10"$/],
    [['--quality', '1'], {}, /^--quality must be a whole number from 2 to 31, got "1"$/],
    [['--quality', '32'], {}, /^--quality must be a whole number from 2 to 31/],
    [['--gop', '0'], {}, /^--gop must be a whole number of frames from 1 to 600, got "0"$/],
    [['--threads', '0'], {}, /^--threads must be a whole number from 1 to 16, got "0"$/],
    [['--threads', 'many'], {}, /^--threads must be auto or a whole number from 1 to 16, got "many"$/],
    [['--host', 'not a host'], {}, /^--host must be a host name or an IP address/],
    [['--grace', '-1'], {}, /^--grace must be a number of seconds from 0 to 86400, got "-1"$/],
    [['--max-lag', '0.5'], {}, /^--max-lag must be a whole number of ms from 0 to 60000, got "0.5"$/],
    [[], { PISTREAM_MAX_LAG: '-1' }, /^PISTREAM_MAX_LAG must be a whole number of ms from 0 to 60000/],
    [['--high-water-mark', '100'], {}, /^--high-water-mark must be a whole number of bytes from 1024 to 1073741824, got "100"$/],
    [['--max-viewers', '0'], {}, /^--max-viewers must be a whole number from 1 to 100000, got "0"$/],
    [['--upgrade-rate', '-1'], {}, /^--upgrade-rate must be a number from 0 to 10000, got "-1"$/],
    [['--header-timeout', '0'], {}, /^--header-timeout must be a number of seconds from 0.05 to 600, got "0"$/],
    [['--header-timeout', '11m'], {}, /^--header-timeout must be a number of seconds from 0.05 to 600, got "11m"$/],
    [['--grace', '5x'], {}, /^--grace must be a number of seconds from 0 to 86400, got "5x"$/],
    [['--grace', '25h'], {}, /^--grace must be a number of seconds from 0 to 86400, got "25h"$/],
    [['--max-lag', '2m'], {}, /^--max-lag must be a whole number of ms from 0 to 60000, got "2m"$/],
    [
      ['--token', `${'x'.repeat(513)}`],
      {},
      /^--token must be a token of 8 to 512 characters: the value given has more than 512 characters \(not shown: a secret\)$/,
    ],
    [
      ['--allow-origin', 'example.com'],
      {},
      /^--allow-origin must be origins like https:\/\/example.com \(comma-separated\) or \*, got "example.com"$/,
    ],
    [['--allow-origin', 'file:///tmp/x'], {}, /^--allow-origin must be origins like/],
    [['--trust-proxy', ''], {}, /^--trust-proxy must be addresses, CIDR blocks/],
    [['--auth', 'alice'], {}, /^--auth must be user:password/],
    [
      ['--token', 'short'],
      {},
      /^--token must be a token of 8 to 512 characters: the value given has fewer than 8 characters \(not shown: a secret\)$/,
    ],
    [['--tls-cert', TLS_CERT], {}, /^--tls-cert needs --tls-key too$/],
    [['--tls-cert', '/nonexistent.pem', '--tls-key', TLS_KEY], {}, /^--tls-cert: cannot read \/nonexistent.pem \(ENOENT\)$/],
    [['--auth-file', '/nonexistent'], {}, /^--auth-file: cannot read \/nonexistent \(ENOENT\)$/],
    [['--log-level', 'loud'], {}, /^--log-level must be fatal, error, warn, info, debug, trace, silent, got "loud"$/],
    [['--colour'], {}, /^unknown flag --colour \(see --help\)$/],
    [['--prot', '80'], {}, /^unknown flag --prot; did you mean --port\?/],
    [['-x'], {}, /^unknown flag -x/],
    [['--port'], {}, /^--port needs a value: a whole number from 0 to 65535$/],
    [['stray'], {}, /^pistream takes only flags, no other arguments, got "stray" \(see --help\)$/],
    [['--port', '1', 'stray'], {}, /^pistream takes only flags, no other arguments, got "stray"/],
    [
      ['--hflip=no'],
      {},
      /^--hflip takes no value: give it alone to turn it on, or set PISTREAM_HFLIP to true or false \(1\/0, yes\/no\), got "no"$/,
    ],
    [
      ['--port', '1', '--always-on', 'off'],
      {},
      /^--always-on takes no value: .*PISTREAM_ALWAYS_ON to true or false.*, got "off" after it$/,
    ],
    [[], { PISTREAM_PORT: 'abc' }, /^PISTREAM_PORT must be a whole number from 0 to 65535, got "abc"$/],
    [[], { PISTREAM_HFLIP: 'maybe' }, /^PISTREAM_HFLIP must be true or false/],
    [[], { PISTREAM_ROTATION: '90' }, /^PISTREAM_ROTATION must be 0 or 180.*, got "90"$/],
    [[], { PISTREAM_FPS: '15' }, /^PISTREAM_FPS must be one of/],
    [[], { PISTREAM_CODEC: 'vp8' }, /^PISTREAM_CODEC must be mpeg1 or h264, got "vp8"$/],
  ];

  // A credential is never printed back, not even a malformed one: the message says what shape is wanted.
  const secrets: [string, string, string][] = [
    ['auth', 'nocolon-hunter2', 'has no ":"'],
    ['auth', ':hunter2-no-user', 'has no user name before ":"'],
    ['auth', 'alice-hunter2:', 'has no password after ":"'],
    ['token', 'hunter2', 'has fewer than 8 characters'],
    ['token', `hunter2-${'x'.repeat(600)}`, 'has more than 512 characters'],
  ];

  it.each(secrets)(
    'never prints a rejected --%s (%s), from the flag or its variable, saying what is wrong with its shape',
    (key, value, shape) => {
      const flag = flagName(key);
      const fromFlag = errorOf([flag, value]);
      const fromVariable = errorOf([], { [envName(key)]: value });
      const allowed = FLAGS.find((s) => s.key === key)!.allowed;
      expect(fromFlag).toBe(`${flag} must be ${allowed}: the value given ${shape} (not shown: a secret)`);
      expect(fromVariable).toBe(`${envName(key)} must be ${allowed}: the value given ${shape} (not shown: a secret)`);
      for (const message of [fromFlag, fromVariable, errorOf([`${flag}=${value}`])]) {
        expect(message).not.toContain('hunter2');
        expect(message).not.toContain(value);
      }
    },
  );

  it('does not print the rest of a credential that had a space in it', () => {
    for (const argv of [
      ['--token', 'hunter2-long', 'words'],
      ['--auth=alice:hunter2', 'words'],
      ['--port', '1', '--auth', 'alice:pw', 'words'],
    ]) {
      const message = errorOf(argv);
      expect(message).toMatch(
        /^pistream takes only flags, no other arguments, got one right after the value of --(token|auth) \(not shown: a secret\); quote a value that has spaces$/,
      );
      expect(message).not.toContain('words');
    }
  });

  it.each(bad)('rejects %j %j with one line naming it', (argv, env, message) => {
    const text = errorOf(argv, env);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('reads --record and its flags (and their variables) into plugin.record: durations and sizes with units', () => {
    expect(
      parseConfig(['--record', '/srv/rec', '--record-keep', '7d', '--record-max-size', '20G'], { PISTREAM_RECORD_SEGMENT: '30' }).plugin
        .record,
    ).toEqual({ dir: '/srv/rec', segmentMs: 30_000, keepMs: 604_800_000, maxBytes: 20 * 2 ** 30 });
    expect(
      parseConfig([], { PISTREAM_RECORD: '/srv/rec', PISTREAM_RECORD_KEEP: '90m', PISTREAM_RECORD_MAX_SIZE: '1.5GiB' }).plugin.record,
    ).toEqual({ dir: '/srv/rec', keepMs: 5_400_000, maxBytes: 1.5 * 2 ** 30 });
    expect(parseConfig(['--record-keep', '3600', '--record', 'rec', '--record-max-size', '1048576'], {}).plugin.record).toEqual({
      dir: 'rec',
      keepMs: 3_600_000,
      maxBytes: 1048576,
    });
    expect(parseConfig(['--record', 'rec', '--record-segment', '90s', '--record-sync', '500ms'], {}).plugin.record).toEqual({
      dir: 'rec',
      segmentMs: 90_000,
      syncMs: 500,
    });
    expect(parseConfig([], {}).plugin.record).toBeUndefined();
  });

  it('names a --record-* flag given without --record', () => {
    expect(errorOf(['--record-keep', '7d'])).toBe('--record-keep needs --record <dir> (or PISTREAM_RECORD) too');
    expect(errorOf(['--record-segment', '10'], { PISTREAM_RECORD_MAX_SIZE: '1G' })).toBe(
      '--record-segment needs --record <dir> (or PISTREAM_RECORD) too',
    );
    expect(errorOf([], { PISTREAM_RECORD_MAX_SIZE: '1G' })).toBe('PISTREAM_RECORD_MAX_SIZE needs --record <dir> (or PISTREAM_RECORD) too');
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

/**
 * The CLI reads syntax; the plugin's schema judges values. Every flag that feeds a plugin option is refused, naming
 * the flag (or its variable) and saying what is allowed, whichever of the two refuses it; where the plugin is the
 * one, the message carries the plugin's own words.
 */
describe('flags and the plugin agree', () => {
  // Per flag that lands in the plugin's options: values that must be refused.
  const refused: Record<string, string[]> = {
    source: ['foo', 'file:', 'v4l2:', 'csi'],
    codec: ['h265', 'MPEG1', 'object'],
    width: ['641', '4096', '0', '-2', '640.5', 'wide'],
    height: ['481', '4096', '0', 'tall'],
    fps: ['15', '100', '0', '-24', '1/0', '24/0', 'fast'],
    allowNonstandardFps: ['maybe', '2'],
    bitrate: ['10', '100001', '800.5', 'lots'],
    quality: ['1', '32', '4.5', 'best'],
    gop: ['0', '601', '2.5', 'long'],
    threads: ['0', '17', '1.5', 'many'],
    hflip: ['maybe'],
    vflip: ['2'],
    rotation: ['90', '270', '-180', '360', 'upside'],
    legacyPort: ['65536', '-1', '1.5', 'http'],
    ffmpeg: [''],
    alwaysOn: ['sometimes'],
    allowOrigin: ['example.com', 'file:///tmp/x', 'https://'],
    allowedHosts: ['a b', 'cam/x', 'http://cam'],
    trustProxy: [''],
    publicHealth: ['perhaps'],
    maxViewers: ['0', '100001', '1.5', 'many'],
    maxViewersPerAddress: ['-1', '100001', '1.5', 'many'],
    recordSync: ['-1', '3601', 'often'],
    recordMinFree: ['lots', '5%%', '-5%'],
    frameAncestors: ["'self'; script-src *", "'self',x", ''],
    maxLag: ['-1', '60001', '0.5', 'soon'],
    highWaterMark: ['100', '1073741825', '2048.5', 'big'],
    // Not a plain target, but plugin options all the same (in other units).
    grace: ['-1', '86401', 'later'],
    upgradeRate: ['-1', '10001', 'fast'],
    record: [''],
    recordSegment: ['0', '86401', 'long'],
    recordKeep: ['0', 'soon', '7y', '-1d'],
    recordMaxSize: ['5', '1K', '1048575', 'big', '1.5.2G'],
    publishAudio: ['loud', 'SILENT'],
    webrtc: ['maybe'],
    webrtcPort: ['0', '65536', '1.5', 'udp'],
    webrtcAddress: ['cam.local', '10.0.0.0/8'],
    stun: ['stun.example.com', 'http://stun.example.com'],
    audio: ['mic', 'alsa', 'alsa:', 'none:hw:1,0', 'ALSA:hw:1,0'],
    audioBitrate: ['16', '193', '64.5', 'loud'],
  };
  // --publish is refused in words of its own that never quote the URL (it may hold a stream key): tested below.
  const targeted = FLAGS.filter((spec) => spec.target?.startsWith('plugin.') && spec.key !== 'publish');

  it.each([
    ['ftp://user:pw@example.com/live/s3cret', /^--publish ftp:\/\/\*\*\*@example\.com\/\*\*\* has an unsupported scheme/],
    ['not a url', /^--publish \*\*\* is not a URL/],
    ['rtmp://example.com/live/s3cret', /^--publish rtmp:\/\/example\.com\/live\/\*\*\*: .*--codec h264/],
  ])('refuses --publish %s without quoting its secret parts', (url, message) => {
    const text = errorOf(['--publish', url]);
    expect(text).toMatch(message);
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('pw@');
  });

  it('has refused values for every flag with a target under plugin.', () => {
    expect(targeted.length).toBeGreaterThan(0);
    for (const spec of targeted) expect(refused).toHaveProperty([spec.key]);
  });

  const rows = Object.entries(refused).flatMap(([key, values]) => values.map((value) => [key, value] as const));

  const isSwitch = (key: string) => !FLAGS.find((s) => s.key === key)!.flag.includes('<');

  it.each(rows)('refuses %s %j, naming it', (key, value) => {
    const flag = flagName(key);
    const got = `, got ${escapeRegExp(JSON.stringify(value))}`;
    // A switch takes no value on the command line (its variable does).
    if (isSwitch(key))
      expect(errorOf([`${flag}=${value}`])).toMatch(
        new RegExp(`^${escapeRegExp(flag)} takes no value: .*${envName(key)} to true or false.*${got}$`),
      );
    else expect(errorOf([flag, value])).toMatch(new RegExp(`^${escapeRegExp(flag)} must be \\S.*${got}$`));
    // An empty variable counts as unset.
    if (value.trim() !== '') expect(errorOf([], { [envName(key)]: value })).toMatch(new RegExp(`^${envName(key)} must be \\S`));
  });

  // Values whose text the flag reads, so that only the plugin's schema can refuse them: the CLI must give the
  // plugin's own words, behind the flag's name.
  const spec = (key: string) => FLAGS.find((s) => s.key === key)!;
  const pluginRows = rows.filter(
    ([key, value]) => spec(key).target?.startsWith('plugin.') && !configSchema.extract(key).validate(value).error,
  );

  it('has values that only the plugin refuses for the flags whose text is not checked for range', () => {
    const keys = new Set(pluginRows.map(([key]) => key));
    for (const key of [
      'codec',
      'width',
      'height',
      'fps',
      'bitrate',
      'quality',
      'gop',
      'threads',
      'rotation',
      'legacyPort',
      'maxViewers',
      'maxLag',
      'highWaterMark',
    ]) {
      expect(keys).toContain(key);
    }
  });

  it.each(pluginRows)("passes the plugin's refusal of %s %j on under the flag's name", (key, value) => {
    const target = spec(key).target!.split('.').slice(1);
    const converted = configSchema.extract(key).validate(value).value as unknown;
    const plugin = withValue(parseConfig([], {}).plugin as Record<string, unknown>, target, converted) as PistreamPluginOptions;
    let refusal: PluginOptionsError | undefined;
    try {
      validatePluginOptions(plugin);
    } catch (err) {
      refusal = err as PluginOptionsError;
    }
    expect(refusal).toBeInstanceOf(PluginOptionsError);
    // The plugin names the option, or the object holding it (source, for its rotation).
    expect(target.join('.').startsWith(refusal!.path.join('.'))).toBe(true);
    const flag = flagName(key);
    const message = errorOf([flag, value]);
    const got = `, got ${JSON.stringify(value)}`;
    expect(message.startsWith(`${flag} must be `)).toBe(true);
    expect(message.endsWith(got)).toBe(true);
    const words = message.slice(flag.length + 1, -got.length);
    const vague = /^(does not match any of the allowed types|must be one of \[)/.test(refusal!.problem);
    // The plugin's words (less any alternative only a program can give, such as a Codec value); where joi's are
    // vague, or the flag has a unit of its own (--grace in seconds, the option in ms), what the flag allows: the
    // schema's limits in the flag's unit.
    if (vague || spec(key).unit) expect(words).toBe(`must be ${spec(key).allowed}`);
    else expect(refusal!.problem.replace(/, got .*$/, '').startsWith(words)).toBe(true);
  });

  it('takes any valid width with the test source: below 512 the pattern leaves its barcode out', () => {
    for (const argv of [
      ['--source', 'test', '--width', '320', '--height', '240'],
      ['--width', '320'],
    ]) {
      const config = parseConfig(argv, {});
      expect(validatePluginOptions(config.plugin).encoder).toMatchObject({ width: 320 });
    }
    expect(parseConfig(['--source', 'test'], { PISTREAM_WIDTH: '2', PISTREAM_HEIGHT: '2' }).plugin.encoder).toMatchObject({
      width: 2,
      height: 2,
    });
  });
});

describe('parseCommandLine', () => {
  it('gives the help text for --help and -h, listing every flag with its default and variable', () => {
    const line = parseCommandLine(['--help'], {});
    expect(line).toEqual(parseCommandLine(['-h'], {}));
    if (line.action !== 'help') throw new Error('expected help');
    expect(FLAGS.map((spec) => spec.key).sort()).toEqual(Object.keys(configSchema.describe().keys as object).sort());
    for (const spec of FLAGS) {
      expect(line.text).toContain(flagName(spec.key));
      expect(line.text).toMatch(new RegExp(`env ${envName(spec.key)},\\s+default\\s+\\S`));
    }
    expect(line.text).toContain('env PISTREAM_PORT, default 8082');
    expect(line.text).toContain('--codec <codec>');
    expect(line.text).toContain('env PISTREAM_CODEC, default mpeg1');
    expect(line.text).toContain('--trust-proxy <addresses>');
    expect(line.text).toContain('env PISTREAM_TRUST_PROXY, default none');
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
  it('converts the text of flags with our messages, leaving what values are allowed to the plugin', () => {
    expect(configSchema.validate({ port: '80', hflip: 'yes', source: 'v4l2:/dev/video1' }).value).toEqual({
      port: 80,
      hflip: true,
      source: { kind: 'v4l2', device: '/dev/video1' },
    });
    expect(configSchema.validate({ port: '70000' }).error?.message).toBe('port must be a whole number from 0 to 65535');
    expect(configSchema.validate({ fps: '30000/1001' }).value).toEqual({ fps: 30000 / 1001 });
    expect(configSchema.validate({ fps: '29.97' }).value).toEqual({ fps: 29.97 });
    // Which rates MPEG-1 has is the plugin's business.
    expect(configSchema.validate({ fps: '15' }).value).toEqual({ fps: 15 });
    expect(configSchema.validate({ fps: 'fast' }).error?.message).toMatch(/^fps must be a number of frames per second/);
    expect(configSchema.validate({ threads: 'auto' }).value).toEqual({ threads: autoThreads() });
    expect(configSchema.validate({ allowOrigin: 'https://a.example/x, *' }).value).toEqual({ allowOrigin: ['https://a.example', '*'] });
    expect(configSchema.validate({ trustProxy: 'loopback,,10.0.0.0/8' }).value).toEqual({ trustProxy: ['loopback', '10.0.0.0/8'] });
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
    expect(flagName('trustProxy')).toBe('--trust-proxy');
    expect(envName('highWaterMark')).toBe('PISTREAM_HIGH_WATER_MARK');
  });
});

describe('flags read their limits and defaults from the schemas', () => {
  const optionOf = (target: string) => pluginSchema.extract(target.slice('plugin.'.length));
  const numeric = FLAGS.filter(
    (spec) =>
      spec.target?.startsWith('plugin.') &&
      !spec.target.startsWith('plugin.encoder.') &&
      !spec.target.startsWith('plugin.source') &&
      optionOf(spec.target).type === 'number',
  );

  it('shows each number option’s schema default, in the flag’s unit', () => {
    expect(numeric.map((spec) => spec.key)).toEqual(
      expect.arrayContaining(['grace', 'maxLag', 'maxViewers', 'maxViewersPerAddress', 'recordSegment', 'recordSync']),
    );
    for (const spec of numeric) {
      const fallback = defaultOf(optionOf(spec.target!));
      if (typeof fallback !== 'number') continue;
      expect(spec.shown.startsWith(String(spec.unit === 's' ? fallback / 1000 : fallback))).toBe(true);
    }
  });

  it('says what each allows in the schema’s words, or its limits in the flag’s unit', () => {
    for (const spec of numeric) {
      const schema = optionOf(spec.target!);
      // These say their syntax instead (3600, 90m, 7d; 500M, 20G), which the schema's words do not cover.
      if (spec.key === 'recordKeep' || spec.key === 'recordMaxSize') continue;
      expect(spec.allowed).toBe(allowedText(schema, spec.unit === 's' ? { name: 'seconds', factor: 1000 } : undefined));
    }
  });

  it('takes the token rule from the schema', () => {
    expect(FLAGS.find((spec) => spec.key === 'token')!.allowed).toBe(allowedText(TOKEN));
  });

  it('words each codec’s frame rates and quality scale as the codec value does', () => {
    const help = (key: string) => FLAGS.find((spec) => spec.key === key)!.help;
    for (const codec of CODECS) {
      expect(help('fps')).toContain(`${codec.label} ${codec.settingsHelp.fps}`);
      expect(help('quality')).toContain(`${codec.label} ${codec.settingsHelp.quality}`);
    }
    // The words and the schema agree: the rates MPEG-1 names are the ones it takes, its quantiser range is its own.
    expect(mpeg1.settingsHelp.fps).toBe('has codes only for 23.976, 24, 25, 29.97, 30, 50, 59.94 and 60');
    expect(mpeg1.settings.validate({ width: 640, height: 480, fps: 59.94, quality: 31 }).error).toBeUndefined();
    expect(mpeg1.settings.validate({ width: 640, height: 480, fps: 24, quality: 32 }).error).toBeDefined();
  });
});
