/** The CDK stack, synthesized offline: the rules the design depends on, asserted on the template. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, CfnResource, type Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  commandsTableDefinition,
  MAX_ALLOWED_ATTEMPTS,
  MAX_MESSAGE_BYTES,
  queueDefinitions,
  resourceNames,
  TSQ_MAX_MESSAGE_BYTES,
  TSQ_MAX_RECEIVE_COUNT,
} from '@commandbus/core/resources';
import { CommandBusStack } from '../lib/CommandBusStack.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are whatever each resource type defines; tests read them by path
type Resource = { Type: string; Properties: Record<string, any> };

const WORKER_ENTRY = fileURLToPath(new URL('../../functions/testWorker.ts', import.meta.url));
const DOMAINS = [{ name: 'payments', maxConcurrency: 4 }, { name: 'test' }];

function synth(extra?: (stack: Stack) => void) {
  const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'cdk-')) });
  const stack = new CommandBusStack(app, 'CommandBus', { namespace: 'shop', domains: DOMAINS, workerEntry: WORKER_ENTRY });
  extra?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth(); // throws "Validation failed" on any unacknowledged cdk-nag finding
  return { stack, assembly, template: Template.fromStack(stack) };
}

/** Every cdk-nag acknowledgement in the construct tree: where it sits and which finding it covers. */
function acknowledgements(root: IConstruct) {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          construct,
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** Acknowledgements that sit above a single resource (on the app, the stack or a construct holding several). */
const misplacedAcknowledgements = (root: IConstruct) =>
  acknowledgements(root)
    .filter(({ construct }) => !CfnResource.isCfnResource(construct))
    .map(({ path, id }) => `${path}: ${id}`);

let stack: Stack;
let template: Template;
let resources: Record<string, Resource>;
let assemblyDirectory: string;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

beforeAll(() => {
  const synthesized = synth();
  stack = synthesized.stack;
  template = synthesized.template;
  assemblyDirectory = synthesized.assembly.directory;
  resources = template.toJSON().Resources as Record<string, Resource>;
}, 120_000);

type Statement = { Action: string | string[]; Resource: unknown };
const functions = () => ofType('AWS::Lambda::Function').filter(([id]) => /^Bus(Worker|Api|TsqSweeper)[A-F0-9]{8}$/.test(id));
const roleIdOf = (fn: Resource) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
/** Every statement a role grants: attached policies and inline ones. */
const statementsOfRole = (roleId: string): Statement[] => [
  ...ofType('AWS::IAM::Policy')
    .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]),
  ...((resources[roleId]!.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((policy) => policy.PolicyDocument.Statement),
];
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('Stack: synthesis', () => {
  it('passes the cdk-nag AwsSolutions pack with only the acknowledged findings', () => {
    // Synthesis throws on any unacknowledged finding (the next test shows it does).
    expect(() => synth()).not.toThrow();
    expect(Object.keys(resources).length).toBeGreaterThan(20);
  }, 120_000);

  it('fails synthesis when a resource breaks an AwsSolutions rule (the check really runs)', () => {
    const act = () => synth((stack) => new Queue(stack, 'Careless', { queueName: 'careless' }));

    expect(act).toThrow(/AwsSolutions-SQS4/);
  }, 120_000);

  it('acknowledges findings only on the one resource each concerns, never stack-wide', () => {
    expect(misplacedAcknowledgements(stack.node.root)).toEqual([]);
    expect(
      acknowledgements(stack.node.root)
        .map(({ path, id }) => `${path}: ${id}`)
        .sort(),
    ).toEqual([
      'CommandBus/Bus/ApiServiceRole/DefaultPolicy/Resource: AwsSolutions-IAM5[Resource::*]',
      'CommandBus/Bus/JobRunnerServiceRole/DefaultPolicy/Resource: AwsSolutions-IAM5[Resource::*]',
      'CommandBus/Bus/JobsQueue/Resource: AwsSolutions-SQS3',
      'CommandBus/Bus/ParkedEventsPipeRole/DefaultPolicy/Resource: AwsSolutions-IAM5[Resource::*]',
      'CommandBus/Bus/RepliesQueue/Resource: AwsSolutions-SQS3',
      'CommandBus/Bus/StatsAggregatorServiceRole/DefaultPolicy/Resource: AwsSolutions-IAM5[Resource::*]',
      'CommandBus/Bus/StatsFailedBatches/Resource: AwsSolutions-SQS3',
      'CommandBus/Bus/TsqSweeperServiceRole/DefaultPolicy/Resource: AwsSolutions-IAM5[Resource::*]',
      'CommandBus/Bus/WorkerServiceRole/DefaultPolicy/Resource: AwsSolutions-IAM5[Resource::*]',
    ]);
    for (const { reason } of acknowledgements(stack.node.root)) expect(reason.length).toBeGreaterThan(20);
  });

  it('notices a stack-wide or construct-wide acknowledgement (the check above really looks)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const careless = new CommandBusStack(app, 'CommandBus', { namespace: 'shop', domains: DOMAINS, workerEntry: WORKER_ENTRY });
    Validations.of(careless).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'everything, everywhere' });
    Validations.of(careless.bus.table).acknowledge({ id: 'AwsSolutions-DDB3', reason: 'on the L2, so on all of its children' });

    expect(misplacedAcknowledgements(app)).toEqual(['CommandBus: AwsSolutions-IAM5[Resource::*]', 'CommandBus/Bus/CommandsTable: AwsSolutions-DDB3']);
  });

  it('acknowledges only findings that really occur, on the resource that has them', () => {
    const unacknowledging = new AwsSolutionsChecks();
    (unacknowledging as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
    const findings = unacknowledging
      .validateScope(stack)
      .violations.flatMap((violation) => violation.violatingResources.map((resource) => `${resource.constructPath}: ${violation.ruleName}`));

    for (const { path, id } of acknowledgements(stack.node.root)) expect(findings).toContain(`${path}: ${id}`);
  });
});

describe('Stack: queues', () => {
  it('gives every commands queue a RedrivePolicy to its own TSQ queue, above the largest maxAttempts', () => {
    for (const domain of DOMAINS.map((d) => d.name)) {
      const [, commands] = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.QueueName === `shop-${domain}-commands`)!;
      const [tsqId, tsq] = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.QueueName === `shop-${domain}-tsq`)!;
      expect(commands.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [tsqId, 'Arn'] }, maxReceiveCount: TSQ_MAX_RECEIVE_COUNT });
      expect(TSQ_MAX_RECEIVE_COUNT).toBeGreaterThan(MAX_ALLOWED_ATTEMPTS);
      expect(tsq.Properties.MessageRetentionPeriod).toBeGreaterThan(commands.Properties.MessageRetentionPeriod);
    }
  });

  it('sets MaximumMessageSize explicitly and encrypts every queue', () => {
    const queues = ofType('AWS::SQS::Queue');
    // Per domain commands and TSQ, the replies, the jobs queue, and the stats aggregator's failed batches.
    expect(queues).toHaveLength(DOMAINS.length * 2 + 3);
    for (const [, queue] of queues) {
      expect(queue.Properties.MaximumMessageSize).toEqual(expect.any(Number));
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
  });

  it("gives TSQ queues SQS's 1 MiB maximum, so a parked copy (extra attributes) of a 256 KiB command always fits", () => {
    const size = (name: string) => ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.QueueName === name)![1].Properties.MaximumMessageSize;
    expect(MAX_MESSAGE_BYTES).toBe(262_144);
    expect(TSQ_MAX_MESSAGE_BYTES).toBe(1_048_576);
    for (const domain of DOMAINS.map((d) => d.name)) {
      expect(size(`shop-${domain}-tsq`)).toBe(1_048_576);
      expect(size(`shop-${domain}-commands`)).toBe(262_144);
    }
    expect(size('shop-replies')).toBe(262_144);
  });

  it('sizes every queue as the embedded stack creates it (the shared queue definitions)', () => {
    const definitions = queueDefinitions(
      resourceNames('shop'),
      DOMAINS.map((d) => d.name),
    );
    expect(definitions).toHaveLength(ofType('AWS::SQS::Queue').filter(([id]) => !id.startsWith('BusStatsFailedBatches')).length);
    for (const definition of definitions) {
      const [, queue] = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.QueueName === definition.name)!;
      expect(queue.Properties.MaximumMessageSize).toBe(Number(definition.attributes.MaximumMessageSize));
    }
  });

  it('keeps each commands queue visibility timeout at least six times the worker timeout', () => {
    const [, worker] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('BusWorker'))!;
    for (const [, queue] of ofType('AWS::SQS::Queue').filter(([, r]) => String(r.Properties.QueueName).endsWith('-commands'))) {
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * worker.Properties.Timeout);
    }
  });
});

describe('Stack: worker', () => {
  const sqsMappings = () => ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.EventSourceArn).includes('CommandsQueue'));
  it('reads each commands queue through an event source mapping with partial batch failures', () => {
    const mappings = sqsMappings();
    expect(mappings).toHaveLength(DOMAINS.length);
    for (const [, mapping] of mappings) {
      expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(mapping.Properties.BatchSize).toBe(10);
      expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(1);
      expect(mapping.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
    }
  });

  it('reserves no less concurrency than the mappings may use', () => {
    const total = sqsMappings().reduce((sum, [, m]) => sum + m.Properties.ScalingConfig.MaximumConcurrency, 0);
    const [, worker] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('BusWorker'))!;
    expect(worker.Properties.ReservedConcurrentExecutions).toBeGreaterThanOrEqual(total);
  });

  it('runs every function on nodejs24.x, arm64', () => {
    const functions = ofType('AWS::Lambda::Function').filter(([id]) => /^Bus(Worker|Api|TsqSweeper)[A-F0-9]{8}$/.test(id));
    expect(functions).toHaveLength(3);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });
});

describe('Stack: bundles', () => {
  /** The bundled handler of a function, loaded as Lambda's Node 24 runtime would load it. */
  const bundledHandler = async (idPrefix: string) => {
    const [, fn] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(idPrefix))!;
    const asset = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const module = (await import(pathToFileURL(path.join(assemblyDirectory, `asset.${asset}`, 'index.mjs')).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    return module.handler;
  };
  const context = { getRemainingTimeInMillis: () => 5000, functionName: 'test', awsRequestId: 'r-1' };

  it('builds an API bundle that loads and serves its OpenAPI document', async () => {
    const handler = await bundledHandler('BusApi');

    const response = (await handler(
      { version: '2.0', rawPath: '/openapi.json', headers: {}, requestContext: { http: { method: 'GET', path: '/openapi.json' } } },
      context,
    )) as {
      statusCode: number;
      body: string;
    };

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).openapi).toBe('3.1.0');
  });

  it('builds a worker bundle that loads and answers an SQS batch with partial failures', async () => {
    const handler = await bundledHandler('BusWorker');

    expect(await handler({ Records: [] }, context)).toEqual({ batchItemFailures: [] });
  });

  it('builds a stats aggregator bundle that loads and answers a tumbling-window invocation', async () => {
    const handler = await bundledHandler('BusStatsAggregator');

    expect(await handler({ Records: [], shardId: 'shardId-1', isFinalInvokeForWindow: true }, context)).toEqual({ state: {} });
  });

  it('builds a job-runner bundle that loads and drops a message that names no job', async () => {
    const handler = await bundledHandler('BusJobRunner');

    expect(await handler({ Records: [{ messageId: 'm-1', body: 'not json' }] }, context)).toEqual({ batchItemFailures: [] });
  });
});

describe('Stack: table', () => {
  it('is on demand, with point-in-time recovery and the indexes of the shared definition', () => {
    const definition = commandsTableDefinition('shop-commands');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'shop-commands',
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: definition.KeySchema,
      GlobalSecondaryIndexes: definition.GlobalSecondaryIndexes.map((index) =>
        Match.objectLike({ IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection }),
      ),
    });
  });
});

describe('Stack: IAM', () => {
  const statementsOf = (rolePrefix: string) =>
    ofType('AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref.startsWith(rolePrefix)))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
  const actions = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  it('does not let the worker invoke the API (operator routes)', () => {
    const worker = statementsOf('BusWorkerServiceRole');
    expect(worker.length).toBeGreaterThan(0);
    expect(actions(worker).some((action) => action.startsWith('execute-api:') || action === '*')).toBe(false);
  });

  it('gives every function DynamoDB access to the commands table only', () => {
    const [tableId] = ofType('AWS::DynamoDB::Table')[0]!;
    for (const prefix of ['BusApiServiceRole', 'BusWorkerServiceRole', 'BusTsqSweeperServiceRole']) {
      const dynamo = statementsOf(prefix).filter((s) => actions([s]).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo.length).toBeGreaterThan(0);
      for (const statement of dynamo) {
        const targets = JSON.stringify(statement.Resource);
        expect(targets).toContain(tableId);
        expect(targets).not.toMatch(/table\/\*|"\*"/);
      }
    }
  });

  it('lets only the API query indexes; the worker reads and writes items', () => {
    const workerActions = actions(statementsOf('BusWorkerServiceRole').filter((s) => actions([s]).some((a) => a.startsWith('dynamodb:'))));
    expect(workerActions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });
});

describe('Stack: function roles and logs', () => {
  it('attaches no AWS managed policy: AWSLambdaBasicExecutionRole would let a function write every log group', () => {
    expect(JSON.stringify(template.toJSON()).includes('AWSLambdaBasicExecutionRole')).toBe(false);
    for (const [, role] of ofType('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
  });

  it('gives each function its own log group (with retention) and a role that can write only to it', () => {
    expect(functions()).toHaveLength(3);
    const logGroups = new Set<string>();
    for (const [, fn] of functions()) {
      const logGroupId = (fn.Properties.LoggingConfig.LogGroup as { Ref: string }).Ref;
      expect(resources[logGroupId]!.Type).toBe('AWS::Logs::LogGroup');
      expect(resources[logGroupId]!.Properties.RetentionInDays).toBeGreaterThan(0);
      logGroups.add(logGroupId);

      const logs = statementsOfRole(roleIdOf(fn)).filter((s) => actionsOf([s]).some((a) => a.startsWith('logs:')));
      expect(actionsOf(logs).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const statement of logs) expect(statement.Resource).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    }
    expect(logGroups.size).toBe(3);
  });

  it("grants no CloudWatch action: the worker's metrics go out as EMF lines in its log group, not PutMetricData", () => {
    for (const [, fn] of functions()) {
      expect(actionsOf(statementsOfRole(roleIdOf(fn))).filter((action) => action.startsWith('cloudwatch:'))).toEqual([]);
    }
  });

  it('keeps active tracing with its X-Ray grant; besides it only dynamodb:ListStreams is on "*"', () => {
    for (const [, fn] of functions()) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(actionsOf(statementsOfRole(roleIdOf(fn)))).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    }
    const everyStatement = ofType('AWS::IAM::Policy').flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
    const wildcards = everyStatement.filter((s) => JSON.stringify(s.Resource).includes('*'));
    expect(wildcards.length).toBeGreaterThan(0);
    for (const statement of wildcards) {
      expect(statement.Resource).toBe('*');
      // Neither X-Ray's two actions nor ListStreams support resource-level permissions.
      expect([['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], ['dynamodb:ListStreams']]).toContainEqual(actionsOf([statement]).sort());
    }
  });

  it("lets the API query the table's indexes by name, not index/*", () => {
    const [, api] = functions().find(([id]) => id.startsWith('BusApi'))!;
    const dynamo = statementsOfRole(roleIdOf(api)).filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    const targets = JSON.stringify(dynamo.map((s) => s.Resource));
    expect(actionsOf(dynamo)).toContain('dynamodb:Query');
    for (const index of commandsTableDefinition('shop-commands').GlobalSecondaryIndexes) expect(targets).toContain(`/index/${index.IndexName}"`);
    expect(targets).not.toContain('*');
  });

  it('still grants the worker its queues: receive from the commands queues, send to commands, TSQ and replies', () => {
    const [, worker] = functions().find(([id]) => id.startsWith('BusWorker'))!;
    const sqs = statementsOfRole(roleIdOf(worker)).filter((s) => actionsOf([s]).some((a) => a.startsWith('sqs:')));
    const queueId = (name: string) => ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.QueueName === name)![0];
    const can = (action: string, name: string) =>
      sqs.some((s) => actionsOf([s]).includes(action) && JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [queueId(name), 'Arn'] }));
    for (const domain of DOMAINS.map((d) => d.name)) {
      expect(can('sqs:ReceiveMessage', `shop-${domain}-commands`)).toBe(true);
      expect(can('sqs:DeleteMessage', `shop-${domain}-commands`)).toBe(true);
      expect(can('sqs:SendMessage', `shop-${domain}-commands`)).toBe(true);
      expect(can('sqs:SendMessage', `shop-${domain}-tsq`)).toBe(true);
    }
    expect(can('sqs:SendMessage', 'shop-replies')).toBe(true);
  });
});

describe('Stack: TSQ sweeper', () => {
  it('runs every 5 minutes over every domain, with item reads and TSQ queue access only', () => {
    const [sweeperId, sweeper] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('BusTsqSweeper'))!;
    expect(sweeper.Properties.Environment.Variables.COMMANDBUS_DOMAINS).toBe('payments,test');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [sweeperId, 'Arn'] } })],
    });
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref.startsWith('BusTsqSweeperServiceRole')))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const actions = statements.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:GetItem']);
    expect(actions).not.toContain('sqs:SendMessage');
    expect(JSON.stringify(statements.filter((st) => JSON.stringify(st.Action).includes('sqs:')).map((st) => st.Resource))).not.toMatch(/CommandsQueue/);
  });
});

describe('Stack: API', () => {
  it('requires IAM authorisation on every route', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route');
    expect(routes.length).toBeGreaterThan(0);
    for (const [, route] of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('logs access on the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }) });
  });
});

describe('Stack: alarms and outputs', () => {
  it('alarms on TSQ depth and age per domain, on worker errors and throttles, and on job-runner errors', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const byMetric = (name: string) => alarms.filter((alarm) => alarm.MetricName === name);
    // TSQ depth per domain, and the stats aggregator's failed batches.
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toHaveLength(DOMAINS.length + 1);
    expect(byMetric('ApproximateAgeOfOldestMessage')).toHaveLength(DOMAINS.length);
    // The worker's, the stats aggregator's and the job runner's.
    expect(byMetric('Errors')).toHaveLength(3);
    expect(byMetric('Throttles')).toHaveLength(1);
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
  });

  it('outputs every endpoint, queue and table', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    for (const name of ['ApiUrl', 'TableName', 'RepliesQueueUrl', 'Namespace', 'CommandsQueueUrlpayments', 'TsqQueueArnpayments', 'CommandsQueueUrltest']) {
      expect(outputs).toContain(name);
    }
  });
});

describe('Stack: job runner', () => {
  const jobRunner = () => ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('BusJobRunner'))!;

  it('runs the job-runner Lambda from the jobs queue, one message at a time, partial failures reported, within the visibility timeout', () => {
    const [jobRunnerId, fn] = jobRunner();
    const [queueId, queue] = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.QueueName === 'shop-jobs')!;
    const [[, mapping]] = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.FunctionName).includes(jobRunnerId)) as [
      [string, Resource],
    ];
    expect(mapping.Properties.EventSourceArn).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    expect(mapping.Properties.BatchSize).toBe(1);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    // A dead runner's message comes back only after its lease has expired.
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThan(fn.Properties.Timeout);
    expect(fn.Properties.Runtime).toBe('nodejs24.x');
  });

  it('gives the job runner item access, table queries and the tsq index only; its queues to send to; and the API the jobs queue', () => {
    const [, fn] = jobRunner();
    const statements = statementsOfRole(roleIdOf(fn));
    const dynamo = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    expect(actionsOf(dynamo).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const targets = JSON.stringify(dynamo.map((s) => s.Resource));
    expect(targets).toContain('/index/tsq');
    expect(targets).not.toMatch(/index\/\*|index\/byTime|"\*"/);
    const sends = statements.filter((s) => actionsOf([s]).includes('sqs:SendMessage'));
    expect(JSON.stringify(sends.map((s) => s.Resource))).toMatch(/JobsQueue/);
    const [, api] = ofType('AWS::Lambda::Function').find(([id]) => /^BusApi[A-F0-9]{8}$/.test(id))!;
    const apiSends = statementsOfRole(roleIdOf(api)).filter((s) => actionsOf([s]).includes('sqs:SendMessage'));
    expect(JSON.stringify(apiSends.map((s) => s.Resource))).toMatch(/JobsQueue/);
  });
});

describe('Stack: parked-command events', () => {
  it('sends one CommandParked event per command entering the TSQ, from the table stream through a pipe to the stack bus', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0]!;
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const [[, pipe]] = ofType('AWS::Pipes::Pipe') as [[string, Resource]];
    const filters = (pipe.Properties.SourceParameters.FilterCriteria.Filters as { Pattern: string }[]).map((filter) => JSON.parse(filter.Pattern));
    // A transition into IN_TSQ from another status, or a record created parked; nothing else.
    expect(filters).toEqual([
      { eventName: ['MODIFY'], dynamodb: { NewImage: { status: { S: ['IN_TSQ'] } }, OldImage: { status: { S: [{ 'anything-but': ['IN_TSQ'] }] } } } },
      { eventName: ['INSERT'], dynamodb: { NewImage: { status: { S: ['IN_TSQ'] } } } },
    ]);
    expect(pipe.Properties.TargetParameters.EventBridgeEventBusParameters).toEqual({ DetailType: 'CommandParked', Source: 'commandbus.shop' });
    const detail = JSON.parse(pipe.Properties.TargetParameters.InputTemplate);
    expect(Object.keys(detail)).toEqual(['domain', 'commandId', 'commandType', 'correlationId', 'errorType', 'errorCode', 'errorMessage', 'movedToTsqAt']);
  });

  it("lets the pipe read only the table's stream and put events only on the stack's bus", () => {
    const [[, pipe]] = ofType('AWS::Pipes::Pipe') as [[string, Resource]];
    const roleId = (pipe.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(roleId);
    const events = statements.filter((s) => actionsOf([s]).includes('events:PutEvents'));
    expect(events.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^BusEvents/), 'Arn'] }]);
    const streams = statements.filter((s) => actionsOf([s]).includes('dynamodb:GetRecords'));
    expect(JSON.stringify(streams.map((s) => s.Resource))).toContain('StreamArn');
  });
});

describe('Stack: scoped operators (grant helpers)', () => {
  /** The execute-api resources of the grant policy of role `id`, as `{METHOD}{path}` after the stage. */
  const granted = (template: Template, id: string) => {
    const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((logicalId) => logicalId.startsWith(id))!;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    );
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown }[]);
    expect(statements.every((statement) => statement.Action === 'execute-api:Invoke')).toBe(true);
    return statements
      .flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]))
      .map((resource) => {
        const parts = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        expect(parts).toContainEqual({ Ref: expect.stringMatching(/^BusHttpApi/) });
        return String(parts.at(-1)).replace(/^\/\$default\//, '');
      });
  };

  let scoped: Template;
  beforeAll(() => {
    scoped = synth((stack) => {
      const bus = (stack as CommandBusStack).bus;
      const role = (id: string) => new Role(stack, id, { assumedBy: new AccountRootPrincipal() });
      bus.grantRead(role('Viewer'), { domains: '*' });
      const payments = role('PaymentsOperator');
      bus.grantRead(payments, { domains: ['payments'] });
      bus.grantOperate(payments, { domains: ['payments'], actions: ['retry'] });
      bus.grantSend(role('PaymentsSender'), { domains: ['payments'] });
      bus.grantAdmin(role('PaymentsAdmin'), { domains: ['payments'] });
    }).template;
  }, 120_000);

  it("names only payments' retry ARNs (and its reads) for a payments operator of retries", () => {
    expect([...new Set(granted(scoped, 'PaymentsOperator'))].sort()).toEqual(
      [
        'GET/domains/payments/commands',
        'GET/commands/payments/*',
        'GET/domains/payments/counts',
        'GET/domains/payments/stats',
        'GET/domains/payments/statuses/*/commands',
        'GET/domains/payments/tsq',
        'GET/domains/payments/tsq/groups',
        'GET/domains/payments/shards',
        'GET/domains/payments/jobs',
        'GET/domains/payments/jobs/*',
        'GET/openapi.json',
        'POST/tsq/payments/*/retry',
      ].sort(),
    );
  });

  it('gives an administrator of payments its shard count route only (grantAdmin)', () => {
    expect(granted(scoped, 'PaymentsAdmin').sort()).toEqual(['GET/openapi.json', 'POST/domains/payments/shards']);
  });

  it('gives a viewer GETs only, on every domain; a sender of payments its POST only', () => {
    const viewer = granted(scoped, 'Viewer');
    expect(viewer.every((pattern) => pattern.startsWith('GET/'))).toBe(true);
    expect(viewer).toEqual(expect.arrayContaining(['GET/commands', 'GET/tsq', 'GET/commands/*/*', 'GET/domains/*/tsq']));
    expect(granted(scoped, 'PaymentsSender').sort()).toEqual(['GET/openapi.json', 'POST/domains/payments/commands']);
  });

  it('keeps cdk-nag clean, acknowledging the path-parameter wildcards on each grant policy only', () => {
    // synth() above threw on any unacknowledged finding; these are the acknowledgements it added.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new CommandBusStack(app, 'CommandBus', { namespace: 'shop', domains: DOMAINS, workerEntry: WORKER_ENTRY });
    stack.bus.grantOperate(new Role(stack, 'Ops', { assumedBy: new AccountRootPrincipal() }), { domains: ['payments'] });

    const acknowledged = acknowledgements(app).filter(({ path }) => path.includes('Ops'));
    expect(acknowledged.map(({ path }) => path)).toEqual(acknowledged.map(() => 'CommandBus/Ops/DefaultPolicy/Resource'));
    expect(acknowledged.map(({ id }) => id.replace(/^.*\$default\//, '').replace(/]$/, '')).sort()).toEqual(
      [
        'POST/tsq/payments/*/retry',
        'POST/tsq/payments/*/cancel',
        'POST/tsq/payments/*/complete',
        'POST/tsq/payments/*/edit-and-retry',
        'POST/tsq-bulk/payments/*',
        'POST/tsq-jobs/payments/*',
      ].sort(),
    );
    for (const { id } of acknowledged)
      expect(id).toMatch(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<BusHttpApi[A-F0-9]{8}>\/\$default\//);
    expect(misplacedAcknowledgements(app)).toEqual([]);
  });
});

describe('Stack: stats aggregator', () => {
  const statsFunction = () => ofType('AWS::Lambda::Function').find(([id]) => /^BusStatsAggregator[A-F0-9]{8}$/.test(id))!;

  it('reads the table stream from TRIM_HORIZON in large batches, one per shard at a time, command items only, losing nothing', () => {
    const [fnId] = statsFunction();
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.FunctionName).includes(fnId));
    expect(mappings).toHaveLength(1);
    const [[, mapping]] = mappings as [[string, Resource]];
    expect(JSON.stringify(mapping.Properties.EventSourceArn)).toContain('StreamArn');
    expect(mapping.Properties).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 30,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 20,
      // A tumbling window makes each invocation name its shard: the watermarks are per shard.
      TumblingWindowInSeconds: 60,
    });
    const destination = JSON.stringify(mapping.Properties.DestinationConfig.OnFailure.Destination);
    expect(destination).toContain('StatsFailedBatches');
    const filters = (mapping.Properties.FilterCriteria.Filters as { Pattern: string }[]).map((filter) => JSON.parse(filter.Pattern));
    expect(filters).toEqual([
      { dynamodb: { NewImage: { status: { S: [{ exists: true }] } } } },
      { dynamodb: { OldImage: { status: { S: [{ exists: true }] } } } },
    ]);
    const alarmed = ofType('AWS::CloudWatch::Alarm').map(([, a]) => JSON.stringify(a.Properties.Dimensions ?? []));
    expect(alarmed.some((dimensions) => dimensions.includes('StatsFailedBatches'))).toBe(true);
  });

  it('may read and update items of the table and read its stream, nothing more', () => {
    const [, fn] = statsFunction();
    const dynamo = statementsOfRole(roleIdOf(fn)).filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    const [tableId] = ofType('AWS::DynamoDB::Table')[0]!;
    for (const statement of dynamo) {
      const actions = actionsOf([statement]).sort();
      if (statement.Resource === '*') expect(actions).toEqual(['dynamodb:ListStreams']);
      else if (JSON.stringify(statement.Resource).includes('StreamArn'))
        expect(actions).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']);
      else {
        expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
        expect(statement.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
      }
    }
    expect(actionsOf(dynamo)).toContain('dynamodb:UpdateItem');
  });
});
