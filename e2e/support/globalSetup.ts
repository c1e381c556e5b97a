import type { TestProject } from 'vitest/node';
import type { ClientAuth } from '@commandbus/client';
import { startLocalStack, type LocalStack } from '@commandbus/local';

/**
 * Starts the embedded AWS once for the whole E2E run (DynamoDB Local + fauxqs). Each test file
 * provisions its own namespace of table and queues, so files never share a queue.
 */
let stack: LocalStack | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  stack = await startLocalStack();
  project.provide('awsEnv', stack.env());
  project.provide('target', { kind: 'embedded' });
  process.stdout.write(`embedded AWS up in ${Date.now() - started} ms (node ${process.version})\n`);
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}

export type E2ETarget =
  | { kind: 'embedded' }
  | {
      kind: 'api';
      /** local: the local Lambda runtime; remote: LocalStack or AWS. */
      where: 'local' | 'remote';
      apiUrl: string;
      auth: ClientAuth;
      namespace: string;
      /** The identity operator actions record, when known in advance. */
      operator?: string;
      /**
       * Set when the target lets unsigned requests through (LocalStack's free image verifies no
       * SigV4): why the authorisation test is reported as not run there.
       */
      authorisationNotEnforced?: string;
      /**
       * Callers of narrower scope (e2e/api/scopes.test.ts): a viewer (read on every domain) and an
       * operator of `domain` (read it, retry in it). Absent: the scopes suite is reported as not run.
       */
      scoped?: { viewer: ScopedCaller; domainOperator: ScopedCaller & { domain: string } };
      /** A key pair the local runtime accepts SigV4 signatures of (absent on AWS: there the credentials are the caller's own). */
      signer?: { accessKeyId: string; secretAccessKey: string; operator: string; region: string };
      workerTimeoutSeconds: number;
      maxConcurrency: number;
      batchSize: number;
    };

/** A caller of the scopes suite: how it authenticates, and the operator the audit records for it. */
export interface ScopedCaller {
  auth: ClientAuth;
  operator: string;
  /** For an assumed role: the session name, recorded apart from the role. */
  operatorSession?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    awsEnv: Record<string, string>;
    target: E2ETarget;
  }
}
