import type { TestProject } from 'vitest/node';
import { randomBytes } from 'node:crypto';
import { startLocalRuntime, type LocalRuntime } from '@commandbus/runtime';

/** Settings of the deployed-shape target; tests read them to know what to expect. */
export const API_TARGET = {
  namespace: 'e2e-api',
  operator: 'arn:aws:iam::000000000000:user/e2e-operator',
  /** Function timeout: the handler's time limit is this minus the worker's 2 s safety margin. */
  workerTimeoutSeconds: 4,
  maxConcurrency: 5,
  batchSize: 10,
} as const;

/**
 * The scoped callers of e2e/api/scopes.test.ts: a viewer, and an operator of the `test` domain's
 * retries who calls through an assumed role (so the audit must record the role, the session apart).
 */
const SCOPED = {
  viewer: { token: randomBytes(16).toString('hex'), operator: 'arn:aws:iam::000000000000:user/e2e-viewer', scope: { read: '*' } },
  domainOperator: {
    token: randomBytes(16).toString('hex'),
    operator: 'arn:aws:sts::000000000000:assumed-role/e2e-test-operator/alice',
    scope: { read: ['test'], operate: { domains: ['test'], actions: ['retry'] } },
    recorded: { operator: 'arn:aws:iam::000000000000:role/e2e-test-operator', operatorSession: 'alice' },
  },
} as const;

/** A key pair the runtime accepts SigV4 signatures of, as AWS accepts an IAM user's (the CLI's and the console's signing path). */
const SIGNER = {
  accessKeyId: `AKIALOCAL${randomBytes(6).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(20).toString('base64'),
  operator: 'arn:aws:iam::000000000000:user/e2e-signer',
};

/**
 * The deployed shape, started once: the embedded AWS, the real worker Lambda behind SQS event source
 * mappings and the real API Lambda behind the local HTTP API. Tests drive it through the API only.
 */
let runtime: LocalRuntime | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  runtime = await startLocalRuntime({
    namespace: API_TARGET.namespace,
    domains: ['test'],
    operator: API_TARGET.operator,
    workerTimeoutSeconds: API_TARGET.workerTimeoutSeconds,
    maxConcurrency: API_TARGET.maxConcurrency,
    batchSize: API_TARGET.batchSize,
    retryBaseSeconds: 1,
    retryMaxSeconds: 2,
    sigv4Identities: [SIGNER],
    jobRunnerTimeoutSeconds: 9,
    tokens: [SCOPED.viewer, { token: SCOPED.domainOperator.token, operator: SCOPED.domainOperator.operator, scope: SCOPED.domainOperator.scope }],
  });
  const caller = ({ token, operator }: { token: string; operator: string }) => ({ auth: { type: 'bearer', token } as const, operator });
  project.provide('target', {
    kind: 'api',
    where: 'local',
    apiUrl: runtime.apiUrl,
    auth: { type: 'bearer', token: runtime.token },
    ...API_TARGET,
    signer: { ...SIGNER, region: runtime.stack.region },
    scoped: {
      viewer: caller(SCOPED.viewer),
      domainOperator: { auth: { type: 'bearer', token: SCOPED.domainOperator.token }, ...SCOPED.domainOperator.recorded, domain: 'test' },
    },
  });
  project.provide('awsEnv', runtime.stack.env());
  process.stdout.write(`local Lambda runtime up in ${Date.now() - started} ms at ${runtime.apiUrl} (node ${process.version})\n`);
}

export async function teardown(): Promise<void> {
  await runtime?.stop();
}
