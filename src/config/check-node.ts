// The CLI's first import: on a Node.js older than the package supports, exit 2 with one line before any dependency
// loads (commander, joi and hapi-pino need Node 20 and would fail with a stack trace of their own).
import { nodeRequirement } from '../version';
import { nodeVersionProblem } from './node-version';

const problem = nodeVersionProblem(process.versions.node, nodeRequirement);
if (problem !== undefined) {
  process.stderr.write(`pistream: ${problem}\n`);
  process.exit(2);
}
