import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, STOP_TIMEOUT_MS, type CliEffects, type StartServer } from '../src/cli';
import { parseConfig } from '../src/config/command-line';
import { flagName, FLAGS } from '../src/config/flags';
import type { RunningServer } from '../src/server/start-server';
import { SourceCheckError } from '../src/sources/check-source';
import { startCli } from './helpers/cli-process';
import { connect } from './helpers/ws-client';

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/** A stand-in process: records what the CLI printed, its handlers and timers; `exited` resolves with the code. */
function fakeProcess(startServer: StartServer) {
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const out: string[] = [];
  const err: string[] = [];
  const handlers = new Map<string, () => void>();
  const timers: { fn: () => void; ms: number }[] = [];
  const exits: number[] = [];
  const fx: CliEffects = {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    exit: (code) => {
      exits.push(code);
      exit(code);
    },
    onSignal: (signal, handler) => handlers.set(signal, handler),
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    startServer: jest.fn(startServer),
  };
  return { fx, exited, out, err, handlers, timers, exits, startServer: fx.startServer as jest.Mock };
}

/** What the CLI gets from startServer. */
type Started = Pick<RunningServer, 'url' | 'stop'>;

function fakeServer(stop: () => Promise<void> = () => Promise.resolve()): Started & { stop: jest.Mock } {
  return { url: 'http://0.0.0.0:8082/', stop: jest.fn(stop) };
}

/** Resolves once `fn` has been called (startServer, say). */
function called(mock: jest.Mock): Promise<void> {
  return new Promise((resolve) => {
    const impl = mock.getMockImplementation();
    mock.mockImplementation((...args: unknown[]) => {
      resolve();
      return impl?.(...args) as unknown;
    });
  });
}

describe('main (in-process)', () => {
  it('prints help to stdout and exits 0 without starting anything', async () => {
    const p = fakeProcess(() => Promise.resolve(fakeServer()));
    await main(['--help'], {}, p.fx);
    expect(await p.exited).toBe(0);
    expect(p.out.join('')).toContain('--legacy-port');
    expect(p.err).toEqual([]);
    expect(p.startServer).not.toHaveBeenCalled();
    expect(p.handlers.size).toBe(0);
  });

  it('prints the version and exits 0', async () => {
    const p = fakeProcess(() => Promise.resolve(fakeServer()));
    await main(['--version'], {}, p.fx);
    expect(await p.exited).toBe(0);
    expect(p.out).toEqual([`${pkg.version}\n`]);
  });

  it('prints one line naming a bad flag and exits 2', async () => {
    const p = fakeProcess(() => Promise.resolve(fakeServer()));
    await main(['--port', '70000'], {}, p.fx);
    expect(await p.exited).toBe(2);
    expect(p.err).toEqual(['pistream: --port must be a whole number from 0 to 65535, got "70000"\n']);
    expect(p.startServer).not.toHaveBeenCalled();
  });

  it('prints one line naming a bad variable and exits 2', async () => {
    const p = fakeProcess(() => Promise.resolve(fakeServer()));
    await main([], { PISTREAM_PORT: 'abc' }, p.fx);
    expect(await p.exited).toBe(2);
    expect(p.err).toEqual([expect.stringMatching(/^pistream: PISTREAM_PORT must be .*\n$/)]);
  });

  it('starts the server with the parsed config and stays up', async () => {
    const p = fakeProcess(() => Promise.resolve(fakeServer()));
    await main(['--port', '9000'], { PISTREAM_FPS: '30' }, p.fx);
    expect(p.startServer).toHaveBeenCalledTimes(1);
    expect(p.startServer).toHaveBeenCalledWith(parseConfig(['--port', '9000'], { PISTREAM_FPS: '30' }));
    const [config] = p.startServer.mock.calls[0] as Parameters<StartServer>;
    expect(config.port).toBe(9000);
    expect(config.plugin.encoder?.fps).toBe(30);
    expect(config.plugin.encoder?.width).toBe(640);
    expect(p.exits).toEqual([]);
    expect([...p.handlers.keys()].sort()).toEqual(['SIGINT', 'SIGTERM']);
  });

  it('reports a failed start in one line and exits 1', async () => {
    const p = fakeProcess(() => Promise.reject(new Error('listen EADDRINUSE: address already in use\n  at 0.0.0.0:8082')));
    await main([], {}, p.fx);
    expect(await p.exited).toBe(1);
    expect(p.err).toEqual(['pistream: listen EADDRINUSE: address already in use at 0.0.0.0:8082\n']);
  });

  it('names the flag to change when the port is in use: --port, or --legacy-port for its port', async () => {
    const inUse = (port: number) =>
      Object.assign(new Error(`listen EADDRINUSE: address already in use 0.0.0.0:${port}`), {
        code: 'EADDRINUSE',
        port,
        address: '0.0.0.0',
      });
    const main8082 = fakeProcess(() => Promise.reject(inUse(8082)));
    await main([], {}, main8082.fx);
    expect(await main8082.exited).toBe(1);
    expect(main8082.err).toEqual([
      'pistream: port 8082 is in use by another program: stop it or pass --port (listen EADDRINUSE: address already in use 0.0.0.0:8082)\n',
    ]);
    const legacy = fakeProcess(() => Promise.reject(inUse(8084)));
    await main(['--legacy-port', '8084'], {}, legacy.fx);
    expect(await legacy.exited).toBe(1);
    expect(legacy.err).toEqual([
      expect.stringMatching(/^pistream: port 8084 is in use by another program: stop it or pass --legacy-port \(/),
    ]);
  });

  it('exits 2 with one line naming the flag or variable when the start-up checks refuse the source or ffmpeg', async () => {
    const cases: [string[], NodeJS.ProcessEnv, SourceCheckError, string][] = [
      [
        ['--source', 'file:/tmp/x.mp4'],
        {},
        new SourceCheckError('source', 'file:/tmp/x.mp4', 'no such file'),
        '--source file:/tmp/x.mp4: no such file',
      ],
      [
        [],
        { PISTREAM_SOURCE: 'v4l2:/dev/video9' },
        new SourceCheckError('source', 'v4l2:/dev/video9', 'no such device'),
        'PISTREAM_SOURCE=v4l2:/dev/video9: no such device',
      ],
      [['--ffmpeg', '/opt/ff'], {}, new SourceCheckError('ffmpeg', '/opt/ff', 'no such file', 'option'), '--ffmpeg /opt/ff: no such file'],
      [
        [],
        { PISTREAM_FFMPEG: '/opt/ff' },
        new SourceCheckError('ffmpeg', '/opt/ff', 'not executable', 'option'),
        'PISTREAM_FFMPEG=/opt/ff: not executable',
      ],
      [
        [],
        {},
        new SourceCheckError('ffmpeg', '/usr/bin/ffmpeg', 'does not run (exit 127)', 'path'),
        'ffmpeg /usr/bin/ffmpeg (found on PATH) does not run (exit 127): pass --ffmpeg PATH to use another',
      ],
      [
        [],
        {},
        new SourceCheckError('ffmpeg', undefined, 'ffmpeg not found: pass --ffmpeg PATH or set PISTREAM_FFMPEG'),
        'ffmpeg not found: pass --ffmpeg PATH or set PISTREAM_FFMPEG',
      ],
    ];
    for (const [argv, env, refusal, line] of cases) {
      const p = fakeProcess(() => Promise.reject(refusal));
      await main(argv, env, p.fx);
      expect([argv, env, await p.exited]).toEqual([argv, env, 2]);
      expect(p.err).toEqual([`pistream: ${line}\n`]);
    }
  });

  it.each(['SIGINT', 'SIGTERM'])('stops once on %s and exits 0', async (signal) => {
    const server = fakeServer();
    const p = fakeProcess(() => Promise.resolve(server));
    await main([], {}, p.fx);
    p.handlers.get(signal)!();
    expect(await p.exited).toBe(0);
    expect(server.stop).toHaveBeenCalledTimes(1);
    expect(p.timers.map((t) => t.ms)).toEqual([STOP_TIMEOUT_MS]);
    expect(p.err).toEqual([]);
  });

  it('exits 0 after 2 s when stopping hangs', async () => {
    const server = fakeServer(() => new Promise<void>(() => undefined));
    const p = fakeProcess(() => Promise.resolve(server));
    await main([], {}, p.fx);
    p.handlers.get('SIGTERM')!();
    expect(p.exits).toEqual([]);
    expect(p.timers).toEqual([{ fn: expect.any(Function), ms: 2000 }]);
    p.timers[0].fn();
    expect(await p.exited).toBe(0);
    expect(p.err).toEqual(['pistream: stopping took over 2 s, exiting anyway\n']);
    expect(server.stop).toHaveBeenCalledTimes(1);
  });

  it('exits at once on a second signal, without stopping again', async () => {
    const server = fakeServer(() => new Promise<void>(() => undefined));
    const p = fakeProcess(() => Promise.resolve(server));
    const stopping = called(server.stop);
    await main([], {}, p.fx);
    p.handlers.get('SIGTERM')!();
    await stopping;
    p.handlers.get('SIGINT')!();
    expect(p.exits).toEqual([130]);
    expect(server.stop).toHaveBeenCalledTimes(1);
  });

  it('exits 1 with one line when stopping fails', async () => {
    const server = fakeServer(() => Promise.reject(new Error('boom')));
    const p = fakeProcess(() => Promise.resolve(server));
    await main([], {}, p.fx);
    p.handlers.get('SIGINT')!();
    expect(await p.exited).toBe(1);
    expect(p.err).toEqual(['pistream: while stopping: boom\n']);
  });

  it('stops a server that was still starting when the signal came', async () => {
    const server = fakeServer();
    let started!: (s: Started) => void;
    const p = fakeProcess(() => new Promise<Started>((resolve) => (started = resolve)));
    const starting = called(p.startServer);
    const running = main([], {}, p.fx);
    await starting;
    p.handlers.get('SIGINT')!();
    expect(server.stop).not.toHaveBeenCalled();
    started(server);
    await running;
    expect(await p.exited).toBe(0);
    expect(server.stop).toHaveBeenCalledTimes(1);
  });
});

/**
 * How long a real CLI process may take before it is killed: only a guard against a hung process, never a
 * judgement of speed. Starting Node with ts-node and the whole server from source takes about 3 s on an idle 2-core
 * machine and over 20 s on a loaded one (seen: the old 20 s limit killed `a port in use` before it had printed its
 * line, which read as "exit 1 with no message").
 */
const CLI_DEADLINE_MS = 100_000;

/**
 * Runs the CLI as a real process, from source (no build step needed), with `preload` modules (`node -r`) first. A
 * process killed at the deadline says so.
 */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  preload: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...preload.flatMap((module) => ['-r', module]), '-r', 'ts-node/register/transpile-only', join(root, 'src', 'cli.ts'), ...args],
      { cwd: root, env: { PATH: process.env.PATH, ...env }, timeout: CLI_DEADLINE_MS },
      (error, stdout, stderr) => {
        if (error?.killed)
          return resolve({ code: -1, stdout, stderr: `${stderr}(runCli: killed after ${CLI_DEADLINE_MS} ms, still running)\n` });
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('pistream (a real process)', () => {
  // Each test starts a real process from source (see CLI_DEADLINE_MS): room for a loaded machine, not a speed bound.
  jest.setTimeout(CLI_DEADLINE_MS + 20_000);
  it('starts with a shebang, for the bin', () => {
    expect(readFileSync(join(root, 'src', 'cli.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('--help exits 0 and lists every flag', async () => {
    const { code, stdout, stderr } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const keys = [...FLAGS.map((spec) => spec.key), 'help', 'version'];
    expect(keys).toEqual(expect.arrayContaining(['source', 'codec', 'width', 'fps', 'threads', 'legacyPort', 'trustProxy', 'grace']));
    for (const key of keys) expect(stdout).toContain(flagName(key));
    // Each source kind listed once, then what auto does; every player H.264 reaches, not WebCodecs alone.
    const text = stdout.replace(/\s+/g, ' ');
    expect(text).toContain(
      'where frames come from: auto, test, rpicam, libcamera, raspivid, v4l2[:DEVICE] or file:PATH; auto tries rpicam, libcamera, raspivid, then /dev/video0, else the test pattern',
    );
    expect(text).toContain(
      'the page plays it through WebCodecs on https or localhost, else through MSE, and browsers with neither get an MPEG-1 transcode',
    );
  });

  it('on a Node.js older than engines.node, exits 2 with one line saying which it needs, before loading any dependency', async () => {
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20');
    const { code, stdout, stderr } = await runCli(['--source', 'test'], {}, [join(root, 'spec', 'helpers', 'pretend-old-node.js')]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' }); // stdout would list commander, joi … had they loaded
    expect(stderr).toBe(
      'pistream: needs Node.js 20 or later; this is Node.js 18.19.0 (the README\'s "Node.js on a Raspberry Pi" says how to get it)\n',
    );
  });

  it('a bad flag exits 2 with exactly one stderr line naming it', async () => {
    const { code, stdout, stderr } = await runCli(['--colour', 'blue']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^pistream: unknown flag --colour[^\n]*\n$/);
  });

  it('a bad variable exits 2 with exactly one stderr line naming it', async () => {
    const { code, stderr } = await runCli([], { PISTREAM_ROTATION: '90' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^pistream: PISTREAM_ROTATION must be 0 or 180[^\n]*\n$/);
  });

  it("--version prints package.json's version", async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  it('a bad credential exits 2 with one line that never prints it, from a flag or a variable', async () => {
    for (const [args, env] of [
      [['--auth', 'nocolon-hunter2'], {}],
      [['--token', 'hunter2']],
      [[], { PISTREAM_AUTH: 'nocolon-hunter2' }],
      [[], { PISTREAM_TOKEN: 'hunter2' }],
    ] as const) {
      const { code, stdout, stderr } = await runCli([...args], env);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^pistream: (--auth|--token|PISTREAM_AUTH|PISTREAM_TOKEN) must be [^\n]*\(not shown: a secret\)\n$/);
      expect(stderr).not.toContain('hunter2');
    }
  });

  describe('a source, ffmpeg or recording folder that cannot work: exit 2 at start, one line naming the flag and the cause', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'pistream-cli-'));
      writeFileSync(join(dir, 'clip.mpg'), 'a file where a folder should be');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      [['--source', 'file:DIR/missing.mp4'], {}, '--source file:DIR/missing.mp4: no such file'],
      [['--source', 'v4l2:DIR/video9'], {}, '--source v4l2:DIR/video9: no such device (ls /dev/video* lists them)'],
      [[], { PISTREAM_SOURCE: 'file:DIR' }, 'PISTREAM_SOURCE=file:DIR: is a directory, not a video file'],
      // An empty PATH: no camera program (and ffmpeg from @ffmpeg-installer, were it asked).
      [['--source', 'rpicam'], { PATH: 'DIR' }, '--source rpicam: rpicam-vid is not on PATH (it comes with rpicam-apps)'],
      [['--source', 'raspivid'], { PATH: 'DIR' }, '--source raspivid: raspividyuv is not on PATH (it comes with libraspberrypi-bin)'],
      [['--source', 'test', '--ffmpeg', 'DIR/ffmpeg'], {}, '--ffmpeg DIR/ffmpeg: no such file'],
      // A recursive mkdir under /proc never returns: refused at start instead of a server spinning a core.
      [
        ['--source', 'test', '--record', '/proc/pistream'],
        {},
        '--record /proc/pistream: /proc is on proc, a view of the kernel, not a disk: choose a folder on a disk',
      ],
      [['--source', 'test'], { PISTREAM_RECORD: 'DIR/clip.mpg' }, 'PISTREAM_RECORD=DIR/clip.mpg: DIR/clip.mpg is a file, not a folder'],
      // A named sound device is opened at start (ALSA card 29 exists on no machine): missing or busy stops it. HOME
      // as a user's shell has it: the bundled static ffmpeg's ALSA crashes without one (then the line says so).
      [
        ['--source', 'test', '--audio', 'alsa:plughw:29,0'],
        { HOME: 'DIR' },
        '--audio alsa:plughw:29,0: cannot be opened: No such file or directory',
      ],
      [
        ['--source', 'test'],
        { PISTREAM_AUDIO: 'alsa:hw:29,0', HOME: 'DIR' },
        'PISTREAM_AUDIO=alsa:hw:29,0: cannot be opened: No such file or directory',
      ],
    ] as [string[], NodeJS.ProcessEnv, string][])('%j %j', async (args, env, line) => {
      const inDir = (text: string): string => text.replaceAll('DIR', dir);
      const { code, stdout, stderr } = await runCli(
        [...args.map(inDir), '--port', '0', '--host', '127.0.0.1'],
        Object.fromEntries(Object.entries(env).map(([k, v]) => [k, inDir(v!)])),
      );
      expect(stderr).toBe(`pistream: ${inDir(line)}\n`);
      expect(code).toBe(2);
      expect(stdout).not.toContain('Watch at');
    });
  });

  it('on every interface, says where to watch: localhost and each LAN address, never 0.0.0.0', async () => {
    const cli = await startCli(['--source', 'test', '--port', '0', '--host', '0.0.0.0']);
    try {
      const lan = Object.values(networkInterfaces())
        .flatMap((list) => list ?? [])
        .filter((i) => i.family === 'IPv4' && !i.internal);
      const urls = ['localhost', ...new Set(lan.map((i) => i.address))].map((host) => `http://${host}:${cli.port}/`);
      const lines = cli
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; urls?: string[] });
      const watch = lines.filter((l) => l.msg.startsWith('Watch at'));
      expect(watch).toHaveLength(1);
      expect(watch[0]!.urls).toEqual(urls);
      expect(watch[0]!.msg).toBe(`Watch at ${urls.join(' or ')} (streams at ws://…:${cli.port}/stream and /legacy)`);
      expect(cli.output()).not.toContain('0.0.0.0');
      // The page is there at the first of them.
      expect((await fetch(urls[0]!)).status).toBe(200);
    } finally {
      await cli.kill();
    }
  });

  it('streams a test pattern narrower than its barcode, saying once that the page shows no latency figure', async () => {
    const cli = await startCli(['--source', 'test', '--width', '320', '--height', '240', '--port', '0', '--host', '127.0.0.1']);
    try {
      const viewer = await connect(`ws://127.0.0.1:${cli.port}/legacy`);
      // The jsmp header names the size, then pictures come.
      const [header] = await viewer.received(2);
      expect([header!.readUInt16BE(4), header!.readUInt16BE(6)]).toEqual([320, 240]);
      const messages = cli
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(messages.filter((m) => m.includes('barcode'))).toEqual([
        'Test pattern at 320x240, without its barcode (it needs at least 512x32): the page shows no latency figure (it reads the barcode)',
      ]);
      expect(messages.find((m) => m.startsWith('Source:'))).toMatch(
        /^Source: test pattern; ffmpeg \S+ at \S+ \((found on PATH|the bundled @ffmpeg-installer\/ffmpeg)\)$/,
      );
      await viewer.close();
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    } finally {
      await cli.kill();
    }
  });

  describe('a port in use', () => {
    let busy: Server;
    let port: number;
    beforeAll(async () => {
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      port = (busy.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

    it('exits 1 with one line naming the port and --port', async () => {
      const { code, stdout, stderr } = await runCli(['--source', 'test', '--host', '127.0.0.1', '--port', String(port)]);
      expect(code).toBe(1);
      const errors = stderr.split('\n').filter((line) => line !== '');
      expect(errors).toEqual([
        `pistream: port ${port} is in use by another program: stop it or pass --port (listen EADDRINUSE: address already in use 127.0.0.1:${port})`,
      ]);
      expect(stdout).not.toContain('Watch at');
    });

    it('names --legacy-port when that is the port in use', async () => {
      const { code, stderr } = await runCli([
        '--source',
        'test',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--legacy-port',
        String(port),
        '--log-level',
        'silent',
      ]);
      expect(code).toBe(1);
      expect(stderr).toBe(
        `pistream: port ${port} is in use by another program: stop it or pass --legacy-port (listen EADDRINUSE: address already in use 127.0.0.1:${port})\n`,
      );
    });
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'serves the test pattern; on %s closes a watching viewer with 1001, exits 0 and leaves no ffmpeg',
    async (signal) => {
      const { child, port, exited, kill } = await startCli(['--source', 'test', '--port', '0', '--host', '127.0.0.1']);
      try {
        const viewer = await connect(`ws://127.0.0.1:${port}/stream`);
        await viewer.received(1);
        // The encoder runs as a child of the CLI process while someone watches.
        const ffmpegPids = childPidsOf(child.pid!).filter((pid) => commOf(pid) === 'ffmpeg');
        expect(ffmpegPids).toHaveLength(1);
        child.kill(signal);
        expect((await viewer.closed).code).toBe(1001);
        expect(await exited).toBe(0);
        for (const pid of ffmpegPids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
      } finally {
        await kill();
      }
    },
  );
});

/** PIDs whose parent is `ppid`, from /proc. */
function childPidsOf(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        // Fields after the parenthesised command: state, ppid, …
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid ? [Number(name)] : [];
      } catch {
        return [];
      }
    });
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
