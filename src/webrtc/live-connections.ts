/**
 * The library's connections of every server in this process (sessions and the shared ports' holds), live or being
 * answered. The library's `cleanup()` may run only when none is left: it crashes under a connection still closing,
 * and another server in the process may still be answering.
 */

const livePeers = new Set<{ readonly released: Promise<void> }>();
let answers = 0;

/** Counts `connection` among the live ones until it has closed; returns it. */
export function live<T extends { readonly released: Promise<void> }>(connection: T): T {
  livePeers.add(connection);
  void connection.released.then(() => livePeers.delete(connection));
  return connection;
}

/** Runs `answer` counted as an answer under way, until it settles. */
export async function answering<T>(answer: () => Promise<T>): Promise<T> {
  answers++;
  try {
    return await answer();
  } finally {
    answers--;
  }
}

/** Whether no connection of this process is open or closing (one being answered may be about to be). */
export function noneLive(): boolean {
  return livePeers.size === 0;
}

/** Whether the library's `cleanup()` may run: no connection open, closing, or being answered. */
export function mayCleanUp(): boolean {
  return livePeers.size === 0 && answers === 0;
}
