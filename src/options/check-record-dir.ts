import { closeSync, fsyncSync, mkdirSync, openSync, statfsSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Why a recording folder cannot be used: `problem` is the one line's reason; `dir` is the folder as given. */
export class RecordDirError extends Error {
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(`pistream: record ${dir}: ${problem}`);
    this.name = 'RecordDirError';
  }
}

/**
 * Filesystems that hold no files (the kernel's views of itself), by their `statfs` magic: a recording there never
 * lands on a disk, and a recursive `mkdir` under /proc never even returns (Node spins a core on it).
 */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6e736673, 'nsfs'],
  [0x62646576, 'bdev'],
]);

/** An fs error as the one line says it. */
function problemOf(err: unknown, doing: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM')
    return `${doing}: permission denied (run pistream as a user who may write there, or choose another folder)`;
  if (code === 'EROFS') return `${doing}: the filesystem is read-only`;
  if (code === 'ENOSPC') return `${doing}: the disk is full`;
  if (code === 'ENOTDIR') return `${doing}: a part of the path is a file, not a folder`;
  return `${doing}: ${code ?? String(err)}`;
}

/** The nearest folder at or above `path` that exists (`/` at worst), and the folders below it still to make. */
function existingAncestor(path: string): { at: string; missing: string[] } {
  const missing: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    try {
      if (!statSync(at).isDirectory()) throw new RecordDirError(path, `${at} is a file, not a folder`);
      return { at, missing };
    } catch (err) {
      // ENOTDIR: a file further up, which the next step names.
      const code = (err as NodeJS.ErrnoException).code;
      if (err instanceof RecordDirError || (code !== 'ENOENT' && code !== 'ENOTDIR') || at === dirname(at)) throw err;
      missing.unshift(at);
    }
  }
}

/**
 * Checks at start that recordings can be written to `dir` (a relative one is taken from the working directory, as
 * the plugin's options schema resolves it; the plugin passes it already absolute). Makes the
 * missing folders one level at a time (no recursive `mkdir`, which never returns under /proc), refuses a folder on a
 * kernel pseudo-filesystem, and writes, syncs and removes a probe file. Returns the absolute folder; throws a
 * {@link RecordDirError} naming what is wrong.
 *
 * @example
 * const dir = checkRecordDir('rec'); // '/home/pi/pistream/rec', made if missing
 */
export function checkRecordDir(dir: string): string {
  const absolute = resolve(dir);
  const fail = (problem: string): never => {
    throw new RecordDirError(dir, problem);
  };
  let found: { at: string; missing: string[] };
  try {
    found = existingAncestor(absolute);
  } catch (err) {
    if (err instanceof RecordDirError) throw new RecordDirError(dir, err.problem);
    return fail(problemOf(err, `cannot look at ${absolute}`));
  }
  const pseudo = PSEUDO_FILESYSTEMS.get(statfsSync(found.at).type);
  if (pseudo) fail(`${found.at} is on ${pseudo}, a view of the kernel, not a disk: choose a folder on a disk`);
  for (const folder of found.missing) {
    try {
      mkdirSync(folder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail(problemOf(err, `cannot make ${folder}`));
    }
  }
  const probe = join(absolute, `.pistream-write-check-${process.pid}`);
  try {
    const fd = openSync(probe, 'wx');
    try {
      writeSync(fd, 'pistream');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (err) {
    fail(problemOf(err, `cannot write in ${absolute}`));
  }
  return absolute;
}
