/**
 * The LocalStack variant (`apiKind: 'rest'`, `parkedEvents: false`; what scripts/e2e-localstack.sh
 * deploys): every resource type in its template is one the free LocalStack image emulates
 * (localstackResources.ts, with its source), it passes cdk-nag, and its REST API is IAM-authorised
 * with grant ARNs on its stage. Nothing of LocalStack runs here: this holds the template to the list.
 */
import { App, type Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { CommandBusStack, REST_STAGE, type CommandBusStackProps } from '../lib/CommandBusStack.ts';
import { LOCALSTACK_FREE_RESOURCE_TYPES } from './localstackResources.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are whatever each resource type defines; tests read them by path
type Resource = { Type: string; Properties: Record<string, any> };

const LOCALSTACK: Partial<CommandBusStackProps> = { apiKind: 'rest', parkedEvents: false };

/** Synthesized with cdk-nag (throws on an unacknowledged finding); bundling skipped, the template is what matters. */
function synth(props: Partial<CommandBusStackProps>, extra?: (stack: CommandBusStack) => void) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new CommandBusStack(app, 'CommandBus', { namespace: 'shop', domains: [{ name: 'payments' }, { name: 'test' }], ...props });
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
      stack.grantOperate(new Role(stack, 'PaymentsOperator', { assumedBy: new AccountRootPrincipal() }), { domains: ['payments'], actions: ['retry'] });
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
      expect.arrayContaining(['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Route', 'AWS::Pipes::Pipe']),
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
      expect(parts).toContainEqual({ Ref: expect.stringMatching(/^RestApi/) });
      return String(parts.at(-1));
    });
    expect(rendered.sort()).toEqual([`/${REST_STAGE}/GET/openapi.json`, `/${REST_STAGE}/POST/tsq/payments/*/retry`]);
  });
});

describe('Stack: AWS variant (default)', () => {
  it('keeps the HTTP API (API Gateway v2) and the parked-command pipe', () => {
    const types = typesOf(synth({}).template);
    expect(types).toEqual(expect.arrayContaining(['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Route', 'AWS::ApiGatewayV2::Stage', 'AWS::Pipes::Pipe']));
    expect(types.filter((type) => type.startsWith('AWS::ApiGateway::'))).toEqual([]);
  }, 120_000);
});
