import { defineConfig } from 'vitest/config';

/**
 * Three projects: fast unit tests of pure logic, the embedded local stack's own tests, and the E2E
 * suite (real DynamoDB Local + fauxqs over HTTP through the AWS SDK, started once in globalSetup).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/tests/unit/**/*.test.ts', 'functions/tests/**/*.test.ts'],
          // Pure logic: one shared context is several times faster on 2 cores.
          isolate: false,
        },
      },
      {
        test: {
          name: 'local',
          include: ['packages/local/tests/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['infra/tests/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/*.test.ts'],
          globalSetup: ['e2e/support/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
      {
        // The deployed shape: the same scenarios through the HTTP API, the worker as a Lambda.
        test: {
          name: 'e2e-api',
          include: ['e2e/success-scenarios.test.ts', 'e2e/failure-scenarios.test.ts', 'e2e/api/*.test.ts'],
          globalSetup: ['e2e/support/apiGlobalSetup.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
