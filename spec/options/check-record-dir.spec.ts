import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { checkRecordDir, RecordDirError } from '../../src/options/check-record-dir';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pistream-recdir-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What checkRecordDir threw, as a RecordDirError. */
function refusal(given: string): RecordDirError {
  const err = (() => {
    try {
      checkRecordDir(given);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(err).toBeInstanceOf(RecordDirError);
  return err as RecordDirError;
}

describe('checkRecordDir', () => {
  it('takes a folder that exists, leaving nothing behind (the probe file is removed)', () => {
    expect(checkRecordDir(dir)).toBe(dir);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('makes missing folders one level at a time, and gives the absolute path of a relative one', () => {
    const nested = join(dir, 'a', 'b', 'c');
    expect(checkRecordDir(relative(process.cwd(), nested))).toBe(nested);
    expect(statSync(nested).isDirectory()).toBe(true);
  });

  it('refuses a folder on a kernel pseudo-filesystem at once, saying which (a recursive mkdir under /proc never returns)', () => {
    expect(refusal('/proc/pistream-rec')).toMatchObject({
      dir: '/proc/pistream-rec',
      problem: '/proc is on proc, a view of the kernel, not a disk: choose a folder on a disk',
    });
    expect(refusal('/sys/kernel/pistream').problem).toBe(
      '/sys/kernel is on sysfs, a view of the kernel, not a disk: choose a folder on a disk',
    );
    expect(existsSync('/proc/pistream-rec')).toBe(false);
  });

  it('refuses a file given as the folder, or a file on its path, naming it', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'x');
    expect(refusal(file)).toMatchObject({ dir: file, problem: `${file} is a file, not a folder` });
    expect(refusal(join(file, 'rec')).problem).toBe(`${file} is a file, not a folder`);
    expect(refusal(file).message).toBe(`pistream: record ${file}: ${file} is a file, not a folder`);
  });

  it('takes a folder made meanwhile by someone else (EEXIST is no failure)', () => {
    mkdirSync(join(dir, 'rec'));
    expect(checkRecordDir(join(dir, 'rec'))).toBe(join(dir, 'rec'));
  });
});
