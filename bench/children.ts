// Child processes for the benchmark: started, tracked, measured (CPU and RSS from /proc), and all ended at exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(__dirname, '..');
const BUILD = join(ROOT, 'bench', 'results', '.build');
const live = new Set<ChildProcess>();

/**
 * Compiles a bench/ script to plain JS (imports of ../src/* pointed at dist/*), so its child process runs on bare
 * node like `node dist/cli.js` does: no ts-node in its CPU or RSS figures.
 * @example spawnTracked(process.execPath, [compileScript('baseline-relay.ts'), '--port', '8099'])
 */
export function compileScript(name: string): string {
  const source = readFileSync(join(ROOT, 'bench', name), 'utf8');
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const js = out.outputText
    .replace(/require\("\.\.\/src\//g, `require(${JSON.stringify(join(ROOT, 'dist') + '/').slice(0, -1)}`)
    .replace(/__dirname/g, JSON.stringify(join(ROOT, 'bench')));
  mkdirSync(BUILD, { recursive: true });
  const file = join(BUILD, name.replace(/\.ts$/, '.js'));
  writeFileSync(file, js);
  return file;
}

/** Spawns a child that {@link killAll} will end. `ipc` adds an IPC channel (for clients.ts). */
export function spawnTracked(cmd: string, args: readonly string[], ipc = false): ChildProcess {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  // Keep stderr for failures, and never let a full pipe stall the child.
  const tail: string[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    tail.push(d.toString());
    if (tail.length > 20) tail.shift();
  });
  (child as ChildProcess & { stderrTail: () => string }).stderrTail = () => tail.join('');
  return child;
}

export function stderrTail(child: ChildProcess): string {
  return (child as ChildProcess & { stderrTail?: () => string }).stderrTail?.() ?? '';
}

/** Resolves when `child` prints a line matching `pattern` on stdout; rejects if it exits first or on timeout. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}: ${stderrTail(child)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buffered += d.toString();
      const match = buffered.match(pattern);
      if (match) done(undefined, match);
    };
    const onExit = (code: number | null): void => done(new Error(`exited (${code}) before ${pattern}: ${stderrTail(child)}`));
    function done(err?: Error, match?: RegExpMatchArray): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout?.resume();
      if (err) reject(err);
      else resolvePromise(match!);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

/** Ends every child still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((child) => stopChild(child)));
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const child of live) child.kill('SIGKILL');
}

/**
 * Runs a bench script's `main`: an error is printed and sets exit status 1, and every child ends however the script
 * does (finished, failed, Ctrl-C: 130).
 * @example runMain(main);
 */
export function runMain(main: () => Promise<void>): void {
  process.once('SIGINT', () => void killAll().finally(() => process.exit(130)));
  process.once('exit', killAllNow);
  main()
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(async () => {
      await killAll();
      setTimeout(() => process.exit(), 300).unref();
    });
}

/** A UDP port free right now (e.g. for a server's `--webrtc-port`). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, () => {
      const { port } = socket.address();
      socket.close(() => resolvePromise(port));
    });
  });
}

/** A port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

const CLK_TCK = 100;

/** User and system CPU seconds in a /proc `stat` file (a process's or one thread's). */
function statTimes(file: string): { user: number; sys: number } {
  const stat = readFileSync(file, 'utf8');
  // Fields after the command name, which may contain spaces: start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK };
}

/** CPU seconds (user + system) used so far by process `pid`, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const { user, sys } = statTimes(`/proc/${pid}/stat`);
  return user + sys;
}

/** Where a process's CPU went, in % of one core: user and system time, and its main thread's share of the total. */
export interface CpuSplit {
  readonly total: number;
  readonly user: number;
  readonly sys: number;
  /** The main thread: JavaScript, the event loop, the syscalls it makes. */
  readonly main: number;
  /** Every other thread: V8's garbage-collection helpers and compilers, libuv's pool. */
  readonly helpers: number;
}

/** CPU seconds used so far by `pid`: user, system, and its main thread's (user + system). */
function cpuTimes(pid: number): { user: number; sys: number; main: number } {
  const { user, sys } = statTimes(`/proc/${pid}/stat`);
  const main = statTimes(`/proc/${pid}/task/${pid}/stat`);
  return { user, sys, main: main.user + main.sys };
}

/** A CPU meter with the split: `stop()` gives what `pid` used since `cpuSplitMeter(pid)`, in % of one core. */
export function cpuSplitMeter(pid: number): { stop(): CpuSplit } {
  const t0 = process.hrtime.bigint();
  const c0 = cpuTimes(pid);
  return {
    stop() {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const c1 = cpuTimes(pid);
      const pct = (a: number, b: number): number => ((a - b) / seconds) * 100;
      const total = pct(c1.user + c1.sys, c0.user + c0.sys);
      const main = pct(c1.main, c0.main);
      return { total, user: pct(c1.user, c0.user), sys: pct(c1.sys, c0.sys), main, helpers: total - main };
    },
  };
}

/** Resident set size of `pid` in MiB, from /proc/PID/status. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** A CPU meter: `stop()` gives the % of one core `pid` used since `cpuMeter(pid)`. */
export function cpuMeter(pid: number): { stop(): number } {
  const meter = cpuSplitMeter(pid);
  return { stop: () => meter.stop().total };
}
