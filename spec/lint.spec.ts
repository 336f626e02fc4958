// Self-test for the seam rules in eslint.config.mjs (enforced by `npm run lint`, part of `npm test`): a codec name
// used to branch or key is an error everywhere but src/codecs, a source kind everywhere but src/sources, and the
// rules must keep catching each shape of it while leaving types and plain values alone. ESLint loads its config with
// a dynamic import that jest's sandbox cannot run, so the pieces are linted in a child process
// (spec/helpers/lint-text.mjs), all in one run.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const LINT_TEXT = path.join(ROOT, 'spec', 'helpers', 'lint-text.mjs');

interface Message {
  readonly ruleId: string | null;
  readonly message: string;
  readonly line: number;
}

interface Piece {
  readonly text: string;
  readonly filePath: string;
}

/** Lints every piece with the project's config (without type information); resolves with each one's messages. */
function lintPieces(pieces: readonly Piece[]): Promise<Message[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LINT_TEXT], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`lint-text.mjs exited with ${code}:\n${stderr}`));
      resolve(JSON.parse(stdout) as Message[][]);
    });
    child.stdin.end(JSON.stringify(pieces));
  });
}

const CODEC = /^A codec named outside src\/codecs/;
const SOURCE = /^A source kind named outside src\/sources/;

/** A piece of code, where it is linted, and the seam messages it must get (one pattern per expected error). */
interface Case {
  readonly name: string;
  readonly filePath: string;
  readonly text: string;
  readonly expected: readonly RegExp[];
}

const COMPARE_CODEC = "export const isH264 = (codec: string): boolean => codec === 'h264';\n";
const COMPARE_KIND = "export const isCamera = (kind: string): boolean => kind === 'rpicam';\n";

const CASES: readonly Case[] = [
  // Where a codec name may be compared: only in src/codecs (and the harnesses).
  { name: 'codec compared in src/server', filePath: 'src/server/x.ts', text: COMPARE_CODEC, expected: [CODEC] },
  { name: 'codec compared in src/sources', filePath: 'src/sources/x.ts', text: COMPARE_CODEC, expected: [CODEC] },
  { name: 'codec compared at the top of src', filePath: 'src/x.ts', text: COMPARE_CODEC, expected: [CODEC] },
  { name: 'codec compared in examples', filePath: 'examples/x.ts', text: COMPARE_CODEC, expected: [CODEC] },
  { name: 'codec compared in src/codecs', filePath: 'src/codecs/h264/x.ts', text: COMPARE_CODEC, expected: [] },
  { name: 'codec compared in spec', filePath: 'spec/x.spec.ts', text: COMPARE_CODEC, expected: [] },
  { name: 'codec compared in bench', filePath: 'bench/x.ts', text: COMPARE_CODEC, expected: [] },
  {
    name: 'codec compared in the page (ES5)',
    filePath: 'public/x.js',
    text: "var isH264 = function (state) { return state.codec === 'h264'; };\nisH264({});\n",
    expected: [CODEC],
  },
  // Each shape of branching on or keying by a codec name.
  {
    name: 'loose inequality',
    filePath: 'src/server/x.ts',
    text: "export const f = (codec: string): boolean => codec != 'mpeg1';\n",
    expected: [CODEC],
  },
  {
    name: 'switch case',
    filePath: 'src/server/x.ts',
    text: "export function f(codec: string): number {\n  switch (codec) {\n    case 'mpeg1':\n      return 1;\n    default:\n      return 0;\n  }\n}\n",
    expected: [CODEC],
  },
  {
    name: 'object keyed by codec',
    filePath: 'src/server/x.ts',
    text: "export const DEMUXERS = { mpeg1: 'mpegvideo', 'h264': 'h264' };\n",
    expected: [CODEC, CODEC],
  },
  {
    name: 'table read by codec',
    filePath: 'src/server/x.ts',
    text: "export const f = (t: Record<string, number>): number => (t.h264 ?? 0) + (t['mpeg1'] ?? 0);\n",
    expected: [CODEC, CODEC],
  },
  {
    name: 'list of codecs',
    filePath: 'src/formats/x.ts',
    text: "export const RECORDABLE: readonly string[] = ['mpeg1', 'h264'];\n",
    expected: [CODEC, CODEC],
  },
  {
    name: "a program's argument list naming its own format",
    filePath: 'src/publish/x.ts',
    text: "export const args = ['-f', 'h264', '-i', 'pipe:0', '--codec', 'mpeg1'];\n",
    expected: [],
  },
  {
    name: 'membership tests',
    filePath: 'src/server/x.ts',
    text: "export const f = (l: string[], o: object): boolean => l.includes('h264') || 'mpeg1' in o;\n",
    expected: [CODEC, CODEC],
  },
  {
    name: 'type keyed by codec',
    filePath: 'src/server/x.ts',
    text: 'export interface PerCodec {\n  readonly h264: number;\n}\n',
    expected: [CODEC],
  },
  {
    name: 'codec names in a type, as a value, and an unrelated word',
    filePath: 'src/server/x.ts',
    text: "export type Name = 'h264' | 'mpeg1';\nexport const options = { codec: 'h264' as Name, format: 'h264x' };\n",
    expected: [],
  },
  // Source kinds: only in src/sources.
  { name: 'source kind compared in src/server', filePath: 'src/server/x.ts', text: COMPARE_KIND, expected: [SOURCE] },
  { name: 'source kind compared in src/config', filePath: 'src/config/x.ts', text: COMPARE_KIND, expected: [SOURCE] },
  { name: 'source kind compared in src/codecs', filePath: 'src/codecs/x.ts', text: COMPARE_KIND, expected: [SOURCE] },
  { name: 'source kind compared in src/sources', filePath: 'src/sources/x.ts', text: COMPARE_KIND, expected: [] },
  {
    name: 'the plain-word kinds compared',
    filePath: 'src/server/x.ts',
    text: "export const f = (k: string): boolean => k === 'file' || k !== 'auto';\nexport function g(k: string): number {\n  switch (k) {\n    case 'test':\n      return 1;\n    default:\n      return 0;\n  }\n}\n",
    expected: [SOURCE, SOURCE, SOURCE],
  },
  {
    name: 'the plain-word kinds as keys are ordinary words',
    filePath: 'src/server/x.ts',
    text: 'export const f = (p: { file?: string }): object => ({ file: p.file, test: 1, auto: true });\n',
    expected: [],
  },
  {
    name: 'page table keyed by camera kinds (ES5)',
    filePath: 'public/x.js',
    text: 'var CAMERAS = { rpicam: true, v4l2: true };\nCAMERAS.x = 1;\n',
    expected: [SOURCE, SOURCE],
  },
  {
    name: 'list of source kinds',
    filePath: 'src/options/x.ts',
    text: "export const KINDS = ['auto', 'test', 'raspivid'] as const;\n",
    expected: [SOURCE],
  },
  {
    name: 'a codec compared in src/sources is still a codec',
    filePath: 'src/sources/x.ts',
    text: "export const f = (codec: string, kind: string): boolean => codec === 'h264' && kind === 'raspivid';\n",
    expected: [CODEC],
  },
];

describe('npm test', () => {
  const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

  it('lints the whole tree and checks its formatting, after the type check and before jest', () => {
    expect(scripts.lint).toMatch(/^eslint \. /);
    expect(scripts['format:check']).toBe('prettier --check .');
    const test = scripts.test ?? '';
    const at = (command: string): number => test.indexOf(command);
    expect(at('tsc --noEmit')).toBeGreaterThan(-1);
    expect(at('npm run lint')).toBeGreaterThan(at('tsc --noEmit'));
    expect(at('npm run format:check')).toBeGreaterThan(at('tsc --noEmit'));
    expect(at('npm run lint')).toBeLessThan(test.lastIndexOf('jest'));
    expect(at('npm run format:check')).toBeLessThan(test.lastIndexOf('jest'));
  });
});

describe('eslint.config.mjs', () => {
  let results: Message[][];

  beforeAll(async () => {
    results = await lintPieces([
      ...CASES.map(({ text, filePath }) => ({ text, filePath })),
      // The page stays plain ES5: an arrow function does not parse there.
      { text: 'var f = () => 1;\nf();\n', filePath: 'public/x.js' },
    ]);
  }, 90_000);

  it.each(CASES.map((c, index) => [c.name, c, index] as const))('%s', (_name, { expected }, index) => {
    const messages = results[index]!;
    expect(messages.map((m) => m.ruleId)).toEqual(expected.map(() => 'no-restricted-syntax'));
    messages.forEach((m, i) => expect(m.message).toMatch(expected[i]!));
  });

  it('parses the page as ES5', () => {
    const messages = results[CASES.length]!;
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ ruleId: null, line: 1 });
    expect(messages[0]!.message).toMatch(/Parsing error/);
  });
});
