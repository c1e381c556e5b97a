import type { TestProject } from 'vitest/node';
import { remoteTarget } from './remoteTarget.ts';

/**
 * A deployed stack (on AWS, or on LocalStack): the E2E suite drives it through its HTTP API with
 * SigV4, and reaches the table (behaviour records) and queues with the SDK's usual environment.
 */
export async function setup(project: TestProject): Promise<void> {
  const remote = remoteTarget(process.env);
  if (!remote.configured) throw new Error(remote.reason);
  project.provide('target', remote.target);
  const passThrough = ['AWS_REGION', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_SQS'];
  project.provide('awsEnv', Object.fromEntries(passThrough.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : []))));
  process.stdout.write(`remote target: ${remote.target.apiUrl} (namespace ${remote.target.namespace})\n`);
}
