/**
 * The LocalStack variant (`apiKind: 'rest'`, `parkedEvents: false`, `unverifiedCaller: true`; what scripts/e2e-localstack.sh
 * deploys): every resource type in its template is one the free LocalStack image emulates
 * (localstackResources.ts, with its source), it passes cdk-nag, and its REST API is IAM-authorised
 * with grant ARNs on its stage. Nothing of LocalStack runs here: this holds the template to the list.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { remoteTarget } from '../../e2e/support/remoteTarget.ts';
import { REST_STAGE } from '@commandbus/cdk';
import { CommandBusStack, type CommandBusStackProps } from '../lib/CommandBusStack.ts';
import { LOCALSTACK_FREE_RESOURCE_TYPES } from './localstackResources.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are whatever each resource type defines; tests read them by path
type Resource = { Type: string; Properties: Record<string, any> };

const LOCALSTACK: Partial<CommandBusStackProps> = { apiKind: 'rest', parkedEvents: false, unverifiedCaller: true, dashboard: false };

/** Synthesized with cdk-nag (throws on an unacknowledged finding); bundling skipped, the template is what matters. */
function synth(props: Partial<CommandBusStackProps>, extra?: (stack: CommandBusStack) => void) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new CommandBusStack(app, 'CommandBus', {
    namespace: 'shop',
    domains: [{ name: 'payments' }, { name: 'test' }],
    workerEntry: fileURLToPath(new URL('../../functions/testWorker.ts', import.meta.url)),
    ...props,
  });
  extra?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { stack: stack as Stack, template: Template.fromStack(stack) };
}

const resourcesOf = (template: Template) => Object.values(template.toJSON().Resources as Record<string, Resource>);
const typesOf = (template: Template) => [...new Set(resourcesOf(template).map((resource) => resource.Type))].sort();

describe('Stack: LocalStack variant (free image)', () => {
  let localstack: Template;
  beforeAll(() => {
    localstack = synth(LOCALSTACK, (stack) => {
      stack.bus.grantOperate(new Role(stack, 'PaymentsOperator', { assumedBy: new AccountRootPrincipal() }), { domains: ['payments'], actions: ['retry'] });
    }).template;
  }, 120_000);

  it('uses only resource types the free LocalStack image emulates (LocalStack 4.14.0 resource providers)', () => {
    const outside = typesOf(localstack).filter((type) => !LOCALSTACK_FREE_RESOURCE_TYPES.includes(type));
    expect(outside, `resource types the free LocalStack image does not emulate: ${outside.join(', ')}`).toEqual([]);
  });

  it('notices a type outside the list (the check above really looks)', () => {
    expect(LOCALSTACK_FREE_RESOURCE_TYPES).not.toContain('AWS::ApiGatewayV2::Api');
    expect(LOCALSTACK_FREE_RESOURCE_TYPES).not.toContain('AWS::Pipes::Pipe');
    const aws = synth({}).template;
    expect(typesOf(aws).filter((type) => !LOCALSTACK_FREE_RESOURCE_TYPES.includes(type))).toEqual(
      expect.arrayContaining(['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Route', 'AWS::Pipes::Pipe', 'AWS::CloudWatch::Dashboard']),
    );
  }, 120_000);

  it('serves the API on a REST API: GET and POST on /{proxy+}, IAM on every method, a Lambda proxy integration', () => {
    expect(typesOf(localstack).filter((type) => type.startsWith('AWS::ApiGatewayV2::'))).toEqual([]);
    const methods = resourcesOf(localstack).filter((resource) => resource.Type === 'AWS::ApiGateway::Method');
    expect(methods.map((method) => method.Properties.HttpMethod).sort()).toEqual(['GET', 'POST']);
    for (const method of methods) {
      expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
    }
    localstack.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    localstack.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: REST_STAGE, AccessLogSetting: { DestinationArn: Match.anyValue() } });
  });

  it('leaves out the parked-command events (no Pipes in the free image), and outputs what the e2e script reads', () => {
    expect(typesOf(localstack)).not.toContain('AWS::Events::EventBus');
    const outputs = localstack.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ApiKind?.Value).toBe('rest');
    expect(outputs.ApiStage).toBeDefined();
    expect(outputs.ApiId).toBeDefined();
    expect(outputs.EventBusName).toBeUndefined();
  });

  it("grants execute-api:Invoke on the REST API's stage, by the same route patterns", () => {
    const policy = resourcesOf(localstack).find(
      (resource) =>
        resource.Type === 'AWS::IAM::Policy' && resource.Properties.PolicyDocument.Statement.some((s: { Action: string }) => s.Action === 'execute-api:Invoke'),
    )!;
    const arns = (policy.Properties.PolicyDocument.Statement as { Resource: unknown }[]).flatMap((s) =>
      Array.isArray(s.Resource) ? s.Resource : [s.Resource],
    );
    const rendered = arns.map((arn) => {
      const parts = (arn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      expect(parts).toContainEqual({ Ref: expect.stringMatching(/^BusRestApi/) });
      return String(parts.at(-1));
    });
    expect(rendered.sort()).toEqual([`/${REST_STAGE}/GET/openapi.json`, `/${REST_STAGE}/POST/tsq/payments/*/retry`]);
  });
});

describe('Stack: the unverified caller (LocalStack only)', () => {
  const apiEnvironment = (template: Template) =>
    Object.entries(template.toJSON().Resources as Record<string, Resource>).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && /^BusApi[A-F0-9]{8}$/.test(id),
    )![1].Properties.Environment.Variables as Record<string, unknown>;

  it("is set on the LocalStack variant's API function only, and refused without the REST API", () => {
    expect(apiEnvironment(synth(LOCALSTACK).template).COMMANDBUS_UNVERIFIED_CALLER).toBe('sigv4-access-key');
    expect(apiEnvironment(synth({}).template).COMMANDBUS_UNVERIFIED_CALLER).toBeUndefined();
    expect(() => synth({ unverifiedCaller: true })).toThrow(/unverifiedCaller/);
  }, 120_000);
});

describe('Stack: AWS variant (default)', () => {
  it('keeps the HTTP API (API Gateway v2) and the parked-command pipe', () => {
    const types = typesOf(synth({}).template);
    expect(types).toEqual(expect.arrayContaining(['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Route', 'AWS::ApiGatewayV2::Stage', 'AWS::Pipes::Pipe']));
    expect(types.filter((type) => type.startsWith('AWS::ApiGateway::'))).toEqual([]);
  }, 120_000);
});

describe('scripts/stack-outputs.mjs (the remote E2E target from the outputs)', () => {
  const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/stack-outputs.mjs');
  const run = (outputs: Record<string, string>, ...args: string[]) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'outputs-')), 'outputs.json');
    writeFileSync(file, JSON.stringify({ CommandBus: { Namespace: 'commandbus-e2e', TableName: 'commandbus-e2e-commands', ...outputs } }));
    return execFileSync(process.execPath, [script, file, '4', ...args], { encoding: 'utf8' });
  };

  it("takes ApiUrl on AWS (an HTTP API's endpoint, a REST API's URL with its stage)", () => {
    expect(run({ ApiUrl: 'https://a1.execute-api.us-east-1.amazonaws.com', ApiKind: 'http', ApiId: 'a1', ApiStage: '$default' })).toContain(
      "export COMMANDBUS_API_URL='https://a1.execute-api.us-east-1.amazonaws.com'",
    );
    expect(run({ ApiUrl: 'https://r1.execute-api.us-east-1.amazonaws.com/api/', ApiKind: 'rest', ApiId: 'r1', ApiStage: 'api' })).toContain(
      "export COMMANDBUS_API_URL='https://r1.execute-api.us-east-1.amazonaws.com/api'",
    );
  });

  it("builds LocalStack's URL of the REST API, with its stage", () => {
    const printed = run(
      { ApiUrl: 'https://r1.execute-api.us-east-1.localhost.localstack.cloud/api/', ApiKind: 'rest', ApiId: 'r1', ApiStage: 'api' },
      '--localstack',
    );
    expect(printed).toContain("export COMMANDBUS_API_URL='http://r1.execute-api.localhost.localstack.cloud:4566/api'");
    expect(printed).toContain("export COMMANDBUS_E2E_WORKER_TIMEOUT_SECONDS='4'");
  });
});

describe('the remote E2E target on LocalStack (no SigV4 check)', () => {
  const env = {
    COMMANDBUS_API_URL: 'http://r1.execute-api.localhost.localstack.cloud:4566/api',
    COMMANDBUS_NAMESPACE: 'commandbus-e2e',
    AWS_REGION: 'us-east-1',
  };

  it('reports the unsigned-request test as not run where scripts/e2e-localstack.sh says IAM is not enforced, and runs it elsewhere', () => {
    const localstack = remoteTarget({ ...env, COMMANDBUS_E2E_IAM_NOT_ENFORCED: '1' });
    expect(localstack.configured && localstack.target.authorisationNotEnforced).toMatch(/^NOT RUN: /);
    const aws = remoteTarget(env);
    expect(aws.configured && aws.target.authorisationNotEnforced).toBeUndefined();
  });
});
