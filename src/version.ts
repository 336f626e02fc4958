import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package's version, read at run time so it works from `src/` (ts-node) and from `dist/` alike. */
export const version: string = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
