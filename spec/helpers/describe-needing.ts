/** What a suite needs from the machine, for {@link describeNeeding}. */
export interface Requirement {
  /** Whether it is here. */
  readonly available: () => boolean;
  /** The environment variable that turns "skip when missing" into "fail when missing" (CI sets it to 1). */
  readonly requireEnv: string;
  /** The failing test's name when it is required and missing, e.g. `needs Chromium`. */
  readonly needs: string;
  /** Why it is missing and what to install, for the failure. */
  readonly missing: () => string;
  /** What the skipped suite's name adds, e.g. `no Chromium at /usr/bin/chromium`. */
  readonly skipNote: string;
}

/**
 * `describe` for suites that need something a contributor's machine may lack (Chromium, nginx with its RTMP module):
 * runs them when it is there; otherwise skips them, saying why, unless `requireEnv` is `1` (as `.ci/run` sets),
 * where one failing test says what to install instead.
 */
export function describeNeeding(requirement: Requirement, name: string, fn: () => void): void {
  if (requirement.available()) {
    describe(name, fn);
  } else if (process.env[requirement.requireEnv] === '1') {
    describe(name, () => {
      it(requirement.needs, () => {
        throw new Error(`${requirement.requireEnv}=1 but ${requirement.missing()}`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${requirement.skipNote})`, fn);
  }
}
