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
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_NAMESPACE } from '@commandbus/core/resources';
import { CommandBusStack } from '../lib/CommandBusStack.ts';

const app = new App();
const namespace = (app.node.tryGetContext('namespace') as string | undefined) ?? DEFAULT_NAMESPACE;
const required = (key: string, example: string) => {
  const value = app.node.tryGetContext(key) as string | undefined;
  if (value === undefined || String(value).trim() === '')
    throw new Error(`context ${key} is required: npx cdk deploy -c ${key}=${example} (see README, "Deploy to AWS")`);
  return String(value);
};
const workerEntry = required('workerEntry', 'src/worker.ts');
const apiEntry = app.node.tryGetContext('apiEntry') as string | undefined;
const domains = required('domains', 'orders,payments')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean)
  .map((name) => ({ name }));

const number = (key: string) => {
  const value = app.node.tryGetContext(key) as string | number | undefined;
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`context ${key} must be a whole number (got ${value})`);
  return parsed;
};
const workerTimeoutSeconds = number('workerTimeoutSeconds');
const retryBaseSeconds = number('retryBaseSeconds');
const retryMaxSeconds = number('retryMaxSeconds');
const apiKind = (app.node.tryGetContext('apiKind') as string | undefined) ?? 'http';
if (apiKind !== 'http' && apiKind !== 'rest') throw new Error(`context apiKind must be "http" or "rest" (got ${apiKind})`);
const parkedEvents = String(app.node.tryGetContext('parkedEvents') ?? 'true');
if (parkedEvents !== 'true' && parkedEvents !== 'false') throw new Error(`context parkedEvents must be "true" or "false" (got ${parkedEvents})`);
const dashboard = String(app.node.tryGetContext('dashboard') ?? 'true');
if (dashboard !== 'true' && dashboard !== 'false') throw new Error(`context dashboard must be "true" or "false" (got ${dashboard})`);
const unverifiedCaller = String(app.node.tryGetContext('unverifiedCaller') ?? 'false');
if (unverifiedCaller !== 'true' && unverifiedCaller !== 'false')
  throw new Error(`context unverifiedCaller must be "true" or "false" (got ${unverifiedCaller})`);

new CommandBusStack(app, 'CommandBus', {
  namespace,
  domains,
  workerEntry,
  ...(apiEntry === undefined ? {} : { apiEntry }),
  ...(workerTimeoutSeconds === undefined ? {} : { workerTimeout: Duration.seconds(workerTimeoutSeconds) }),
  ...(retryBaseSeconds === undefined ? {} : { retryBaseSeconds }),
  ...(retryMaxSeconds === undefined ? {} : { retryMaxSeconds }),
  apiKind,
  parkedEvents: parkedEvents === 'true',
  unverifiedCaller: unverifiedCaller === 'true',
  dashboard: dashboard === 'true',
  description: 'commandbus: a command bus on SQS, DynamoDB, Lambda and API Gateway',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
