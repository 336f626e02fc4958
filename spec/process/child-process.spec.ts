import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { lastValueFrom, toArray, type Observable, type Subscription } from 'rxjs';
import { ChildProcessError, fromChildProcess, liveChildCount, type ChildProcessOptions } from '../../src/process/child-process';
import { exited, guardChildren, pidGone, recordingSpawn } from '../helpers/recording-spawn';

const NODE = process.execPath;
/** Runs `script` in a fresh node: the small real program each test needs. */
const node = (script: string, options: ChildProcessOptions = {}): Observable<Buffer> => fromChildProcess(NODE, ['-e', script], options);

/** Every child any test started, so none outlives a failed test. */
const children: ChildProcess[] = [];
const onSpawn = (child: ChildProcess): void => {
  children.push(child);
};

const liveAtStart = guardChildren(children);

/** Collects what a subscription saw, resolving when it errors or completes. */
function run(source: Observable<Buffer>) {
  const chunks: Buffer[] = [];
  const waiters: { text: string; resolve: (all: string) => void }[] = [];
  const text = (): string => Buffer.concat(chunks).toString('utf8');
  let subscription!: Subscription;
  const done = new Promise<{ error?: unknown; completed: boolean }>((resolve) => {
    subscription = source.subscribe({
      next: (chunk) => {
        chunks.push(chunk);
        for (const w of waiters.splice(0)) {
          if (text().includes(w.text)) w.resolve(text());
          else waiters.push(w);
        }
      },
      error: (error: unknown) => resolve({ error, completed: false }),
      complete: () => resolve({ completed: true }),
    });
  });
  /** Resolves with the output so far once it contains `wanted`. */
  const output = (wanted: string) =>
    new Promise<string>((resolve) => {
      if (text().includes(wanted)) resolve(text());
      else waiters.push({ text: wanted, resolve });
    });
  return { chunks, done, output, subscription: () => subscription };
}

describe('fromChildProcess', () => {
  it('emits the stdout chunks and completes when the program exits 0', async () => {
    const chunks = await lastValueFrom(
      node("process.stdout.write('one,'); setTimeout(() => process.stdout.write('two'), 20)", { onSpawn }).pipe(toArray()),
    );
    expect(chunks.every((c) => Buffer.isBuffer(c))).toBe(true);
    expect(Buffer.concat(chunks).toString()).toBe('one,two');
  });

  it('passes arguments as an array, never through a shell', async () => {
    const out = await lastValueFrom(
      fromChildProcess(NODE, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '$HOME', 'a b;c'], {
        onSpawn,
      }).pipe(toArray()),
    );
    expect(JSON.parse(Buffer.concat(out).toString())).toEqual(['$HOME', 'a b;c']);
  });

  it('uses the injected spawn and merges env over process.env', async () => {
    const rec = recordingSpawn();
    const out = await lastValueFrom(
      node('process.stdout.write(process.env.PISTREAM_X + ":" + typeof process.env.PATH)', {
        spawn: rec.spawn,
        env: { PISTREAM_X: 'forty-two' },
        onSpawn,
      }).pipe(toArray()),
    );
    expect(Buffer.concat(out).toString()).toBe('forty-two:string');
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.command).toBe(NODE);
  });

  it('errors with a ChildProcessError naming the program, exit code and last stderr lines on exit 3', async () => {
    const { done, chunks } = run(
      node("process.stdout.write('out'); console.error('l1\\nl2\\nl3\\nl4'); process.stderr.write('tail'); process.exitCode = 3", {
        onSpawn,
      }),
    );
    const { error } = await done;
    expect(Buffer.concat(chunks).toString()).toBe('out');
    expect(error).toBeInstanceOf(ChildProcessError);
    const err = error as ChildProcessError;
    expect(err.name).toBe('ChildProcessError');
    expect(err.command).toBe(NODE);
    expect(err.exitCode).toBe(3);
    expect(err.signal).toBeNull();
    // The partial last line (no newline) counts too; the message shows the last three.
    expect(err.stderr).toEqual(['l1', 'l2', 'l3', 'l4', 'tail']);
    expect(err.message).toBe(`${NODE} exited with code 3: l3 | l4 | tail`);
  });

  it('keeps only the last stderrLines lines', async () => {
    const { error } = await run(
      node('for (let i = 0; i < 50; i++) console.error("line " + i); process.exit(1)', { onSpawn, stderrLines: 4 }),
    ).done;
    expect((error as ChildProcessError).stderr).toEqual(['line 46', 'line 47', 'line 48', 'line 49']);
  });

  it('leaves the stderrNoise lines out, so the lines saying why it failed are the ones its message shows', async () => {
    const script = 'console.error("why 1"); console.error("why 2"); console.error("noise a"); console.error("noise b"); process.exit(1)';
    const { error } = await run(node(script, { onSpawn, stderrNoise: /^noise / })).done;
    expect((error as ChildProcessError).stderr).toEqual(['why 1', 'why 2']);
    expect((error as Error).message).toBe(`${NODE} exited with code 1: why 1 | why 2`);
  });

  it('names the signal when the program is killed', async () => {
    const { error } = await run(node("process.kill(process.pid, 'SIGKILL')", { onSpawn })).done;
    expect((error as ChildProcessError).signal).toBe('SIGKILL');
    expect((error as ChildProcessError).exitCode).toBeNull();
    expect((error as Error).message).toBe(`${NODE} was killed by SIGKILL`);
  });

  it('errors with "program not found" when the program is missing', async () => {
    const { error } = await run(fromChildProcess('/nonexistent/pistream-no-such-program', [], { onSpawn })).done;
    expect(error).toBeInstanceOf(ChildProcessError);
    expect((error as Error).message).toBe('/nonexistent/pistream-no-such-program: program not found (is it installed and on PATH?)');
    expect((error as ChildProcessError).exitCode).toBeNull();
  });

  it('hands the stdin hook the child stdin and tears its teardown down when the child exits', async () => {
    const teardown = jest.fn();
    let got: Writable | undefined;
    const out = await lastValueFrom(
      node('process.stdin.pipe(process.stdout)', {
        onSpawn,
        stdin: (stdin) => {
          got = stdin;
          stdin.end('echo me');
          return teardown;
        },
      }).pipe(toArray()),
    );
    expect(got).toBeDefined();
    expect(Buffer.concat(out).toString()).toBe('echo me');
    expect(teardown).toHaveBeenCalledTimes(1);
  });

  it('gives the child /dev/null as stdin without a hook', async () => {
    const out = await lastValueFrom(
      node("let n = 0; process.stdin.on('data', (d) => (n += d.length)).on('end', () => process.stdout.write('read ' + n))", {
        onSpawn,
      }).pipe(toArray()),
    );
    expect(Buffer.concat(out).toString()).toBe('read 0');
  });

  it('ends the stream with the error the stdin hook fails with, and kills the child', async () => {
    const teardown = jest.fn();
    const boom = new Error('feeding failed');
    const { done } = run(
      node('setInterval(() => {}, 1000)', {
        onSpawn,
        stdin: (_stdin, fail) => {
          setTimeout(() => fail(boom), 10);
          return { unsubscribe: teardown };
        },
      }),
    );
    expect((await done).error).toBe(boom);
    expect(teardown).toHaveBeenCalledTimes(1);
    await exited(children[0]!);
    expect(children[0]!.signalCode).toBe('SIGTERM');
  });

  it('kills the child with SIGTERM on unsubscribe, runs the stdin teardown first, and the PID is gone', async () => {
    const order: string[] = [];
    let child!: ChildProcess;
    const r = run(
      node("process.stdout.write('ready'); setInterval(() => {}, 1000)", {
        onSpawn: (c) => {
          onSpawn(c);
          child = c;
          c.once('exit', () => order.push('exit'));
        },
        stdin: () => () => order.push('stdin teardown'),
      }),
    );
    await r.output('ready');
    expect(liveChildCount()).toBe(liveAtStart() + 1);
    const pid = child.pid!;
    expect(pidGone(pid)).toBe(false);
    r.subscription().unsubscribe();
    expect(order).toEqual(['stdin teardown']);
    await exited(child);
    expect(order).toEqual(['stdin teardown', 'exit']);
    expect(child.signalCode).toBe('SIGTERM');
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(liveChildCount()).toBe(liveAtStart());
  });

  it('SIGKILLs a child that ignores SIGTERM after killTimeoutMs', async () => {
    let child!: ChildProcess;
    const r = run(
      node("process.on('SIGTERM', () => process.stdout.write('ignored')); process.stdout.write('ready'); setInterval(() => {}, 1000)", {
        killTimeoutMs: 100,
        onSpawn: (c) => {
          onSpawn(c);
          child = c;
        },
      }),
    );
    await r.output('ready');
    const pid = child.pid!;
    r.subscription().unsubscribe();
    await exited(child);
    expect(child.signalCode).toBe('SIGKILL');
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(liveChildCount()).toBe(liveAtStart());
  });

  it('emits nothing more after unsubscribe, even while the child drains its output', async () => {
    let child!: ChildProcess;
    const r = run(
      node(
        "process.on('SIGTERM', () => { process.stdout.write('x'.repeat(1 << 20), () => process.exit(0)); }); process.stdout.write('ready'); setInterval(() => {}, 1000)",
        {
          onSpawn: (c) => {
            onSpawn(c);
            child = c;
          },
        },
      ),
    );
    await r.output('ready');
    const seen = r.chunks.length;
    r.subscription().unsubscribe();
    await exited(child);
    // It exited 0 by itself after writing 1 MiB into a pipe nobody subscribes to: the teardown drained it.
    expect(child.exitCode).toBe(0);
    expect(r.chunks).toHaveLength(seen);
  });

  it('is cold: each subscription starts its own child', async () => {
    const source = node('process.stdout.write(String(process.pid))', { onSpawn });
    const [a, b] = await Promise.all([lastValueFrom(source), lastValueFrom(source)]);
    expect(a.toString()).not.toBe(b.toString());
    expect(children).toHaveLength(2);
  });
});
