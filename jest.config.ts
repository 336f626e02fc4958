import type { Config } from 'jest';

const config: Config = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  // Integration specs spawn real ffmpeg processes and browsers; two cores here.
  maxWorkers: 2,
  testTimeout: 30_000,
  // Prints which ffmpeg the run tests with (PATH's, the bundled one, or PISTREAM_FFMPEG's).
  globalSetup: '<rootDir>/spec/support/global-setup.ts',
  // Specs are transpiled only (fast); `npm test` type-checks everything with tsc first.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

export default config;
