import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SOURCE_KIND_IDS } from '../../src/sources/source-kinds';

const SRC = join(__dirname, '..', '..', 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? tsFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** A source kind's name compared, switched on, or listed as a string outside comments. */
function kindNameUses(text: string): string[] {
  const names = SOURCE_KIND_IDS.join('|');
  const compare = new RegExp(`(===|!==|case)\\s*'(${names})'|'(${names})'\\s*(===|!==)|\\[\\s*'(${names})'\\s*,`, 'g');
  return text
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
    .flatMap((line) => line.match(compare) ?? []);
}

describe('source kinds are known only in src/sources', () => {
  it('finds a compare in a line that has one (the check can fail)', () => {
    expect(kindNameUses("if (kind === 'test') x();\n  case 'v4l2':\nconst KINDS = ['rpicam', 'v4l2'];")).toHaveLength(3);
    expect(kindNameUses(" * `{ kind: 'test' }` in a comment\nif (drawsBarcode(kind)) x();")).toEqual([]);
  });

  it('has no source-kind name compared or listed outside src/sources (the registry answers instead)', () => {
    const outside = tsFiles(SRC).filter((file) => !relative(SRC, file).startsWith('sources'));
    expect(outside.length).toBeGreaterThan(10);
    const found = outside.flatMap((file) => kindNameUses(readFileSync(file, 'utf8')).map((use) => `${relative(SRC, file)}: ${use}`));
    expect(found).toEqual([]);
  });
});
