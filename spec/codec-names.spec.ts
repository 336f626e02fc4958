// Codecs are values: outside src/codecs/ nothing branches on a codec's name, so a new codec is a folder and a
// registry line (spec/toy-codec.spec.ts), not a hunt for every `=== 'h264'`. This holds the rule over src/.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CODECS } from '../src/codecs';

const SRC = path.resolve(__dirname, '..', 'src');

/** The source without its comments (a block or line comment may name a codec freely), strings kept. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Lines that compare with, switch on, look up or key by a codec's name: `=== 'h264'`, `case 'mpeg1'`, `{ h264: … }`. */
function nameCompares(text: string, id: string): string[] {
  const quoted = `['"\`]${id}['"\`]`;
  const patterns = [
    new RegExp(`[!=]==?\\s*${quoted}`),
    new RegExp(`${quoted}\\s*[!=]==?`),
    new RegExp(`\\bcase\\s+${quoted}`),
    new RegExp(`\\.includes\\(\\s*${quoted}`),
    new RegExp(`\\[\\s*${quoted}\\s*\\]`),
    new RegExp(`(?:^\\s*|[{,]\\s*)(?:${id}|${quoted})\\s*:(?!:)`),
  ];
  return withoutComments(text)
    .split('\n')
    .filter((line) => patterns.some((p) => p.test(line)));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

describe('codec names', () => {
  it('no file outside src/codecs/ compares, switches on or keys by a codec name', () => {
    const found = tsFiles(SRC)
      .filter((file) => !file.startsWith(path.join(SRC, 'codecs') + path.sep))
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        return CODECS.flatMap((codec) => nameCompares(text, codec.id).map((line) => `${path.relative(SRC, file)}: ${line.trim()}`));
      });
    expect(found).toEqual([]);
  });

  it('the check catches each kind of compare (and not a comment)', () => {
    const bad = [
      "if (codec === 'h264') go();",
      "const same = 'mpeg1' !== id;",
      "  case 'h264':",
      "if (RECORDABLE.includes('mpeg1')) x();",
      "const demuxer = DEMUXERS['h264'];",
      "const table = { mpeg1: 'mpegvideo', h264: 'h264' };",
      '  h264: 1,',
      "const byId = { 'mpeg1': 1 };",
    ];
    expect(bad.map((line) => nameCompares(line, 'h264').length + nameCompares(line, 'mpeg1').length > 0)).toEqual(bad.map(() => true));
    const fine = ["// codec === 'h264'", '/* { h264: 1 } */', "const args = ['--codec', 'h264'];", "label: 'H.264 (h264)',"];
    expect(fine.flatMap((line) => [...nameCompares(line, 'h264'), ...nameCompares(line, 'mpeg1')])).toEqual([]);
  });
});
