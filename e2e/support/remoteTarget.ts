import { DEPLOYMENT_DEFAULTS } from '@commandbus/core/deployment';
import type { E2ETarget } from './globalSetup.ts';

/**
 * The deployed stack to test, from the environment (set by scripts/e2e-aws.sh and
 * scripts/e2e-localstack.sh from the stack outputs):
 *   COMMANDBUS_API_URL, COMMANDBUS_NAMESPACE, AWS_REGION   (required)
 *   COMMANDBUS_E2E_WORKER_TIMEOUT_SECONDS                  (the stack's worker timeout; default 30)
 *   COMMANDBUS_E2E_IAM_NOT_ENFORCED=1                      (LocalStack's free image: no SigV4 check, so
 *                                                           the authorisation test is reported as not run)
 */
export function remoteTarget(
  env: NodeJS.ProcessEnv,
): { configured: true; target: Extract<E2ETarget, { kind: 'api' }> } | { configured: false; reason: string } {
  const missing = ['COMMANDBUS_API_URL', 'COMMANDBUS_NAMESPACE', 'AWS_REGION'].filter((name) => !env[name]);
  if (missing.length > 0) {
    return { configured: false, reason: `NOT RUN: the remote E2E target needs ${missing.join(', ')} (see README, "Deploy")` };
  }
  return {
    configured: true,
    target: {
      kind: 'api',
      where: 'remote',
      apiUrl: env.COMMANDBUS_API_URL!,
      auth: { type: 'sigv4', region: env.AWS_REGION! },
      ...(env.COMMANDBUS_E2E_IAM_NOT_ENFORCED === '1'
        ? { authorisationNotEnforced: 'NOT RUN: this target verifies no SigV4 signature (LocalStack free image; IAM enforcement is a paid feature)' }
        : {}),
      namespace: env.COMMANDBUS_NAMESPACE!,
      workerTimeoutSeconds: Number(env.COMMANDBUS_E2E_WORKER_TIMEOUT_SECONDS ?? DEPLOYMENT_DEFAULTS.workerTimeoutSeconds),
      maxConcurrency: DEPLOYMENT_DEFAULTS.maxConcurrency,
      batchSize: DEPLOYMENT_DEFAULTS.batchSize,
    },
  };
}
