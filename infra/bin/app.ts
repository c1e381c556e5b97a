/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`). Context:
 *   namespace  — prefix of table and queue names (default "commandbus")
 *   domains    — comma-separated domains (default "test", the E2E application's domain)
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CommandBusStack } from '../lib/CommandBusStack.ts';

const app = new App();
const namespace = (app.node.tryGetContext('namespace') as string | undefined) ?? 'commandbus';
const domains = ((app.node.tryGetContext('domains') as string | undefined) ?? 'test')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean)
  .map((name) => ({ name }));

new CommandBusStack(app, 'CommandBus', {
  namespace,
  domains,
  description: 'commandbus: a command bus on SQS, DynamoDB, Lambda and API Gateway',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
