/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`): one CommandBus construct with your worker.
 * Context (-c key=value):
 *   workerEntry          — your worker's entry file (required; exports `handler = createWorkerHandler(…)`).
 *                          The E2E deployments pass the test application's, functions/testWorker.ts.
 *   domains              — comma-separated domains (required)
 *   apiEntry             — your API entry for typed commands (default: the built-in API)
 *   namespace            — prefix of table and queue names (default "commandbus")
 *   workerTimeoutSeconds — the worker function timeout (default 30)
 *   retryBaseSeconds, retryMaxSeconds — the worker's retry backoff (library defaults otherwise)
 *   apiKind              — "http" (default: an HTTP API, $1.00/M requests) or "rest" (a REST API, $3.50/M;
 *                          what LocalStack's free image emulates)
 *   parkedEvents         — "false" leaves out the CommandParked pipe and bus (no Pipes in LocalStack's free image)
 *   dashboard            — "false" leaves out the CloudWatch dashboard (LocalStack's free image has none)
 *   unverifiedCaller     — "true": LocalStack's free image only, which names no caller (see CommandBusStackProps)
 */
import { existsSync } from 'node:fs';
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_NAMESPACE } from '@commandbus/core/resources';
import { CommandBusStack } from '../lib/CommandBusStack.ts';

/** A wrong or missing context value: said in one line, as every user error is. */
class ContextError extends Error {}

const app = new App();
const text = (key: string) => {
  const value = app.node.tryGetContext(key) as string | number | boolean | undefined;
  return value === undefined || String(value).trim() === '' ? undefined : String(value).trim();
};
const required = (key: string, example: string) => {
  const value = text(key);
  if (value === undefined) throw new ContextError(`context ${key} is required: npx cdk deploy -c ${key}=${example} (README, "Deploying to AWS")`);
  return value;
};
const number = (key: string) => {
  const value = text(key);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new ContextError(`context ${key} must be a whole number (got ${value})`);
  return parsed;
};
const oneOf = <T extends string>(key: string, choices: readonly T[], fallback: T): T => {
  const value = text(key) ?? fallback;
  if (!choices.includes(value as T)) throw new ContextError(`context ${key} must be ${choices.map((choice) => `"${choice}"`).join(' or ')} (got ${value})`);
  return value as T;
};

try {
  const workerEntry = required('workerEntry', 'src/worker.ts');
  if (!existsSync(workerEntry)) throw new ContextError(`context workerEntry: no file at ${workerEntry}`);
  const apiEntry = text('apiEntry');
  if (apiEntry !== undefined && !existsSync(apiEntry)) throw new ContextError(`context apiEntry: no file at ${apiEntry}`);
  const domains = required('domains', 'orders,payments')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => ({ name }));
  const workerTimeoutSeconds = number('workerTimeoutSeconds');
  const retryBaseSeconds = number('retryBaseSeconds');
  const retryMaxSeconds = number('retryMaxSeconds');
  const flag = (key: string, fallback: 'true' | 'false') => oneOf(key, ['true', 'false'], fallback) === 'true';

  new CommandBusStack(app, 'CommandBus', {
    namespace: text('namespace') ?? DEFAULT_NAMESPACE,
    domains,
    workerEntry,
    ...(apiEntry === undefined ? {} : { apiEntry }),
    ...(workerTimeoutSeconds === undefined ? {} : { workerTimeout: Duration.seconds(workerTimeoutSeconds) }),
    ...(retryBaseSeconds === undefined ? {} : { retryBaseSeconds }),
    ...(retryMaxSeconds === undefined ? {} : { retryMaxSeconds }),
    apiKind: oneOf<'http' | 'rest'>('apiKind', ['http', 'rest'], 'http'),
    parkedEvents: flag('parkedEvents', 'true'),
    unverifiedCaller: flag('unverifiedCaller', 'false'),
    dashboard: flag('dashboard', 'true'),
    description: 'commandbus: a command bus on SQS, DynamoDB, Lambda and API Gateway',
  });
} catch (error) {
  // A wrong context value or a prop the construct refuses ("CommandBus: …") is the user's to fix: one line.
  if (error instanceof ContextError || (error instanceof Error && error.message.startsWith('CommandBus'))) {
    console.error(`cdk app: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
