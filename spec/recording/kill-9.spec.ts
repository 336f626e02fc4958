import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecorderStats } from '../../src/recording/recorder';
import { waitFor } from '../helpers/child-processes';
import { TIMESTAMP_MODULO } from '../../src/formats/mpeg-timestamps';
import { demuxPes } from '../helpers/mpegts-demux';
import { decodeFile, segmentFiles, tsLayout } from '../helpers/recordings';
import { exited } from '../helpers/recording-spawn';

describe('a recording server killed with SIGKILL mid-segment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pistream-kill9-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves every segment playable: the closed ones whole, the open one up to its last picture', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'helpers', 'record-child.ts'), dir],
      {
        cwd: join(__dirname, '..', '..'),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
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
      await waitFor(
        () => {
          const files = segmentFiles(dir);
          return files.length >= 3 && statSync(files[files.length - 1]!).size > 50_000;
        },
        'the open segment to fill',
        10_000,
      );
      child.kill('SIGKILL');
      await exited(child);
    } finally {
      child.kill('SIGKILL');
    }

    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const played = await Promise.all(files.map(decodeFile));
    const written = files.map((file) => readFileSync(file));
    // The capture time (90 kHz PTS) of each segment's first picture.
    const starts = written.map((bytes) => demuxPes(bytes)[0]?.pts);
    for (const [i, result] of played.entries()) {
      const layout = tsLayout(written[i]!);
      expect([files[i], result.errors]).toEqual([files[i], '']);
      // Every segment starts where a player can (tables, then a keyframe) and holds pictures.
      expect([files[i], layout.startsWithTables, layout.firstIsKeyframe]).toEqual([files[i], true, true]);
      expect(layout.pictures).toBeGreaterThan(0);
      // Every picture written plays: the closed segments whole, the open one up to its last picture (a picture is
      // one write, so the kill cannot leave half of one). Counted against what the file holds, not against a
      // rate: on a loaded machine the source skips late frames and the encoder drops some, and a second of
      // capture time then holds fewer pictures.
      expect([files[i], result.pictures]).toEqual([files[i], layout.pictures]);
      if (i < files.length - 1) {
        // A closed segment runs from its keyframe to the first keyframe a second (segmentMs) or more of capture
        // time later, where the next segment starts.
        const span = (starts[i + 1]! - starts[i]! + TIMESTAMP_MODULO) % TIMESTAMP_MODULO;
        expect(span).toBeGreaterThanOrEqual(90_000);
      }
    }
  }, 60_000);
});
