import { concurrencyLimit, QueueFullError } from '../../src/server/concurrency';

/** A task the test finishes by hand. */
function task() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { run: () => done, finish };
}

describe('concurrencyLimit', () => {
  it('runs at most `limit` at once, starts the waiting in order as others finish, refuses beyond the queue', async () => {
    const run = concurrencyLimit(2, 1);
    const started: number[] = [];
    const tasks = [task(), task(), task()];
    const results = tasks.map((t, i) => run(() => (started.push(i), t.run())));
    await expect(run(() => Promise.resolve())).rejects.toBeInstanceOf(QueueFullError);
    expect(started).toEqual([0, 1]);
    tasks[1]!.finish();
    await results[1];
    expect(started).toEqual([0, 1, 2]);
    tasks[0]!.finish();
    tasks[2]!.finish();
    await Promise.all(results);
  });

  it('a failing task frees its place too', async () => {
    const run = concurrencyLimit(1, 1);
    const failing = run(() => Promise.reject(new Error('no')));
    const next = run(() => Promise.resolve('ran'));
    await expect(failing).rejects.toThrow('no');
    await expect(next).resolves.toBe('ran');
  });
});
