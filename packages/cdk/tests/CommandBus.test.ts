/**
 * The construct in a user's own stack, synthesized offline: its props per domain, the worker as an
 * entry file or a function of yours, the operator API on or off, the `existing…Obj` / `…Props`
 * overrides, the grant helpers (least privilege), the dashboard, and cdk-nag clean.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { AccountRootPrincipal, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Code, Function as LambdaFn, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { commandsTableDefinition, DISCOVERY_OUTPUT_PREFIX, METRIC_NAMES } from '@commandbus/core';
import { COMMAND_TYPE_LABEL } from '../src/dashboard.ts';
import { CommandBus, type CommandBusProps } from '../src/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are whatever each resource type defines; tests read them by path
type Resource = { Type: string; Properties: Record<string, any> };

const WORKER_ENTRY = fileURLToPath(new URL('../../../functions/testWorker.ts', import.meta.url));

/** A worker of the user's own making: its own role (no managed policy), so cdk-nag has nothing to say of it. */
function userWorker(stack: Stack, timeoutSeconds = 60) {
  const role = new Role(stack, 'MyWorkerRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  return new LambdaFn(stack, 'MyWorker', {
    role,
    runtime: Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: Code.fromInline('export const handler = async () => ({ batchItemFailures: [] });'),
    timeout: Duration.seconds(timeoutSeconds),
  });
}

/** A user's stack with the construct; bundling skipped unless asked (the template is what is checked). */
function synth(props: (stack: Stack) => Partial<CommandBusProps>, options: { bundle?: boolean; extra?: (bus: CommandBus, stack: Stack) => void } = {}) {
  const app = new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'cdk-construct-')),
    ...(options.bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } }),
  });
  const stack = new Stack(app, 'Shop');
  const bus = new CommandBus(stack, 'Orders', { domains: [{ name: 'orders' }], ...props(stack) } as CommandBusProps);
  options.extra?.(bus, stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth(); // throws on any unacknowledged cdk-nag finding
  const template = Template.fromStack(stack);
  return { bus, stack, template, assembly, resources: template.toJSON().Resources as Record<string, Resource> };
}

const ofType = (resources: Record<string, Resource>, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const withWorker = (stack: Stack) => ({ existingWorkerFunctionObj: userWorker(stack) });

describe('CommandBus construct: the worker', () => {
  it('bundles your worker from its entry file (NodejsFunction), cdk-nag clean', () => {
    const { resources, assembly } = synth(() => ({ workerEntry: WORKER_ENTRY }), { bundle: true });

    const [, worker] = ofType(resources, 'AWS::Lambda::Function').find(([id]) => /^OrdersWorker[A-F0-9]{8}$/.test(id))!;
    expect(worker.Properties.Runtime).toBe('nodejs24.x');
    expect(worker.Properties.Handler).toBe('index.handler');
    const asset = String(worker.Properties.Code.S3Key).replace(/\.zip$/, '');
    expect(statSync(path.join(assembly.directory, `asset.${asset}`, 'index.mjs')).size).toBeGreaterThan(10_000);
  }, 120_000);

  it('reserves the worker the concurrency its event sources may use, unless told not to', () => {
    const reserved = (workerFunctionProps?: object) => {
      const { resources } = synth(() => ({
        workerEntry: WORKER_ENTRY,
        ...(workerFunctionProps ? { workerFunctionProps } : {}),
        domains: [{ name: 'a', maxConcurrency: 3 }, { name: 'b' }],
      }));
      const [, worker] = ofType(resources, 'AWS::Lambda::Function').find(([id]) => /^OrdersWorker[A-F0-9]{8}$/.test(id))!;
      return worker.Properties.ReservedConcurrentExecutions;
    };

    expect(reserved()).toBe(8);
    expect(reserved({ reservedConcurrentExecutions: undefined })).toBeUndefined();
  });

  it('takes a function of yours, adding its event sources, environment and grants', () => {
    const { template, resources } = synth(withWorker);

    const [workerId, worker] = ofType(resources, 'AWS::Lambda::Function').find(([id]) => id.startsWith('MyWorker'))!;
    expect(Object.keys(worker.Properties.Environment.Variables)).toEqual(
      expect.arrayContaining(['COMMANDBUS_NAMESPACE', 'COMMANDBUS_TABLE', 'COMMANDBUS_QUEUE_URLS']),
    );
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: workerId }, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(ofType(resources, 'AWS::Lambda::Function').filter(([id]) => /Worker[A-F0-9]{8}$/.test(id) && id.startsWith('Orders'))).toEqual([]);
  });

  it('refuses no worker, two workers, and a visibility timeout below the worker timeout, naming the problem', () => {
    expect(() => synth(() => ({}))).toThrow(/give your worker, as exactly one of workerEntry \(a file\) or existingWorkerFunctionObj/);
    expect(() => synth((stack) => ({ workerEntry: WORKER_ENTRY, existingWorkerFunctionObj: userWorker(stack) }))).toThrow(/exactly one of/);
    expect(() => synth((stack) => ({ ...withWorker(stack), domains: [{ name: 'orders', visibilityTimeout: Duration.seconds(30) }] }))).toThrow(
      /domain orders: visibilityTimeout \(30 s\) is below the worker's timeout \(60 s\)/,
    );
  });
});

describe('CommandBus construct: domains', () => {
  const twoDomains = (stack: Stack): Partial<CommandBusProps> => ({
    ...withWorker(stack),
    namespace: 'shop',
    domains: [
      {
        name: 'orders',
        visibilityTimeout: Duration.minutes(10),
        retryPolicy: { maxAttempts: 7, baseDelay: Duration.seconds(2), maxDelay: Duration.minutes(20) },
        maxConcurrency: 20,
        batchSize: 50,
        batchingWindow: Duration.seconds(5),
      },
      { name: 'payments' },
    ],
  });

  it("sets each domain's visibility timeout, batch size, batching window and concurrency", () => {
    const { template } = synth(twoDomains);

    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'shop-orders-commands', VisibilityTimeout: 600 });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'shop-payments-commands', VisibilityTimeout: 360 }); // 6 × 60 s
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it("tells every function each domain's retry policy (backoff for the worker, default attempts for sends)", () => {
    const { resources } = synth(twoDomains);

    const policies = ofType(resources, 'AWS::Lambda::Function').map(([, fn]) => fn.Properties.Environment.Variables.COMMANDBUS_RETRY_POLICIES);
    expect(policies.every((value) => value === policies[0])).toBe(true);
    expect(JSON.parse(policies[0])).toEqual({ orders: { maxAttempts: 7, baseDelaySeconds: 2, maxDelaySeconds: 1200 } });
  });

  it('refuses what AWS or the bus would refuse, naming the domain and the field', () => {
    const domain = (overrides: object) => (stack: Stack) => ({ ...withWorker(stack), domains: [{ name: 'orders', ...overrides }] });
    expect(() => synth(domain({ maxConcurrency: 1 }))).toThrow(/domain "orders": maxConcurrency must be a whole number from 2 to 1000 \(got 1\)/);
    expect(() => synth(domain({ batchSize: 0 }))).toThrow(/batchSize must be a whole number from 1 to 10000/);
    expect(() => synth(domain({ retryPolicy: { maxAttempts: 26 } }))).toThrow(/retryPolicy.maxAttempts must be a whole number from 1 to 25/);
    expect(() => synth(domain({ retryPolicy: { baseDelay: Duration.minutes(5), maxDelay: Duration.minutes(1) } }))).toThrow(
      /maxDelay must not be below baseDelay/,
    );
    expect(() => synth(domain({ commandsQueueProps: { queueName: 'mine' } }))).toThrow(/queue names and the dead-letter queue are the bus's own/);
    expect(() => synth((stack) => ({ ...withWorker(stack), domains: [{ name: 'or ders' }] }))).toThrow(/domain "or ders": a name is 1–64 letters/);
    expect(() => synth((stack) => ({ ...withWorker(stack), domains: [{ name: 'a' }, { name: 'a' }] }))).toThrow(/domain "a" is given twice/);
  });

  it("applies a domain's queue overrides but keeps its dead-letter queue and message size", () => {
    const { template } = synth((stack) => ({
      ...withWorker(stack),
      domains: [{ name: 'orders', commandsQueueProps: { retentionPeriod: Duration.days(7) }, tsqQueueProps: { retentionPeriod: Duration.days(10) } }],
    }));

    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'commandbus-orders-commands',
      MessageRetentionPeriod: 604800,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 30 }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'commandbus-orders-tsq', MessageRetentionPeriod: 864000, MaximumMessageSize: 1048576 });
  });
});

describe('CommandBus construct: the operator API', () => {
  it('is on by default: an HTTP API with IAM on every route, the API Lambda and the job runner', () => {
    const { template, bus } = synth(withWorker);

    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.allResourcesProperties('AWS::ApiGatewayV2::Route', { AuthorizationType: 'AWS_IAM' });
    expect(bus.apiFunction).toBeDefined();
    expect(bus.jobRunner).toBeDefined();
  });

  it('can be left out: no API Gateway, no API Lambda, no job runner or jobs queue; the grants say why they cannot', () => {
    const { resources, bus } = synth((stack) => ({ ...withWorker(stack), operatorApi: false }));

    const types = new Set(Object.values(resources).map((resource) => resource.Type));
    expect([...types].filter((type) => type.startsWith('AWS::ApiGateway'))).toEqual([]);
    expect(Object.keys(resources).filter((id) => /^Orders(Api|JobRunner|JobsQueue)/.test(id))).toEqual([]);
    expect(bus.api).toBeUndefined();
    expect(() => bus.grantSend(new Role(Stack.of(bus), 'Sender', { assumedBy: new AccountRootPrincipal() }), { domains: ['orders'] })).toThrow(
      /CommandBus.apiId: this bus has no operator API \(operatorApi: false\)/,
    );
    expect(() => synth((stack) => ({ ...withWorker(stack), operatorApi: false, apiKind: 'rest' }))).toThrow(/apiKind needs the operator API/);
  });

  it('writes the output by which the CLI and the console find the bus (`commandbus --stack`)', () => {
    const { template } = synth((stack) => ({ ...withWorker(stack), namespace: 'shop', domains: [{ name: 'orders' }, { name: 'payments' }] }));

    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Description: string; Value: { 'Fn::Join': [string, unknown[]] } }>);
    const discovery = outputs.find((output) => output.Description === `${DISCOVERY_OUTPUT_PREFIX} Shop/Orders`)!;
    // Deployed, the references are values; here each stands in as its own name.
    const text = discovery.Value['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part).replace(/"/g, '')}>`)).join('');
    const value = JSON.parse(text) as Record<string, unknown>;
    expect(value).toMatchObject({ v: 1, namespace: 'shop', domains: ['orders', 'payments'], region: '<{Ref:AWS::Region}>', account: '<{Ref:AWS::AccountId}>' });
    expect(value.apiUrl).toMatch(/^<\{Fn::GetAtt:\[OrdersHttpApi[A-F0-9]{8},ApiEndpoint\]\}>$/);
  });

  it('serves a REST API instead with apiKind rest (stage "api")', () => {
    const { template, bus } = synth((stack) => ({ ...withWorker(stack), apiKind: 'rest' }));

    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.allResourcesProperties('AWS::ApiGateway::Method', { AuthorizationType: 'AWS_IAM' });
    expect(bus.apiStage).toBe('api');
  });
});

describe('CommandBus construct: existing…Obj and …Props overrides', () => {
  it('notifies your alarm topic, making none of its own', () => {
    const { template, resources } = synth((stack) => ({
      ...withWorker(stack),
      existingAlarmTopicObj: new Topic(stack, 'Pager', { enforceSSL: true, masterKey: Alias.fromAliasName(stack, 'PagerKey', 'alias/aws/sns') }),
    }));

    expect(ofType(resources, 'AWS::SNS::Topic').map(([id]) => id)).toEqual([expect.stringMatching(/^Pager/)]);
    const pagerId = ofType(resources, 'AWS::SNS::Topic')[0]![0];
    const alarms = ofType(resources, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(5);
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: pagerId }]);
    template.resourceCountIs('AWS::SNS::Topic', 1);
  });

  it('uses your table when it is the bus table, and says what is missing when it is not', () => {
    const definition = commandsTableDefinition('commandbus-commands');
    const table = (stack: Stack, withIndexes: boolean) => {
      const key = (name: string) => ({ name, type: AttributeType.STRING });
      const made = new Table(stack, 'MyTable', {
        tableName: 'commandbus-commands',
        partitionKey: key('pk'),
        sortKey: key('sk'),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        stream: StreamViewType.NEW_AND_OLD_IMAGES,
      });
      if (withIndexes) {
        for (const index of definition.GlobalSecondaryIndexes) {
          const attribute = (name: string) => {
            expect(definition.AttributeDefinitions.find((candidate) => candidate.AttributeName === name)!.AttributeType).toBe('S');
            return { name, type: AttributeType.STRING };
          };
          made.addGlobalSecondaryIndex({
            indexName: index.IndexName,
            partitionKey: attribute(index.KeySchema[0]!.AttributeName),
            sortKey: attribute(index.KeySchema[1]!.AttributeName),
          });
        }
      }
      return made;
    };

    const { resources, bus } = synth((stack) => ({ ...withWorker(stack), existingTableObj: table(stack, true) }));
    expect(ofType(resources, 'AWS::DynamoDB::Table').map(([id]) => id)).toEqual([expect.stringMatching(/^MyTable/)]);
    expect(bus.table.node.id).toBe('MyTable');

    expect(() => synth((stack) => ({ ...withWorker(stack), existingTableObj: table(stack, false) }))).toThrow(/existingTableObj lacks the index/);
  });

  it("applies table overrides, but never to the bus's keys or stream", () => {
    const { template } = synth((stack) => ({ ...withWorker(stack), tableProps: { deletionProtection: true } }));
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true, StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });

    expect(() => synth((stack) => ({ ...withWorker(stack), tableProps: { stream: StreamViewType.KEYS_ONLY } }))).toThrow(
      /tableProps.stream cannot be overridden/,
    );
  });
});

describe('CommandBus construct: grants (least privilege)', () => {
  /** The execute-api routes a role may invoke, as `METHOD/path` after the stage. */
  const routesOf = (resources: Record<string, Resource>, roleIdPrefix: string) =>
    ofType(resources, 'AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref.startsWith(roleIdPrefix)))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .flatMap((statement) => {
        expect(statement.Action).toBe('execute-api:Invoke');
        return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      })
      .map((resource) => {
        const parts = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        return String(parts.at(-1)).replace(/^\/\$default\//, '');
      })
      .sort();

  const { resources } = synth(withWorker, {
    extra: (bus, stack) => {
      const role = (id: string) => new Role(stack, id, { assumedBy: new AccountRootPrincipal() });
      bus.grantSend(role('Checkout'), { domains: ['orders'] });
      bus.grantRead(role('Support'), { domains: ['orders'] });
      bus.grantOperate(role('Oncall'), { domains: ['orders'], actions: ['retry', 'cancel'] });
    },
  });

  it('grantSend: POST on the domain’s commands route only (and the OpenAPI document)', () => {
    expect(routesOf(resources, 'Checkout')).toEqual(['GET/openapi.json', 'POST/domains/orders/commands']);
  });

  it('grantRead: GETs of that domain only', () => {
    const routes = routesOf(resources, 'Support');
    expect(routes.length).toBeGreaterThan(5);
    expect(routes.every((route) => route.startsWith('GET/'))).toBe(true);
    expect(routes.filter((route) => route !== 'GET/openapi.json').every((route) => route.includes('/orders'))).toBe(true);
  });

  it('grantOperate: the named actions on that domain’s parked commands, nothing to read', () => {
    expect(routesOf(resources, 'Oncall')).toEqual(['GET/openapi.json', 'POST/tsq/orders/*/cancel', 'POST/tsq/orders/*/retry']);
  });

  it('grantLibraryAccess: the environment, the table and its indexes by name, sending to the commands queues; nothing else', () => {
    const { resources: library } = synth(withWorker, {
      extra: (bus, stack) => {
        const producer = new LambdaFn(stack, 'Producer', {
          role: new Role(stack, 'ProducerRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }),
          runtime: Runtime.NODEJS_24_X,
          handler: 'index.handler',
          code: Code.fromInline('export const handler = async () => {};'),
        });
        bus.grantLibraryAccess(producer);
      },
    });
    const [, producer] = ofType(library, 'AWS::Lambda::Function').find(([id]) => id.startsWith('Producer'))!;
    expect(producer.Properties.Environment.Variables.COMMANDBUS_TABLE).toBeDefined();
    const statements = ofType(library, 'AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref.startsWith('ProducerRole')))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const actions = statements.flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action])).sort();
    expect(actions).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(JSON.stringify(statements)).not.toMatch(/index\/\*|"\*"/);
  });
});

describe('CommandBus construct: the dashboard', () => {
  const bodyOf = (resources: Record<string, Resource>) => {
    const [[, dashboard]] = ofType(resources, 'AWS::CloudWatch::Dashboard') as [[string, Resource]];
    const body = dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
    return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
  };

  it('shows per domain sent, completed, failed, parked, latency, TSQ depth and age', () => {
    const { resources } = synth((stack) => ({ ...withWorker(stack), domains: [{ name: 'orders' }, { name: 'payments' }] }));
    const body = bodyOf(resources);

    for (const domain of ['orders', 'payments']) {
      expect(body).toContain(`${domain}: commands`);
      for (const metric of [METRIC_NAMES.completed, METRIC_NAMES.failed, METRIC_NAMES.parked]) {
        expect(body).toContain(`SUM(SEARCH('{commandbus,commandType,domain} MetricName=\\"${metric}\\" domain=\\"${domain}\\"', 'Sum', 300))`);
      }
      expect(body).toContain(`MetricName=\\"${METRIC_NAMES.latency}\\" domain=\\"${domain}\\"', 'p99'`);
      expect(body).toContain(`p99 ${COMMAND_TYPE_LABEL}`);
    }
    for (const metric of ['NumberOfMessagesSent', 'ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']) expect(body).toContain(metric);
  });

  it('can be left out', () => {
    const { resources } = synth((stack) => ({ ...withWorker(stack), dashboard: false }));
    expect(ofType(resources, 'AWS::CloudWatch::Dashboard')).toEqual([]);
  });
});
