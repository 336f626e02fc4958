import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** The first ```js block of the README's "Library" section: the example a newcomer copies. */
function libraryExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README has no js example under "## Library"');
  return match[1]!;
}

describe('README', () => {
  it('has a library example of at most ~10 lines of code that runs as written and prints picture types and sizes', async () => {
    const code = libraryExample();
    expect(code.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length).toBeLessThanOrEqual(10);
    // `require('pistream')` resolves to the built package (package.json "exports"), as it would for a user.
    expect(existsSync(join(root, 'dist', 'index.js'))).toBe(true);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', code], { cwd: root, timeout: 20_000 }, (err, out, errOut) =>
        err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
      ),
    );
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(48);
    for (const line of lines) expect(line).toMatch(/^#\d+ [IP]( keyframe)? \d+ bytes, -?\d+ ms after capture$/);
    // Frames that arrive while ffmpeg starts wait for it, so the numbers start #0, #1 (frame 1 used to be dropped
    // then); after that latest wins, so a busy machine may skip a number, but never goes back.
    const seqs = lines.map((line) => Number(/^#(\d+)/.exec(line)![1]));
    expect(seqs.slice(0, 2)).toEqual([0, 1]);
    seqs.slice(1).forEach((seq, i) => expect(seq).toBeGreaterThan(seqs[i]!));
    // GOP 12: the 1st, 13th, 25th and 37th pictures are the keyframes, and only they.
    const keyframes = lines.flatMap((line, i) => (line.includes('keyframe') ? [i] : []));
    expect(keyframes).toEqual([0, 12, 24, 36]);
  });
});
