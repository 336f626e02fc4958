// Lints pieces of code as if they were files of this tree, with the project's eslint.config.mjs: reads
// `[{ text, filePath }]` (paths relative to the repository) as JSON on stdin, writes each one's messages
// (`[[{ ruleId, message, line }]]`) as JSON on stdout. ESLint loads its config with a dynamic import, which jest's
// module sandbox cannot run, so spec/lint.spec.ts runs this as a child process.
//
// Without type information (the files need not exist, and building the program would take seconds): the rules
// the specs check read syntax only.
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tseslint from 'typescript-eslint';

const root = path.resolve(import.meta.dirname, '..', '..');
const pieces = JSON.parse(readFileSync(0, 'utf8'));
const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });
const results = [];
for (const { text, filePath } of pieces) {
  const [result] = await eslint.lintText(text, { filePath: path.join(root, filePath) });
  results.push((result?.messages ?? []).map(({ ruleId, message, line }) => ({ ruleId, message, line })));
}
process.stdout.write(JSON.stringify(results));
