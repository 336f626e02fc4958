import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Read at run time so it works from `src/` (ts-node) and from `dist/` alike. */
const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string; engines: { node: string } };

/** The package's version. */
export const version: string = pkg.version;

/** The Node.js versions the package runs on (`engines.node`, e.g. `>=20`): the one place the minimum is written. */
export const nodeRequirement: string = pkg.engines.node;
