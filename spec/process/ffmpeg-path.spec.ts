import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { resolveFfmpeg, which } from '../../src/process/ffmpeg-path';

describe('which and resolveFfmpeg', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pistream-which-'));
    // A folder named like the program first on PATH (folders have the x bit too), the program itself after it.
    mkdirSync(join(dir, 'a', 'rpicam-vid'), { recursive: true });
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'b', 'rpicam-vid'), '#!/bin/sh\n');
    chmodSync(join(dir, 'b', 'rpicam-vid'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds executable files only, not folders of the same name', () => {
    expect(which('rpicam-vid', [join(dir, 'a'), join(dir, 'b')].join(delimiter))).toBe(join(dir, 'b', 'rpicam-vid'));
    expect(which('rpicam-vid', join(dir, 'a'))).toBeUndefined();
  });

  it('refuses a folder given as ffmpeg', () => {
    expect(() => resolveFfmpeg(dir)).toThrow(`ffmpeg not found or not executable at ${dir} (from --ffmpeg)`);
  });
});
