import type { Config } from 'jest';

const config: Config = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  // Integration specs spawn real ffmpeg processes and browsers; two cores here.
  maxWorkers: 2,
  testTimeout: 30_000,
  // Specs are transpiled only (fast); `npm test` type-checks everything with tsc first.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

export default config;
