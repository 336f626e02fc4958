/** A queue that had no room: the caller should answer "busy" (429), not wait. */
export class QueueFullError extends Error {
  constructor() {
    super('too many waiting');
    this.name = 'QueueFullError';
  }
}

/**
 * Runs at most `limit` tasks at once; up to `queue` more wait their turn in order, and any beyond are refused with
 * {@link QueueFullError}. For work that holds a scarce resource while it runs (scrypt: 16 MiB and a thread-pool
 * thread each, shared with file I/O).
 * @example
 * const run = concurrencyLimit(2, 64);
 * const key = await run(() => scrypt(password, salt, 32));
 */
export function concurrencyLimit(limit: number, queue: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const next = (): void => {
    running--;
    waiting.shift()?.();
  };
  return <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit && waiting.length >= queue) return Promise.reject(new QueueFullError());
    const start = (): Promise<T> => {
      running++;
      return task().finally(next);
    };
    if (running < limit) return start();
    return new Promise<T>((resolve, reject) =>
      waiting.push(() => {
        start().then(resolve, reject);
      }),
    );
  };
}
