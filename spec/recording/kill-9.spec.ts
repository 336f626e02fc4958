import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecorderStats } from '../../src/recording/recorder';
import { waitFor } from '../helpers/child-processes';
import { decodeFile, segmentFiles } from '../helpers/recordings';
import { exited } from '../helpers/recording-spawn';

describe('a recording server killed with SIGKILL mid-segment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pistream-kill9-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves every segment playable: the closed ones whole, the open one up to its last picture', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'helpers', 'record-child.ts'), dir], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stats: RecorderStats | undefined;
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      if (lines.length) stats = JSON.parse(lines[lines.length - 1]!) as RecorderStats;
    });
    try {
      // Three segments begun, and the third has pictures in it: kill it in the middle of that one.
      await waitFor(() => (stats?.segments ?? 0) >= 3, 'three segments', 30_000);
      await waitFor(() => {
        const files = segmentFiles(dir);
        return files.length >= 3 && statSync(files[files.length - 1]!).size > 50_000;
      }, 'the open segment to fill', 10_000);
      child.kill('SIGKILL');
      await exited(child);
    } finally {
      child.kill('SIGKILL');
    }

    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const played = await Promise.all(files.map(decodeFile));
    for (const [i, result] of played.entries()) {
      expect([files[i], result.errors]).toEqual([files[i], '']);
      // A closed segment is a second from a keyframe at 24 fps (a picture or two fewer if the encoder dropped one).
      if (i < files.length - 1) expect(result.pictures).toBeGreaterThanOrEqual(20);
      else expect(result.pictures).toBeGreaterThan(0);
    }
  }, 60_000);
});
