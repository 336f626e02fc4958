import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { liveChildCount, type SpawnFn } from '../../src/process/child-process';

/** A spawn that records what it started (command, args, child) and adds `env` to the child's environment. */
export function recordingSpawn(env: NodeJS.ProcessEnv = {}) {
  const calls: { command: string; args: readonly string[] }[] = [];
  const children: ChildProcess[] = [];
  const spawn: SpawnFn = (command, args, options) => {
    calls.push({ command, args });
    const child = nodeSpawn(command, args, { ...options, env: { ...(options.env ?? process.env), ...env } });
    children.push(child);
    return child;
  };
  return { spawn, calls, children };
}

/** Resolves once the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Whether no process with this PID exists any more. */
export function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Kills what is still running (a failed test must not leave children behind) and waits for the exits. */
export async function reap(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill('SIGKILL');
  await Promise.all(children.map(exited));
}

/**
 * Registers jest hooks: after each test, kills and awaits whatever is left in `children` (a failed test must not
 * leave processes behind) and asserts that no child of `fromChildProcess` outlived the test. Returns how many
 * such children were running when the current test began.
 */
export function guardChildren(children: ChildProcess[]): () => number {
  let liveAtStart = 0;
  beforeEach(() => {
    liveAtStart = liveChildCount();
  });
  afterEach(async () => {
    await reap(children.splice(0));
    expect(liveChildCount()).toBe(liveAtStart);
  });
  return () => liveAtStart;
}
