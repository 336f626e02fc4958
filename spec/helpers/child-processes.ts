import { readdirSync, readFileSync } from 'node:fs';

/** A live (not zombie) child process of this process, as /proc shows it. */
export interface ChildInfo {
  readonly pid: number;
  readonly comm: string;
}

/**
 * The live children of this process, optionally only those whose command name is `comm` (e.g. `'ffmpeg'`), read
 * from /proc (Linux). Exited children that Node has not reaped yet (state Z) count as gone.
 */
export function childProcesses(comm?: string): ChildInfo[] {
  const children: ChildInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) !== process.pid || state === 'Z') continue;
    if (comm === undefined || name === comm) children.push({ pid: Number(entry), comm: name });
  }
  return children;
}

/** The PIDs of this process's live ffmpeg children. */
export function ffmpegChildren(): number[] {
  return childProcesses('ffmpeg').map((c) => c.pid);
}

/**
 * Waits until `condition()` holds, checking after each turn of the event loop (and a short timer, so the loop
 * does not spin); rejects after `deadlineMs`. A condition with a deadline, not a sleep.
 *
 * @example
 * await waitFor(() => ffmpegChildren().length === 0, 'ffmpeg to exit');
 */
export async function waitFor(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
}
