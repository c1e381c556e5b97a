import { defineConfig } from 'vitest/config';
import { remoteTarget } from './e2e/support/remoteTarget.ts';

const remote = remoteTarget(process.env);

/**
 * Projects: unit (pure logic), local (the embedded stack itself), infra (the CDK stack, synthesized
 * offline), e2e (the library against DynamoDB Local + fauxqs over HTTP through the AWS SDK), e2e-api
 * (the deployed shape: HTTP API + worker Lambda under the local runtime), and e2e-remote (a deployed
 * stack on AWS or LocalStack; not part of `npm test`), pack (the packed packages installed and run outside the workspace).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'packages/*/tests/unit/**/*.test.ts',
            'packages/*/tests/contract/**/*.twin.test.ts',
            'functions/tests/**/*.test.ts',
            'bench/tests/*.test.ts',
          ],
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
          include: ['infra/tests/**/*.test.ts', 'packages/cdk/tests/**/*.test.ts'],
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
      {
        // The published packages: packed, installed from the tarballs into an app outside the
        // workspace, compiled with that app's own tsc and run against the embedded stack.
        test: {
          name: 'pack',
          include: ['scripts/tests/pack-install.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 400_000,
        },
      },
      {
        // A deployed stack on AWS or LocalStack (npm run test:e2e:aws / test:e2e:localstack).
        // Without one, a single skipped test says why: not run, never passed.
        test: {
          name: 'e2e-remote',
          include: remote.configured
            ? ['e2e/success-scenarios.test.ts', 'e2e/failure-scenarios.test.ts', 'e2e/api/*.test.ts']
            : ['e2e/remote/not-configured.test.ts'],
          globalSetup: remote.configured ? ['e2e/support/remoteGlobalSetup.ts'] : [],
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
