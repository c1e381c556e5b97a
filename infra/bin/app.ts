/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`). Context (-c key=value):
 *   namespace            — prefix of table and queue names (default "commandbus")
 *   domains              — comma-separated domains (default "test", the E2E application's domain)
 *   workerTimeoutSeconds — the worker function timeout (default 30)
 *   retryBaseSeconds, retryMaxSeconds — the worker's retry backoff (library defaults otherwise)
 *   apiKind              — "http" (default: an HTTP API, $1.00/M requests) or "rest" (a REST API, $3.50/M;
 *                          what LocalStack's free image emulates)
 *   parkedEvents         — "false" leaves out the CommandParked pipe and bus (no Pipes in LocalStack's free image)
 *   unverifiedCaller     — "true": LocalStack's free image only, which names no caller (see CommandBusStackProps)
 */
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_NAMESPACE } from '@commandbus/core/resources';
import { CommandBusStack } from '../lib/CommandBusStack.ts';

const app = new App();
const namespace = (app.node.tryGetContext('namespace') as string | undefined) ?? DEFAULT_NAMESPACE;
const domains = ((app.node.tryGetContext('domains') as string | undefined) ?? 'test')
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
const unverifiedCaller = String(app.node.tryGetContext('unverifiedCaller') ?? 'false');
if (unverifiedCaller !== 'true' && unverifiedCaller !== 'false')
  throw new Error(`context unverifiedCaller must be "true" or "false" (got ${unverifiedCaller})`);

new CommandBusStack(app, 'CommandBus', {
  namespace,
  domains,
  ...(workerTimeoutSeconds === undefined ? {} : { workerTimeout: Duration.seconds(workerTimeoutSeconds) }),
  ...(retryBaseSeconds === undefined ? {} : { retryBaseSeconds }),
  ...(retryMaxSeconds === undefined ? {} : { retryMaxSeconds }),
  apiKind,
  parkedEvents: parkedEvents === 'true',
  unverifiedCaller: unverifiedCaller === 'true',
  description: 'commandbus: a command bus on SQS, DynamoDB, Lambda and API Gateway',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
