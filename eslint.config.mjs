// ESLint for the whole tree (`npm run lint`, part of `npm test`). Formatting is Prettier's (`npm run format`), so
// eslint-config-prettier, last, turns off every rule that would argue with it. docs/contributing.md says how to run
// and fix both.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Selectors for a string that names one of `names` and is used to branch or to key: compared (`===`, `!==`, `==`,
 * `!=`), a `case`, a membership test (`'x' in o`, `.includes('x')`, `.has('x')`, `.get('x')`, `.indexOf('x')`) and,
 * for names too distinctive to mean anything else, an object or type keyed by it (`{ h264: … }`, `table.h264`,
 * `table['h264']`) or a list of them (`['mpeg1', 'h264']`: a fact about each, kept outside its owner). A type
 * naming them (`kind: 'rpicam' | 'v4l2'`) is not a branch and stays allowed; nor is passing one as a value
 * (`{ codec: 'h264' }`).
 */
function namedBranches(names, keyNames, message) {
  const value = `/^(${names.join('|')})$/`;
  const key = `/^(${keyNames.join('|')})$/`;
  const selectors = [
    `BinaryExpression[operator=/^[!=]==?$/] > Literal[value=${value}]`,
    `BinaryExpression[operator='in'] > Literal.left[value=${value}]`,
    `SwitchCase > Literal.test[value=${value}]`,
    `CallExpression[callee.property.name=/^(includes|indexOf|lastIndexOf|has|get)$/] > Literal.arguments[value=${value}]`,
  ];
  if (keyNames.length > 0) {
    selectors.push(
      `Property > Identifier.key[name=${key}]`,
      `Property > Literal.key[value=${key}]`,
      `TSPropertySignature > Identifier.key[name=${key}]`,
      `TSPropertySignature > Literal.key[value=${key}]`,
      `MemberExpression[computed=false] > Identifier.property[name=${key}]`,
      `MemberExpression[computed=true] > Literal.property[value=${key}]`,
      // Not in an argument list (`['-f', 'h264']`, `['--codec', 'h264']`): there it is ffmpeg's or a camera's word.
      `ArrayExpression:not(:has(> Literal[value=/^-/])) > Literal[value=${key}]`,
    );
  }
  return selectors.map((selector) => ({ selector, message }));
}

// The codec seam: everything about a codec lives in its value under src/codecs; code elsewhere asks that value
// instead of branching on (or keying a table by) the codec's name, so adding a codec is a folder plus one registry
// line.
const CODEC_BRANCHES = namedBranches(
  ['h264', 'mpeg1'],
  ['h264', 'mpeg1'],
  'A codec named outside src/codecs: ask the codec value (src/codecs) for what differs, instead of branching on, listing or keying by its name.',
);

// The source seam: the same for the kinds of camera source, which src/sources owns. `test`, `file` and `auto` are
// also ordinary words (`request.params.file`), so only comparisons with them count, not keys.
const SOURCE_BRANCHES = namedBranches(
  ['auto', 'test', 'rpicam', 'libcamera', 'raspivid', 'v4l2', 'file'],
  ['rpicam', 'libcamera', 'raspivid', 'v4l2'],
  'A source kind named outside src/sources: ask the source registry (src/sources) for what differs, instead of branching on, listing or keying by its kind.',
);

/** Names that are unused on purpose start with an underscore (`_picture`), as tsc's noUnusedParameters allows. */
const UNUSED = {
  argsIgnorePattern: '^_',
  varsIgnorePattern: '^_',
  caughtErrorsIgnorePattern: '^_',
  destructuredArrayIgnorePattern: '^_',
};

export default defineConfig(
  {
    name: 'pistream/ignores',
    // spec/fixtures: data for the import-rule spec, shaped to break rules on purpose.
    ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/', '.tmp/', 'spec/fixtures/'],
  },
  {
    name: 'pistream/linter-options',
    // A disable comment that no longer disables anything is noise that hides the next real one.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  {
    name: 'pistream/typescript',
    // typescript-eslint's recommended rules, with type information where it pays: floating and misused promises,
    // `any` leaking through, awaiting what is not a promise, throwing what is not an Error. It costs building the
    // program once (about as long as tsc --noEmit); the plain JavaScript files keep ESLint's own parser and rules.
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The tree writes `!` on every indexed read (`chunk[i + 3]!`) as if noUncheckedIndexedAccess were on: it marks
      // the reads that rely on an index being in range, and keeps the tree ready for that flag. This rule would
      // strip all ~500 of them.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // `async` without `await` is how stand-ins and fakes implement an async interface. The defect this rule is
      // after (a forgotten await) is what no-floating-promises and await-thenable catch.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', UNUSED],
    },
  },
  {
    name: 'pistream/page-types',
    // The page's declarations belong to the page's type check (tsconfig.page.json: DOM, no Node), not the tree's.
    files: ['types/**/*.d.ts'],
    languageOptions: { parserOptions: { projectService: false, project: ['./tsconfig.page.json'], tsconfigRootDir: import.meta.dirname } },
  },
  {
    name: 'pistream/specs',
    files: ['spec/**/*.ts'],
    rules: {
      // Jest's asymmetric matchers (`expect.any(String)`, `expect.stringMatching(…)`, `expect.objectContaining(…)`)
      // are typed `any`, so every `toEqual({ …, at: expect.any(Number) })` would be an unsafe assignment or argument.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    name: 'pistream/javascript',
    files: ['**/*.js', '**/*.mjs'],
    rules: { 'no-unused-vars': ['error', UNUSED] },
  },
  {
    name: 'pistream/node-scripts',
    // Plain Node scripts in CommonJS: the fake cameras, the test:ffmpeg runner, dependency-cruiser's config.
    files: ['spec/**/*.js', '.dependency-cruiser.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    name: 'pistream/node-modules',
    // This file and the spec helpers that run ESLint (ES modules for Node).
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    name: 'pistream/page',
    // The page is plain ES5 scripts with no build step, loaded by <script> tags (public/index.html); a few are also
    // required by Node (`typeof module` guards that).
    files: ['public/**/*.js'],
    languageOptions: {
      ecmaVersion: 5,
      sourceType: 'script',
      // ES5 syntax, but the browsers' runtime (Promise and the rest of ES2017's built-ins).
      globals: { ...globals.es2017, ...globals.browser, module: 'readonly' },
    },
    rules: {
      // ES5 has no `catch {}`: the binding is required even when unused.
      'no-unused-vars': ['error', { ...UNUSED, caughtErrors: 'none' }],
    },
  },
  {
    name: 'pistream/no-console',
    // The library logs through its logger (pino) and the page through its status line; a console call there is a
    // leftover. Specs print a figure only on purpose, with a disable comment saying so. Bench, soak, examples and
    // the Node scripts under spec/ are programs whose output is their job.
    files: ['src/**', 'public/**', 'spec/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    name: 'pistream/seams',
    // spec/, bench/ and soak/ are harnesses: they pick codecs and sources by name from outside (`--codec h264`), as
    // a user does, and measure or check each. This file names them to hold the seams.
    ignores: ['src/codecs/**', 'src/sources/**', 'spec/**', 'bench/**', 'soak/**', 'eslint.config.mjs'],
    rules: { 'no-restricted-syntax': ['error', ...CODEC_BRANCHES, ...SOURCE_BRANCHES] },
  },
  {
    name: 'pistream/seams-in-codecs',
    files: ['src/codecs/**'],
    rules: { 'no-restricted-syntax': ['error', ...SOURCE_BRANCHES] },
  },
  {
    name: 'pistream/seams-in-sources',
    files: ['src/sources/**'],
    rules: { 'no-restricted-syntax': ['error', ...CODEC_BRANCHES] },
  },
  prettier,
);
