// docs/architecture.md is the code map: a reader opens the files and functions it names. This keeps it honest: every
// file it names in backticks exists, and every function or method it names with `()` is declared in the code.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as rxjs from 'rxjs';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const DOC = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');

/** Folders of the repository a backticked path may start with (not `dist/`: built, and not `vendor/`: served). */
const TREE = ['src', 'public', 'spec', 'types', 'bench', 'soak', 'examples', 'docs', '.ci'];

/** Names the map gives as files that are not in the tree, and where they are. */
const OUTSIDE: Readonly<Record<string, () => string>> = {
  // The original pistreaming client, from the npm package the legacy spec loads.
  'jsmpg.js': () => require.resolve('jsmpeg/jsmpg.js'),
  // The page's JSMpeg, served at /vendor/ from the npm package (found as src/server/pages.ts finds it).
  'vendor/jsmpeg-player.umd.min.js': () => path.join(path.dirname(require.resolve('@cycjimmy/jsmpeg-player')), 'jsmpeg-player.umd.min.js'),
};

/** Functions the map names that belong to a library, not to pistream (RxJS's are recognised by its exports). */
const LIBRARY_CALLS: ReadonlySet<string> = new Set([
  'describe', // joi's schema.describe(), which allowedText reads
]);

/** Every backticked span of the map outside its code blocks; a span may wrap a line, as Markdown allows. */
function spans(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '');
  return [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s*\n\s*/g, ' '));
}

/** A placeholder or a pattern rather than a name: `src/formats/<id>.ts`, `public/*.js`. */
function isPattern(span: string): boolean {
  return /[<>*]/.test(span);
}

function filesUnder(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => !f.split(path.sep).includes('node_modules'))
    .map((f) => path.join(dir, f).split(path.sep).join('/'));
}

const TRACKED = TREE.flatMap(filesUnder);

/** Paths from the root (`src/hub.ts`, `spec/helpers/`), checked as they are. */
function rootPaths(): string[] {
  return spans(DOC).filter((s) => !isPattern(s) && TREE.some((top) => s.startsWith(`${top}/`)) && /^[\w./-]+$/.test(s));
}

/** File names without their folder, or with part of it (`hub.ts`, `h264/assemble.ts`, `../public/barcode.js`). */
function shortPaths(): string[] {
  return spans(DOC).filter(
    (s) => !isPattern(s) && !TREE.some((top) => s.startsWith(`${top}/`)) && /^[\w./-]+\.(ts|js|json)$/.test(s) && !s.startsWith('/'),
  );
}

/** The names a file declares: functions, classes, methods, variables, properties and `x.name = …` assignments. */
function declaredNames(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith('.js') ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isFunctionDeclaration(node) ||
        ts.isClassDeclaration(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isMethodSignature(node) ||
        ts.isVariableDeclaration(node) ||
        ts.isPropertyDeclaration(node) ||
        ts.isPropertySignature(node) ||
        ts.isPropertyAssignment(node) ||
        ts.isGetAccessorDeclaration(node) ||
        ts.isFunctionExpression(node)) &&
      node.name &&
      ts.isIdentifier(node.name)
    ) {
      names.push(node.name.text);
    }
    if (ts.isShorthandPropertyAssignment(node)) names.push(node.name.text);
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isPropertyAccessExpression(node.left)) {
      names.push(node.left.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

describe('docs/architecture.md', () => {
  it('names only files that exist, from the root', () => {
    const paths = rootPaths();
    expect(paths.length).toBeGreaterThan(50);
    expect(
      paths.filter((p) => !existsSync(path.join(ROOT, p)) || (p.endsWith('/') && !statSync(path.join(ROOT, p)).isDirectory())),
    ).toEqual([]);
  });

  it('names only files that exist, by their short names', () => {
    const names = shortPaths();
    expect(names.length).toBeGreaterThan(20);
    const missing = names.filter((name) => {
      if (name.startsWith('../')) return !existsSync(path.join(ROOT, 'src', name));
      if (OUTSIDE[name]) return !existsSync(OUTSIDE[name]!());
      if (existsSync(path.join(ROOT, name))) return false; // package.json, tsconfig.page.json, …
      return !TRACKED.some((file) => file === name || file.endsWith(`/${name}`));
    });
    expect(missing).toEqual([]);
  });

  it('names only functions and methods the code declares', () => {
    const code = [...filesUnder('src'), ...filesUnder('public'), ...filesUnder('types'), ...filesUnder('spec/helpers')].filter((f) =>
      /\.(ts|js)$/.test(f),
    );
    const declared = new Set(code.flatMap(declaredNames));
    const library = new Set([...Object.keys(rxjs), ...LIBRARY_CALLS]);
    // `name()`, `Class.method()`, `name(args)`: the last name before the parenthesis.
    const called = [
      ...new Set(
        spans(DOC)
          .filter((s) => !isPattern(s))
          .map((s) => /^(?:[\w$]+\.)*([A-Za-z_$][\w$]*)\(/.exec(s)?.[1])
          .filter((name): name is string => name !== undefined),
      ),
    ];
    expect(called.length).toBeGreaterThan(80);
    expect(called.filter((name) => !declared.has(name) && !library.has(name))).toEqual([]);
  });

  it('would catch a name that does not exist', () => {
    // The checks above must be able to fail: a made-up file and function are not found.
    expect(TRACKED.some((file) => file.endsWith('/no-such-file.ts'))).toBe(false);
    const declared = new Set(declaredNames('src/hub.ts'));
    expect(declared.has('createHub')).toBe(true);
    expect(declared.has('noSuchFunction')).toBe(false);
  });
});
