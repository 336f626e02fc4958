// Self-test for the import rules in .dependency-cruiser.js (enforced by `npm run deps`, part of `npm test`):
// the rules must still catch each kind of violation, and the real run must actually cruise the tree.
// dependency-cruiser is ESM-only, so it runs as a child process (its bin, JSON output) rather than through jest.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const PACKAGE = path.join(ROOT, 'node_modules', 'dependency-cruiser');
const BIN = path.join(
  PACKAGE,
  (JSON.parse(readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.depcruise ?? '',
);
const CONFIG = path.join(ROOT, '.dependency-cruiser.js');
const FIXTURE = path.join(ROOT, 'spec', 'fixtures', 'deps');
const CRUISE_TIMEOUT_MS = 100_000;

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string; readonly severity: string };
}
interface CruiseResult {
  readonly modules: ReadonlyArray<{ readonly source: string }>;
  readonly summary: { readonly violations: readonly Violation[]; readonly totalCruised: number };
}

/** Runs depcruise with the project config in `cwd`; resolves with its JSON report whatever the exit code. */
function depcruise(args: readonly string[], cwd: string): Promise<CruiseResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--config', CONFIG, '--output-type', 'json'],
      // Generous: each cruise takes a few seconds alone, and many times that on a machine busy with other specs.
      { cwd, maxBuffer: 64 * 1024 * 1024, timeout: CRUISE_TIMEOUT_MS },
      (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as CruiseResult);
        } catch {
          reject(new Error(`depcruise ${args.join(' ')} failed: ${error?.message ?? ''}\n${stderr}`));
        }
      },
    );
  });
}

/** `rule: from → to`, with package files shortened to `npm:<name>` (their path depends on where node_modules is). */
function label(v: Violation): string {
  const to = v.to.replace(/^(?:\.\.\/)*node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, 'npm:$1');
  return `${v.rule.name}: ${v.from} → ${to}`;
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${dir}/${f.split(path.sep).join('/')}`);
}

describe('import rules (.dependency-cruiser.js)', () => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  // Both cruises start at once (they take a few seconds each); the tests below await them.
  let fixture: Promise<CruiseResult>;
  let tree: Promise<CruiseResult>;
  beforeAll(() => {
    fixture = depcruise(['src', 'bench', 'spec'], FIXTURE);
    // The script's own arguments; the JSON output type given last wins over the script's.
    tree = depcruise((scripts.deps ?? '').trim().split(/\s+/).slice(1), ROOT);
    // Rejections are reported by the tests that await them.
    fixture.catch(() => undefined);
    tree.catch(() => undefined);
  });

  it('npm test runs `npm run deps` before jest', () => {
    const test = scripts.test ?? '';
    expect(test).toContain('npm run deps');
    expect(test.indexOf('npm run deps')).toBeLessThan(test.lastIndexOf('jest'));
    expect(scripts.deps).toMatch(/^depcruise .*--config \.dependency-cruiser\.js/);
  });

  it(
    'catches each kind of bad import in the fixture tree',
    async () => {
      const result = await fixture;
      expect(result.summary.violations.map(label).sort()).toEqual(
        [
          'bench-soak-not-to-spec: bench/run.ts → spec/helper.ts',
          'codecs-io-via-process: src/codecs/spawn.ts → child_process',
          'codecs-not-each-other: src/codecs/one/parse.ts → src/codecs/two/scan.ts',
          'codecs-not-each-other: src/codecs/two/scan.ts → src/codecs/index.ts',
          'codecs-common-is-a-leaf: src/codecs/common/shared.ts → src/codecs/spawn.ts',
          'config-not-to-server: src/config/options.ts → src/server/auth.ts',
          'layer-codecs: src/codecs/spawn.ts → src/sources/camera.ts',
          'layer-leaves: src/barcode.ts → src/sources/camera.ts',
          'layer-process: src/process/run.ts → src/sources/camera.ts',
          'no-circular: src/process/run.ts → src/sources/camera.ts',
          'no-import-of-cli: src/server/auth.ts → src/cli.ts',
          'no-import-of-index: src/defaults.ts → src/index.ts',
          'not-to-dev-dep: src/barcode.ts → npm:fast-check',
          'not-to-unresolvable: src/hub.ts → ./gone',
          'pure-middle-no-io: src/formats/socket.ts → npm:ws',
          'pure-middle-no-io: src/operators/read-file.ts → fs',
          'src-not-to-tests-or-tools: src/frame.ts → spec/helper.ts',
        ].sort(),
      );
      expect(result.summary.violations.every((v) => v.rule.severity === 'error')).toBe(true);
    },
    CRUISE_TIMEOUT_MS + 10_000,
  );

  it(
    '`npm run deps` cruises every file in src (and the other folders it names)',
    async () => {
      const result = await tree;
      const cruised = new Set(result.modules.map((m) => m.source));
      expect(result.summary.totalCruised).toBeGreaterThan(30);
      expect(tsFilesUnder('src').filter((f) => !cruised.has(f))).toEqual([]);
      expect([...cruised].filter((f) => f.startsWith('spec/fixtures/deps/'))).toEqual([]);
      for (const dir of ['bench/', 'soak/', 'examples/', 'spec/']) {
        expect([...cruised].some((f) => f.startsWith(dir))).toBe(true);
      }
    },
    CRUISE_TIMEOUT_MS + 10_000,
  );
});
