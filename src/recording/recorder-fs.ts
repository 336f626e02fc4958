import { lstat, mkdir, open, readdir, statfs, unlink } from 'node:fs/promises';

/** One segment file open for writing. */
export interface SegmentFile {
  /** Writes all of `bytes` at the end of the file. */
  write(bytes: Buffer): Promise<void>;
  /** fsync: what was written survives a power cut. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** What the recorder does to the disk, injectable (a write that fails with ENOSPC, a clock-driven catalogue). */
export interface RecorderFs {
  /** Creates the directory and its parents if missing. */
  mkdir(dir: string): Promise<void>;
  /** Creates a new file for writing; fails with EEXIST when it exists (an earlier segment is never overwritten). */
  create(path: string): Promise<SegmentFile>;
  readdir(dir: string): Promise<string[]>;
  /** lstat: a symlink is not a file here. */
  stat(path: string): Promise<{ readonly size: number; readonly mtimeMs: number; isFile(): boolean }>;
  unlink(path: string): Promise<void>;
  /** fsyncs a directory, so a new file's entry survives a power cut (best effort: some file systems refuse). */
  syncDir(dir: string): Promise<void>;
  /** The free and total bytes of the file system holding `dir` (for the free-space floor); absent: no floor. */
  statfs?(dir: string): Promise<{ readonly free: number; readonly total: number }>;
}

/** The real file system (`node:fs/promises`), writing through the thread pool: the event loop never waits on the disk. */
export const nodeRecorderFs: RecorderFs = {
  mkdir: async (dir) => {
    await mkdir(dir, { recursive: true });
  },
  create: async (path) => {
    const handle = await open(path, 'wx');
    return {
      write: async (bytes) => {
        for (let at = 0; at < bytes.length;) at += (await handle.write(bytes, at, bytes.length - at)).bytesWritten;
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  readdir: (dir) => readdir(dir),
  stat: (path) => lstat(path),
  unlink: (path) => unlink(path),
  statfs: async (dir) => {
    const stats = await statfs(dir);
    // bavail: what an unprivileged writer may still use (root's reserve does not count).
    return { free: stats.bavail * stats.bsize, total: stats.blocks * stats.bsize };
  },
  syncDir: async (dir) => {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
