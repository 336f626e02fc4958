import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** A running `pistream` process. */
export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  /** Everything it has printed so far, stdout and stderr (JSON log lines off a terminal). */
  readonly output: () => string;
  /** Its exit code once it has exited. */
  readonly exited: Promise<number | null>;
  /** SIGKILL unless it has exited; resolves once it has. A function, not a method: specs destructure it. */
  readonly kill: () => Promise<void>;
}

/**
 * The kill of every CLI this spec file started that has not exited, run after the file's tests (jest evaluates this
 * module once per spec file). A `beforeAll` that times out while its CLI starts never gets the handle to kill it, and a
 * jest worker's children outlive it: without this, such a CLI and its ffmpeg run on after the test run.
 */
const unexited = new Set<() => Promise<void>>();
afterAll(() => Promise.all([...unexited].map((kill) => kill())));

/**
 * Starts the CLI as a real process (from source) and resolves once it listens: its port, what it has printed so
 * far (stdout and stderr, JSON log lines off a terminal), its exit code, and `kill()` for cleanup. `env` adds to
 * a bare environment (PATH only).
 */
export async function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(root, 'src', 'cli.ts'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  unexited.add(kill);
  void exited.then(() => unexited.delete(kill));
  let output = '';
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        // The startup line that says where to watch (`Watch at http://127.0.0.1:PORT/`, or localhost on every interface).
        const match = /Watch at https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)\//.exec(output);
        if (match) resolve(Number(match[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${output}`)));
    });
    return { child, port, output: () => output, exited, kill };
  } catch (err) {
    await kill();
    throw err;
  }
}
