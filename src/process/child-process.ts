import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Writable } from 'node:stream';
import { Observable, type TeardownLogic } from 'rxjs';
import { DEFAULTS } from '../defaults';

/** The subset of `child_process.spawn` we use, so tests and hosts can inject their own. */
export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** A child process that failed to start or exited with a failure; the message names the program. */
export class ChildProcessError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    /** The last lines the program wrote to stderr. */
    readonly stderr: readonly string[],
  ) {
    super(message);
    this.name = 'ChildProcessError';
  }
}

export interface ChildProcessOptions {
  /** Injected `spawn` (default: node's). */
  readonly spawn?: SpawnFn;
  /**
   * Called once the child is spawned, with its stdin (only when given: otherwise stdin is `/dev/null`).
   * Whatever it returns is torn down before the child is killed. Call `fail` to end the stream with an error.
   */
  readonly stdin?: (stdin: Writable, fail: (err: unknown) => void) => TeardownLogic;
  /**
   * Called once the child is spawned with a second input pipe, its fd 3 (`pipe:3` to ffmpeg: a publisher's sound
   * beside the pictures on stdin). Whatever it returns is torn down before the child is killed.
   */
  readonly extraInput?: (pipe: Writable, fail: (err: unknown) => void) => TeardownLogic;
  /** Called with the child right after spawn (e.g. to learn its PID). */
  readonly onSpawn?: (child: ChildProcess) => void;
  /** How long after SIGTERM to send SIGKILL. Default `DEFAULTS.killTimeoutMs` (2000 ms). */
  readonly killTimeoutMs?: number;
  /** How many of the last stderr lines to keep for error messages. Default 20. */
  readonly stderrLines?: number;
  /**
   * Lines that never explain a failure (warnings every healthy run prints), not kept: the lines that say why the
   * program failed are then the ones its error message shows.
   */
  readonly stderrNoise?: RegExp;
  /** Extra environment for the child (merged over `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Children still running when Node exits are killed, so a crash of ours never orphans a camera or encoder. */
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/** How many children spawned by `fromChildProcess` are running now. */
export function liveChildCount(): number {
  return live.size;
}

/**
 * Resolves once every child spawned by `fromChildProcess` has exited, or after `timeoutMs` (children still
 * running then are killed with SIGKILL). For shutdown: unsubscribing sends SIGTERM; this waits for it to land.
 */
export function childrenExited(timeoutMs: number = DEFAULTS.childExitMs): Promise<void> {
  const waiting = [...live].map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  if (waiting.length === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      for (const child of live) child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    timer.unref();
    void Promise.all(waiting).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The edge every process-backed source and the encoder share: spawns `command` with an argument array (never a
 * shell) on subscribe and emits its stdout chunks. It completes when the program exits 0 and errors with a
 * {@link ChildProcessError} (naming the program, its exit code or signal, and its last stderr lines) when it is
 * missing or exits otherwise. Unsubscribing kills it: SIGTERM, then SIGKILL after `killTimeoutMs`.
 *
 * @example
 * fromChildProcess('rpicam-vid', ['-n', '-t', '0', '--codec', 'yuv420', '-o', '-']).subscribe((chunk) => …);
 */
export function fromChildProcess(command: string, args: readonly string[], options: ChildProcessOptions = {}): Observable<Buffer> {
  const { spawn = nodeSpawn as SpawnFn, killTimeoutMs = DEFAULTS.killTimeoutMs, stderrLines = 20 } = options;
  return new Observable<Buffer>((subscriber) => {
    const stderr = new StderrTail(stderrLines, options.stderrNoise);
    const child = spawn(command, args, {
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(options.extraInput ? (['pipe'] as const) : [])],
      env: options.env ? { ...process.env, ...options.env } : process.env,
      windowsHide: true,
    });
    let exited = false;
    const onError = (err: NodeJS.ErrnoException): void => {
      exited = exited || child.pid === undefined;
      subscriber.error(startError(command, err, stderr.lines()));
    };
    const onData = (chunk: Buffer): void => subscriber.next(chunk);
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
      exited = true;
      if (code === 0) return subscriber.complete();
      subscriber.error(exitError(command, code, signal, stderr.lines()));
    };
    child.on('error', onError);
    child.stdout!.on('data', onData);
    child.stderr!.on('data', stderr.keep);
    child.on('close', onClose);
    if (child.pid !== undefined) track(child);
    options.onSpawn?.(child);

    let stdinTeardown: TeardownLogic;
    if (options.stdin && child.stdin) {
      // EPIPE when the child dies under us is reported by its exit, not as a second error.
      child.stdin.on('error', () => undefined);
      stdinTeardown = options.stdin(child.stdin, (err) => subscriber.error(err));
    }

    let extraTeardown: TeardownLogic;
    // Only asked for with extraInput (an injected spawn may hand back a child without stdio).
    const extra = options.extraInput ? (child.stdio[3] as Writable | null | undefined) : undefined;
    if (options.extraInput && extra) {
      extra.on('error', () => undefined);
      extraTeardown = options.extraInput(extra, (err) => subscriber.error(err));
    }

    return () => {
      if (typeof stdinTeardown === 'function') stdinTeardown();
      else stdinTeardown?.unsubscribe();
      if (typeof extraTeardown === 'function') extraTeardown();
      else extraTeardown?.unsubscribe();
      extra?.destroy();
      child.stdout!.off('data', onData);
      child.stderr!.off('data', stderr.keep);
      child.off('close', onClose);
      // Keep an error listener: a late 'error' event with no listener would crash the host process.
      child.off('error', onError);
      child.on('error', () => undefined);
      child.stdin?.destroy();
      if (!exited) stop(child, killTimeoutMs);
    };
  });
}

/** The last `max` non-blank lines a child wrote to stderr, but those matching `noise`, for its error messages. */
class StderrTail {
  private readonly kept: string[] = [];
  /** The unfinished last line. */
  private partial = '';

  constructor(
    private readonly max: number,
    private readonly noise?: RegExp,
  ) {}

  private counts(line: string): boolean {
    return line.trim() !== '' && !(this.noise?.test(line) ?? false);
  }

  /** A stderr `data` listener. */
  readonly keep = (chunk: Buffer): void => {
    const lines = (this.partial + chunk.toString('utf8')).split(/\r?\n|\r/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) if (this.counts(line)) this.kept.push(line);
    if (this.kept.length > this.max) this.kept.splice(0, this.kept.length - this.max);
  };

  /** The last lines, the unfinished one included. */
  lines(): string[] {
    return (this.counts(this.partial) ? [...this.kept, this.partial] : this.kept).slice(-this.max);
  }
}

/** A child that could not be spawned (missing, or not executable). */
function startError(command: string, err: NodeJS.ErrnoException, stderr: readonly string[]): ChildProcessError {
  const message =
    err.code === 'ENOENT' ? `${command}: program not found (is it installed and on PATH?)` : `${command}: could not start: ${err.message}`;
  return new ChildProcessError(message, command, null, null, stderr);
}

/** A child that exited with a failure: how, and its last three stderr lines in the message (all of them kept). */
function exitError(command: string, code: number | null, signal: NodeJS.Signals | null, stderr: readonly string[]): ChildProcessError {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return new ChildProcessError(
    `${command} ${how}${stderr.length ? `: ${stderr.slice(-3).join(' | ')}` : ''}`,
    command,
    code,
    signal,
    stderr,
  );
}

/** Ends a child still running: SIGTERM, SIGKILL after `killTimeoutMs` if it has not exited by then. */
function stop(child: ChildProcess, killTimeoutMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), killTimeoutMs);
  killTimer.unref();
  child.once('exit', () => clearTimeout(killTimer));
  // Drain what is left so the child never blocks on a full pipe while it shuts down.
  child.stdout!.resume();
  child.stderr!.resume();
}
