import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, type CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, TreatMissingData, type Dashboard, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table, TableEncryption, type TableProps } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, PolicyStatement, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import {
  Architecture,
  FilterCriteria,
  FilterRule,
  Function as LambdaFn,
  Runtime,
  StartingPosition,
  Tracing,
  type FunctionProps,
  type IFunction,
} from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat, type BundlingOptions, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnPipe } from 'aws-cdk-lib/aws-pipes';
import { Topic, type ITopic, type TopicProps } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEPLOYMENT_DEFAULTS, DISCOVERY_OUTPUT_PREFIX, type BusDiscovery } from '@commandbus/core/deployment';
import {
  commandsTableDefinition,
  DEFAULT_NAMESPACE,
  INDEXES,
  JOB_RUNNER,
  MAX_ALLOWED_ATTEMPTS,
  MAX_MESSAGE_BYTES,
  QUEUE_DEFAULTS,
  resourceNames,
  TSQ_MAX_MESSAGE_BYTES,
  TSQ_MAX_RECEIVE_COUNT,
} from '@commandbus/core/resources';
import { scopePatterns, type Domains, type OperatorAction, type Scope } from '@commandbus/core/scopes';
import { createCommandBusDashboard } from './dashboard.ts';
import { BUNDLING, builtinHandlerCode, type BuiltinHandler } from './lambdaCode.ts';

/** The detail-type of the event sent for every command that enters the TSQ. */
export const PARKED_EVENT_DETAIL_TYPE = 'CommandParked';

/** The REST API's stage (the HTTP API serves `$default`). */
export const REST_STAGE = 'api';

export type ApiKind = 'http' | 'rest';

/** The event's detail, from the stream record's new image (DynamoDB JSON; quoted placeholders give strings). */
const PARKED_EVENT_TEMPLATE = JSON.stringify({
  domain: '<$.dynamodb.NewImage.sk.S>',
  commandId: '<$.dynamodb.NewImage.pk.S>',
  commandType: '<$.dynamodb.NewImage.commandType.S>',
  correlationId: '<$.dynamodb.NewImage.correlationId.S>',
  errorType: '<$.dynamodb.NewImage.lastError.M.type.S>',
  errorCode: '<$.dynamodb.NewImage.lastError.M.code.S>',
  errorMessage: '<$.dynamodb.NewImage.lastError.M.message.S>',
  movedToTsqAt: '<$.dynamodb.NewImage.movedToTsqAt.S>',
});

/** How a domain's failed attempts are retried. */
export interface DomainRetryPolicy {
  /**
   * Attempts a command of this domain gets when its sender names none (a sender's `maxAttempts`
   * wins). Default 3; at most MAX_ALLOWED_ATTEMPTS.
   */
  maxAttempts?: number;
  /** Delay before the 2nd attempt, doubling for each later one (whole seconds). Default 1 s. */
  baseDelay?: Duration;
  /** Upper bound of one delay (whole seconds, at most 12 h). Default 300 s. */
  maxDelay?: Duration;
}

/** One domain: its commands queue, its troubleshooting queue, and how the worker reads it. */
export interface CommandBusDomainProps {
  /** The domain's name, as commands name it (letters, digits, `_` and `-`). */
  name: string;
  /**
   * The commands queue's visibility timeout: how long a received command stays hidden while the
   * worker runs it. At least the worker's timeout (AWS refuses the event source otherwise). Default
   * six times the worker's timeout, so a batch that waits for its turn never reappears mid-run.
   */
  visibilityTimeout?: Duration;
  retryPolicy?: DomainRetryPolicy;
  /** Concurrent worker invocations for this domain (event source MaximumConcurrency, 2–1000). Default 5. */
  maxConcurrency?: number;
  /** Commands per worker invocation (1–10,000; above 10 needs a batching window). Default 10. */
  batchSize?: number;
  /** How long the event source gathers a batch (0–300 s). Default 1 s. */
  batchingWindow?: Duration;
  /** Overrides of the commands queue's props (not its name, dead-letter queue or message size, which the bus relies on). */
  commandsQueueProps?: Partial<QueueProps>;
  /** Overrides of the TSQ queue's props (not its name or message size). */
  tsqQueueProps?: Partial<QueueProps>;
}

export interface CommandBusProps {
  /** Prefix of the table, queue and function names. Default 'commandbus'. */
  namespace?: string;
  domains: CommandBusDomainProps[];

  /**
   * Your worker: a TypeScript or JavaScript file whose `handler` is `createWorkerHandler({ registry })`
   * from `@commandbus/lambda`, bundled with esbuild (NodejsFunction). Give this or
   * `existingWorkerFunctionObj`.
   */
  workerEntry?: string;
  /** Overrides of the worker function's props (timeout, memory, bundling, environment, …), with `workerEntry`. */
  workerFunctionProps?: Partial<NodejsFunctionProps>;
  /**
   * A function you made yourself to be the worker (its handler must be a commandbus worker handler).
   * The construct adds its event sources, environment variables, grants and alarms; its timeout
   * bounds the queues' visibility timeouts.
   */
  existingWorkerFunctionObj?: LambdaFn;

  /**
   * The operator API (API Gateway, IAM-authorised on every route): send, read, and the TSQ actions
   * for people and tools (the console and CLI). Default true; false leaves out the API and its
   * Lambda (operators then need the library itself, with table and queue access). The job runner
   * (bulk actions by filter) comes with it.
   */
  operatorApi?: boolean;
  /**
   * - `'http'` (default): an HTTP API (API Gateway v2), $1.00 per million requests (us-east-1);
   * - `'rest'`: a REST API (API Gateway v1, stage `api`), $3.50 per million, plus the account-wide
   *   API Gateway CloudWatch Logs role. LocalStack's free image emulates REST APIs only.
   */
  apiKind?: ApiKind;
  /**
   * Your API entry (typed commands: `export const handler = createApiHandler({ schemas })`),
   * bundled with esbuild. Default: the built-in API, which checks no schema.
   */
  apiEntry?: string;
  /** Overrides of the API function's props (memory, timeout, environment, …). */
  apiFunctionProps?: Partial<FunctionProps>;

  /**
   * The commands table, made by you (e.g. shared with other constructs): its keys, stream and
   * indexes must be those of `commandsTableDefinition` (checked). Default: the construct makes it.
   */
  existingTableObj?: Table;
  /** Overrides of the table's props (removal policy, encryption key, deletion protection, …; not its keys or stream). */
  tableProps?: Partial<TableProps>;

  /** Where the alarms notify. Default: a topic the construct makes (`alarmTopicProps` overrides its props). */
  existingAlarmTopicObj?: ITopic;
  alarmTopicProps?: Partial<TopicProps>;

  /**
   * A CloudWatch dashboard: per domain sent / completed / failed / parked, latency, TSQ depth and age.
   * Default true.
   */
  dashboard?: boolean;
  /** The dashboard's name. Default: CloudFormation names it. */
  dashboardName?: string;

  /**
   * `CommandParked` events (an EventBridge Pipe from the table stream to a bus of the construct's).
   * Default true; false leaves out the bus, the pipe and its role (LocalStack's free image has no Pipes).
   */
  parkedEvents?: boolean;
  /**
   * How long the stats aggregator gathers stream records before a batch (default 30 s, at most 300):
   * longer batches cost fewer stats writes per command, shorter ones fresher stats.
   */
  statsBatchingWindow?: Duration;
  /** Retention of the functions' log groups. Default one month. */
  logRetention?: RetentionDays;
  /**
   * LocalStack's free image only (needs `apiKind: 'rest'`): it verifies no SigV4 signature and names
   * no caller, so the API records an operator action without an IAM caller as
   * `unverified:<access key id the signature claims>`. Default false; never on AWS.
   */
  unverifiedCaller?: boolean;
}

/** A domain as the construct made it. */
export interface CommandBusDomain {
  readonly name: string;
  readonly commandsQueue: Queue;
  readonly tsqQueue: Queue;
}

const DOMAIN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** NodejsFunction's bundling of your entry files: as the built-in Lambdas are bundled (lambdaCode.ts). */
const NODEJS_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: BUNDLING.target,
  minify: BUNDLING.minify,
  sourceMap: BUNDLING.sourcemap,
  sourcesContent: BUNDLING.sourcesContent,
  mainFields: [...BUNDLING.mainFields],
  externalModules: [...BUNDLING.external],
  banner: BUNDLING.banner,
};

/**
 * commandbus in your CDK app: the commands table (state and audit trail), per domain a commands queue
 * dead-lettering to its troubleshooting queue, a replies queue, your worker Lambda on SQS event
 * sources (partial batch failures), the operator API behind API Gateway with IAM authorisation, the
 * TSQ sweeper, the stats aggregator, the operator-job runner, alarms on what an operator must see,
 * and a dashboard. Table and queues come from the same definitions the embedded local stack uses.
 *
 * @example
 * const bus = new CommandBus(this, 'Bus', {
 *   domains: [{ name: 'orders', retryPolicy: { maxAttempts: 5 } }],
 *   workerEntry: 'src/worker.ts',
 * });
 * bus.grantSend(checkoutFunction, { domains: ['orders'] });
 */
export class CommandBus extends Construct {
  readonly namespace: string;
  readonly table: Table;
  readonly domains: readonly CommandBusDomain[];
  readonly repliesQueue: Queue;
  readonly worker: IFunction;
  readonly alarmTopic: ITopic;
  readonly tsqSweeper: LambdaFn;
  readonly statsAggregator: LambdaFn;
  /** The API, the API Lambda and the job runner; absent with `operatorApi: false`. */
  readonly api: HttpApi | RestApi | undefined;
  readonly apiKind: ApiKind | undefined;
  readonly apiFunction: LambdaFn | undefined;
  readonly jobRunner: LambdaFn | undefined;
  readonly jobsQueue: Queue | undefined;
  /** Where a `CommandParked` event lands for every command that enters the TSQ (absent with `parkedEvents: false`). */
  readonly events: EventBus | undefined;
  readonly dashboard: Dashboard | undefined;
  /** What every commandbus Lambda is told (COMMANDBUS_*): for a function of yours that uses the library. */
  readonly environment: Readonly<Record<string, string>>;

  private readonly logRetention: RetentionDays;

  constructor(scope: Construct, id: string, props: CommandBusProps) {
    super(scope, id);
    const namespace = props.namespace ?? DEFAULT_NAMESPACE;
    this.namespace = namespace;
    this.logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const names = resourceNames(namespace);
    validateProps(props);
    const operatorApi = props.operatorApi ?? true;

    this.table = props.existingTableObj ? checkedTable(props.existingTableObj, names.table) : this.commandsTable(names.table, props.tableProps);

    this.alarmTopic =
      props.existingAlarmTopicObj ??
      new Topic(this, 'AlarmTopic', {
        displayName: `${namespace} alarms`,
        enforceSSL: true,
        masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
        ...props.alarmTopicProps,
      });
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) =>
      new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(new SnsAction(this.alarmTopic));

    this.repliesQueue = new Queue(this, 'RepliesQueue', {
      queueName: names.repliesQueue,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    });
    Validations.of(this.repliesQueue.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "Replies are read by the callers' own consumers; whether they dead-letter is their consumer's choice.",
    });

    // The worker: yours, from an entry file or a function you made.
    const workerTimeout = props.existingWorkerFunctionObj
      ? (props.existingWorkerFunctionObj.timeout ?? Duration.seconds(3))
      : (props.workerFunctionProps?.timeout ?? Duration.seconds(DEPLOYMENT_DEFAULTS.workerTimeoutSeconds));

    this.domains = props.domains.map((domain) => {
      const tsqQueue = new Queue(this, `TsqQueue-${domain.name}`, {
        retentionPeriod: Duration.seconds(QUEUE_DEFAULTS.tsqRetentionSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        ...domain.tsqQueueProps,
        queueName: names.tsqQueue(domain.name),
        // Parking copies a received command here with extra attributes: it needs more room than the commands queue.
        maxMessageSizeBytes: TSQ_MAX_MESSAGE_BYTES,
      });
      const visibilityTimeout = domain.visibilityTimeout ?? Duration.seconds(workerTimeout.toSeconds() * DEPLOYMENT_DEFAULTS.visibilityTimeoutFactor);
      if (visibilityTimeout.toSeconds() < workerTimeout.toSeconds()) {
        throw new Error(
          `CommandBus: domain ${domain.name}: visibilityTimeout (${visibilityTimeout.toSeconds()} s) is below the worker's timeout (${workerTimeout.toSeconds()} s); SQS would hand a command out again while it runs`,
        );
      }
      const commandsQueue = new Queue(this, `CommandsQueue-${domain.name}`, {
        retentionPeriod: Duration.seconds(QUEUE_DEFAULTS.commandsRetentionSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        ...domain.commandsQueueProps,
        queueName: names.commandsQueue(domain.name),
        visibilityTimeout,
        maxMessageSizeBytes: MAX_MESSAGE_BYTES,
        // Above every allowed maxAttempts: the worker always decides before SQS dead-letters.
        deadLetterQueue: { queue: tsqQueue, maxReceiveCount: TSQ_MAX_RECEIVE_COUNT },
      });
      alarm(
        `TsqDepth-${domain.name}`,
        tsqQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
        1,
        `Commands of ${domain.name} are waiting in the troubleshooting queue`,
      );
      alarm(
        `TsqAge-${domain.name}`,
        tsqQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5) }),
        3600,
        `A ${domain.name} command has waited in the TSQ for over an hour`,
      );
      return { name: domain.name, commandsQueue, tsqQueue };
    });

    // Operator jobs' work queue: one message = work on a job for a while (the job runner).
    this.jobsQueue = operatorApi
      ? new Queue(this, 'JobsQueue', {
          queueName: names.jobsQueue,
          visibilityTimeout: Duration.seconds(JOB_RUNNER.visibilityTimeoutSeconds),
          encryption: QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          maxMessageSizeBytes: MAX_MESSAGE_BYTES,
        })
      : undefined;
    if (this.jobsQueue) {
      Validations.of(this.jobsQueue.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'Redelivery is how a job resumes after its runner dies: a message must come back, never move aside. A job whose runs keep failing stays RUNNING with its progress and problems visible (GET /domains/{domain}/jobs/{jobId}); pause and resume send a new message.',
      });
    }

    const stack = Stack.of(this);
    const queueUrls = Object.fromEntries([
      [this.repliesQueue.queueName, this.repliesQueue.queueUrl],
      ...(this.jobsQueue ? [[this.jobsQueue.queueName, this.jobsQueue.queueUrl]] : []),
      ...this.domains.flatMap(({ tsqQueue, commandsQueue }) => [
        [tsqQueue.queueName, tsqQueue.queueUrl],
        [commandsQueue.queueName, commandsQueue.queueUrl],
      ]),
    ]);
    const retryPolicies = retryPoliciesOf(props.domains);
    const environment: Record<string, string> = {
      COMMANDBUS_NAMESPACE: namespace,
      COMMANDBUS_TABLE: this.table.tableName,
      COMMANDBUS_QUEUE_URLS: stack.toJsonString(queueUrls),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...(retryPolicies === undefined ? {} : { COMMANDBUS_RETRY_POLICIES: JSON.stringify(retryPolicies) }),
    };
    this.environment = environment;

    const totalConcurrency = props.domains.reduce((sum, domain) => sum + (domain.maxConcurrency ?? DEPLOYMENT_DEFAULTS.maxConcurrency), 0);
    const worker = props.existingWorkerFunctionObj ?? this.workerFunction(props, workerTimeout, totalConcurrency);
    for (const [key, value] of Object.entries(environment)) worker.addEnvironment(key, value);
    this.worker = worker;
    // Item access only: the worker never queries the indexes.
    worker.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [this.table.tableArn] }));
    for (const [index, { commandsQueue, tsqQueue }] of this.domains.entries()) {
      const domain = props.domains[index]!;
      worker.addEventSource(
        new SqsEventSource(commandsQueue, {
          batchSize: domain.batchSize ?? DEPLOYMENT_DEFAULTS.batchSize,
          maxBatchingWindow: domain.batchingWindow ?? Duration.seconds(DEPLOYMENT_DEFAULTS.batchingWindowSeconds),
          reportBatchItemFailures: true,
          maxConcurrency: domain.maxConcurrency ?? DEPLOYMENT_DEFAULTS.maxConcurrency,
        }),
      );
      commandsQueue.grantSendMessages(worker); // a native redrive re-enqueues under a fresh token
      tsqQueue.grantSendMessages(worker); // parking
    }
    this.repliesQueue.grantSendMessages(worker);
    alarm('WorkerErrors', worker.metricErrors({ period: Duration.minutes(5) }), 1, 'The worker Lambda failed (a batch, not a command)');
    alarm('WorkerThrottles', worker.metricThrottles({ period: Duration.minutes(5) }), 1, 'The worker Lambda was throttled');

    // The TSQ sweeper: keeps the TSQ queues' depth and age (and their alarms) true.
    this.tsqSweeper = this.builtinFunction('TsqSweeper', 'tsqSweeper', {
      timeout: Duration.minutes(2),
      environment: { ...environment, COMMANDBUS_DOMAINS: props.domains.map((domain) => domain.name).join(',') },
    });
    this.tsqSweeper.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.table.tableArn] }));
    for (const { tsqQueue } of this.domains) tsqQueue.grantConsumeMessages(this.tsqSweeper);
    new Rule(this, 'TsqSweepSchedule', { schedule: Schedule.rate(Duration.minutes(5)), targets: [new LambdaFunction(this.tsqSweeper)] });

    this.statsAggregator = this.statsFunction(names.table, environment, alarm, props.statsBatchingWindow ?? Duration.seconds(30));

    if (operatorApi) {
      const { api, apiFunction, jobRunner } = this.operatorApi(props, namespace, environment, alarm);
      this.api = api;
      this.apiKind = props.apiKind ?? 'http';
      this.apiFunction = apiFunction;
      this.jobRunner = jobRunner;
    } else {
      this.api = undefined;
      this.apiKind = undefined;
      this.apiFunction = undefined;
      this.jobRunner = undefined;
    }

    if (this.api) {
      const discovery: BusDiscovery = {
        v: 1,
        apiUrl: this.apiUrl,
        namespace,
        domains: this.domains.map(({ name }) => name),
        partition: stack.partition,
        region: stack.region,
        account: stack.account,
      };
      new CfnOutput(this, 'Discovery', { description: `${DISCOVERY_OUTPUT_PREFIX} ${this.node.path}`, value: stack.toJsonString(discovery) });
    }

    this.events = props.parkedEvents === false ? undefined : this.parkedEvents(namespace);
    this.dashboard =
      props.dashboard === false
        ? undefined
        : createCommandBusDashboard(this, 'Dashboard', {
            namespace,
            domains: this.domains.map(({ name, commandsQueue, tsqQueue }) => ({ name, commands: commandsQueue, tsq: tsqQueue })),
            ...(props.dashboardName === undefined ? {} : { dashboardName: props.dashboardName }),
          });

    this.acknowledgeTracingGrants([worker, this.tsqSweeper, ...(this.apiFunction ? [this.apiFunction] : []), ...(this.jobRunner ? [this.jobRunner] : [])]);
  }

  /** The API's id (an HttpApi's or a RestApi's). */
  get apiId(): string {
    const api = this.requireApi('apiId');
    return api instanceof RestApi ? api.restApiId : api.apiId;
  }

  /** The stage operator calls go to: `$default` (HTTP API) or `api` (REST API). */
  get apiStage(): string {
    const api = this.requireApi('apiStage');
    return api instanceof RestApi ? REST_STAGE : api.defaultStage!.stageName;
  }

  /** The API's base URL (a REST API's includes its stage). */
  get apiUrl(): string {
    const api = this.requireApi('apiUrl');
    return api instanceof RestApi ? api.url : api.apiEndpoint;
  }

  /**
   * Lets a principal read (list, get, audit, history, counts, stats, the TSQ) the given domains, or
   * every domain with `'*'` (which includes `GET /commands?domain=` and `GET /tsq?domain=`; a reader
   * of some domains uses `/domains/{domain}/commands` and `/domains/{domain}/tsq`).
   */
  grantRead(principal: IGrantable, options: { domains: Domains }): Grant {
    return this.grantScope(principal, { read: options.domains });
  }

  /** Lets a principal send commands to the given domains (`POST /domains/{domain}/commands`), or to any with `'*'` (also `POST /commands`). */
  grantSend(principal: IGrantable, options: { domains: Domains }): Grant {
    return this.grantScope(principal, { send: options.domains });
  }

  /** Lets a principal take the given operator actions (default: all) on parked commands of the given domains. It reads nothing: add grantRead. */
  grantOperate(principal: IGrantable, options: { domains: Domains; actions?: readonly OperatorAction[] | '*' }): Grant {
    return this.grantScope(principal, { operate: { domains: options.domains, actions: options.actions ?? '*' } });
  }

  /** Lets a principal administer the given domains (their index shard count), or every domain with `'*'`. It reads nothing: add grantRead. */
  grantAdmin(principal: IGrantable, options: { domains: Domains }): Grant {
    return this.grantScope(principal, { admin: options.domains });
  }

  /**
   * `execute-api:Invoke` on exactly the routes a scope allows (`@commandbus/core/scopes`, the patterns
   * the local runtime checks its tokens against):
   * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}`, with a `*` for the
   * command id (and for the domain when `'*'`). For a principal whose policy is in this construct's
   * stack, the wildcard finding (AwsSolutions-IAM5) is acknowledged on that policy: the `*`s stand
   * for path parameters only.
   */
  grantScope(principal: IGrantable, scope: Scope): Grant {
    const stack = Stack.of(this);
    const apiId = this.apiId;
    const stage = this.apiStage;
    const resourceArns = scopePatterns(scope).map((pattern) =>
      stack.formatArn({ service: 'execute-api', resource: apiId, resourceName: `${stage}/${pattern}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    );
    if (resourceArns.length === 0) throw new Error('CommandBus.grantScope: the scope allows nothing');
    const grant = Grant.addToPrincipal({ grantee: principal, actions: ['execute-api:Invoke'], resourceArns });
    const policy = grant.principalStatements.length > 0 ? (principal.grantPrincipal as { node?: Role['node'] }).node?.tryFindChild('DefaultPolicy') : undefined;
    const resource = policy?.node.defaultChild;
    if (resource && Stack.of(resource) === stack) {
      // cdk-nag names each wildcard resource as it renders the ARN: a reference as `<LogicalId>`.
      for (const arn of resourceArns.filter((candidate) => nagRendering(stack, candidate).includes('*'))) {
        Validations.of(resource).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagRendering(stack, arn)}]`,
          reason:
            'execute-api:Invoke on a route of CommandBus.grantScope: each "*" stands for a path parameter (a command id, or every domain when asked for).',
        });
      }
    }
    return grant;
  }

  /**
   * Lets a function of yours use the library directly on this bus (`CommandBus.send`, reads): the
   * COMMANDBUS_* environment, item writes and reads and index queries on the table, and sending to
   * the domains' commands queues. Prefer grantSend (through the API) for producers outside AWS Lambda.
   */
  grantLibraryAccess(fn: LambdaFn): void {
    for (const [key, value] of Object.entries(this.environment)) fn.addEnvironment(key, value);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
        resources: [this.table.tableArn, ...this.indexArns()],
      }),
    );
    for (const { commandsQueue } of this.domains) commandsQueue.grantSendMessages(fn);
  }

  private requireApi(what: string): HttpApi | RestApi {
    if (!this.api) throw new Error(`CommandBus.${what}: this bus has no operator API (operatorApi: false)`);
    return this.api;
  }

  private indexArns(): string[] {
    return commandsTableDefinition(this.table.tableName).GlobalSecondaryIndexes.map((index) => `${this.table.tableArn}/index/${index.IndexName}`);
  }

  private workerFunction(props: CommandBusProps, timeout: Duration, totalConcurrency: number): NodejsFunction {
    if (!props.workerEntry) throw new Error('CommandBus: give your worker, as workerEntry (a file) or existingWorkerFunctionObj');
    const { bundling, environment, ...overrides } = props.workerFunctionProps ?? {};
    const common = this.commonFunctionProps('Worker', { timeout, environment: environment ?? {} });
    return new NodejsFunction(this, 'Worker', {
      ...common,
      entry: props.workerEntry,
      handler: 'handler',
      // No lower than the mappings' MaximumConcurrency: throttled polls would burn receives and could
      // dead-letter a healthy command.
      reservedConcurrentExecutions: totalConcurrency,
      ...overrides,
      timeout,
      environment: common.environment,
      bundling: { ...NODEJS_BUNDLING, ...bundling },
    });
  }

  private operatorApi(
    props: CommandBusProps,
    namespace: string,
    environment: Record<string, string>,
    alarm: (id: string, metric: IMetric, threshold: number, description: string) => void,
  ) {
    const jobs = this.jobsQueue!;
    if (props.unverifiedCaller && props.apiKind !== 'rest') throw new Error("CommandBus: unverifiedCaller is for LocalStack's REST API only (apiKind 'rest')");
    const apiOptions = {
      timeout: Duration.seconds(DEPLOYMENT_DEFAULTS.apiTimeoutSeconds),
      environment: props.unverifiedCaller ? { ...environment, COMMANDBUS_UNVERIFIED_CALLER: 'sigv4-access-key' } : environment,
      overrides: props.apiFunctionProps,
    };
    const apiFunction = props.apiEntry ? this.entryFunction('Api', props.apiEntry, apiOptions) : this.builtinFunction('Api', 'api', apiOptions);
    // The table and its indexes by name (Table.grant would add `index/*`).
    apiFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
        resources: [this.table.tableArn, ...this.indexArns()],
      }),
    );
    for (const { commandsQueue } of this.domains) commandsQueue.grantSendMessages(apiFunction);
    this.repliesQueue.grantSendMessages(apiFunction);
    jobs.grantSendMessages(apiFunction); // starting or resuming a job wakes the job runner

    // The job runner: works on operator jobs, one message at a time, through the operator paths.
    const jobRunner = this.builtinFunction('JobRunner', 'jobRunner', { timeout: Duration.seconds(JOB_RUNNER.lambdaTimeoutSeconds), environment });
    jobRunner.addToRolePolicy(
      new PolicyStatement({
        // Items (jobs, commands, group counters, in transactions too), audit trails (Query on the table), the TSQ listing (its index).
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [this.table.tableArn, `${this.table.tableArn}/index/${INDEXES.tsq.name}`],
      }),
    );
    jobRunner.addEventSource(new SqsEventSource(jobs, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }));
    jobs.grantSendMessages(jobRunner); // a run cut short by its budget sends its continuation
    for (const { commandsQueue } of this.domains) commandsQueue.grantSendMessages(jobRunner); // retry re-enqueues
    this.repliesQueue.grantSendMessages(jobRunner); // cancel and complete reply
    alarm('JobRunnerErrors', jobRunner.metricErrors({ period: Duration.minutes(5) }), 1, 'The job runner failed a run (the job resumes from its checkpoint)');

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: this.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const api = props.apiKind === 'rest' ? this.restApi(namespace, apiFunction, accessLogs) : this.httpApi(namespace, apiFunction, accessLogs);
    return { api, apiFunction, jobRunner };
  }

  /** The HTTP API (API Gateway v2): IAM on every route, GET and POST on `/{proxy+}` to the API Lambda, access logs. */
  private httpApi(namespace: string, apiFunction: IFunction, accessLogs: LogGroup): HttpApi {
    const api = new HttpApi(this, 'HttpApi', {
      apiName: `${namespace}-api`,
      defaultAuthorizer: new HttpIamAuthorizer(),
      defaultIntegration: new HttpLambdaIntegration('ApiIntegration', apiFunction),
    });
    api.addRoutes({ path: '/{proxy+}', methods: [HttpMethod.GET, HttpMethod.POST], integration: new HttpLambdaIntegration('ApiRoutes', apiFunction) });
    const stage = api.defaultStage!.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        caller: '$context.identity.caller',
        user: '$context.identity.userArn',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latency: '$context.responseLatency',
      }),
    };
    return api;
  }

  /**
   * The REST API (API Gateway v1, `apiKind: 'rest'`): the same routes as the HTTP API — GET and POST
   * on `/{proxy+}`, each with IAM authorisation, a Lambda proxy integration (payload 1.0, which the
   * API Lambda turns into the 2.0 shape) — on a regional endpoint, stage `api`, with access logs and
   * error logs. IAM checks `execute-api:Invoke` on the request's own path, so the grant helpers'
   * ARNs work as for the HTTP API, with the stage `api` for `$default`.
   */
  private restApi(namespace: string, apiFunction: IFunction, accessLogs: LogGroup): RestApi {
    const api = new RestApi(this, 'RestApi', {
      restApiName: `${namespace}-api`,
      endpointTypes: [EndpointType.REGIONAL],
      // Stage logging needs the account's API Gateway CloudWatch Logs role: this construct sets it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: REST_STAGE,
        loggingLevel: MethodLoggingLevel.ERROR,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            caller: '$context.identity.caller',
            user: '$context.identity.userArn',
            resourcePath: '$context.resourcePath',
            path: '$context.path',
            status: '$context.status',
            latency: '$context.responseLatency',
          }),
        ),
      },
    });
    const proxy = api.root.addResource('{proxy+}');
    const integration = new LambdaIntegration(apiFunction, { proxy: true });
    for (const method of ['GET', 'POST']) {
      const resource = proxy.addMethod(method, integration, { authorizationType: AuthorizationType.IAM }).node.defaultChild!;
      Validations.of(resource).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'Callers authenticate with IAM (SigV4) and are authorised per route by execute-api:Invoke (grantScope), not by a Cognito user pool.',
      });
    }
    Validations.of(api.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'The API Lambda checks every request itself (path and query parameters, body; a 400 naming the field), as it does behind the HTTP API, which has no gateway validation either.',
    });
    Validations.of(api.deploymentStage.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires IAM (SigV4): unsigned requests are refused before the Lambda runs; the HTTP API variant has no WAF either. Attach a web ACL to the stage where one is wanted.',
    });
    Validations.of(api.node.findChild('CloudWatchRole').node.defaultChild!).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-wide logging role: the AWS managed policy is the documented one for it, and it is assumed by apigateway.amazonaws.com only.",
    });
    return api;
  }

  /**
   * One `CommandParked` event per command entering the TSQ, on a bus of the construct's own, so users
   * can route alerts per domain, type or error code with EventBridge rules. An EventBridge Pipe
   * reads the table's stream and lets through only writes that make a command IN_TSQ (a transition
   * from another status, or a record created parked); the worker does nothing more for it, and the
   * happy path pays nothing.
   */
  private parkedEvents(namespace: string): EventBus {
    const bus = new EventBus(this, 'Events', { eventBusName: `${namespace}-events` });
    const role = new Role(this, 'ParkedEventsPipeRole', { assumedBy: new ServicePrincipal('pipes.amazonaws.com') });
    this.table.grantStreamRead(role);
    bus.grantPutEventsTo(role);
    const parked = { NewImage: { status: { S: ['IN_TSQ'] } } };
    const pipe = new CfnPipe(this, 'ParkedEventsPipe', {
      name: `${namespace}-parked-events`,
      roleArn: role.roleArn,
      source: this.table.tableStreamArn!,
      sourceParameters: {
        dynamoDbStreamParameters: { startingPosition: 'LATEST', batchSize: 10, maximumBatchingWindowInSeconds: 1 },
        filterCriteria: {
          filters: [
            { pattern: JSON.stringify({ eventName: ['MODIFY'], dynamodb: { ...parked, OldImage: { status: { S: [{ 'anything-but': ['IN_TSQ'] }] } } } }) },
            { pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: parked }) },
          ],
        },
      },
      target: bus.eventBusArn,
      targetParameters: {
        eventBridgeEventBusParameters: { detailType: PARKED_EVENT_DETAIL_TYPE, source: `commandbus.${namespace}` },
        inputTemplate: PARKED_EVENT_TEMPLATE,
      },
    });
    pipe.node.addDependency(role);
    Validations.of(role.node.findChild('DefaultPolicy').node.defaultChild!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only dynamodb:ListStreams uses "*" (Table.grantStreamRead): it supports no resource-level permissions; stream reads are on this table\'s stream ARN.',
    });
    return bus;
  }

  /**
   * The stats aggregator: fed from the table's stream, command items only (an event filter: counters,
   * edits and its own stats items never invoke it), in batches of up to 1000 records gathered for up
   * to 30 s (by default), one batch per shard at a time. A tumbling window makes each event name its
   * shard (the stats items' watermarks are per shard). A failing batch is bisected and retried; after
   * 20 tries its range goes to a queue (with an alarm), never silently.
   */
  private statsFunction(
    tableName: string,
    environment: Record<string, string>,
    alarm: (id: string, metric: IMetric, threshold: number, description: string) => void,
    batchingWindow: Duration,
  ) {
    const fn = this.builtinFunction('StatsAggregator', 'statsAggregator', { timeout: Duration.minutes(1), environment });
    // Read its watermarks, write its stats items: item access on the table only.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [this.table.tableArn] }));
    const failed = new Queue(this, 'StatsFailedBatches', {
      queueName: `${tableName}-stats-failed`,
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(failed.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'It is the failure destination of the stats event source mapping: it holds the shard and sequence range of batches that could not be counted, for an operator (alarmed).',
    });
    alarm(
      'StatsFailedBatchesDepth',
      failed.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      1,
      'A batch of stream records could not be counted in the stats (see the queue for its shard and range)',
    );
    const command = { status: { S: FilterRule.exists() } };
    fn.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 1000,
        maxBatchingWindow: batchingWindow,
        parallelizationFactor: 1,
        bisectBatchOnError: true,
        retryAttempts: 20,
        tumblingWindow: Duration.seconds(60),
        onFailure: new SqsDlq(failed),
        filters: [FilterCriteria.filter({ dynamodb: { NewImage: command } }), FilterCriteria.filter({ dynamodb: { OldImage: command } })],
      }),
    );
    alarm('StatsErrors', fn.metricErrors({ period: Duration.minutes(5) }), 1, 'The stats aggregator failed a batch (it is retried)');
    Validations.of(fn.role!.node.findChild('DefaultPolicy').node.defaultChild!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only dynamodb:ListStreams (the stream event source grant) and the X-Ray statement use "*": neither supports resource-level permissions; stream reads are on this table\'s stream ARN.',
    });
    return fn;
  }

  /** The commands table, read from the shared definition. */
  private commandsTable(tableName: string, overrides: Partial<TableProps> | undefined): Table {
    const definition = commandsTableDefinition(tableName);
    for (const field of ['partitionKey', 'sortKey', 'stream', 'tableName'] as const) {
      if (overrides?.[field] !== undefined) throw new Error(`CommandBus: tableProps.${field} cannot be overridden (the bus's keys, name and stream are fixed)`);
    }
    const type = (name: string) => {
      const attribute = definition.AttributeDefinitions.find((a) => a.AttributeName === name);
      if (!attribute) throw new Error(`attribute ${name} is not defined`);
      return attribute.AttributeType === 'S' ? AttributeType.STRING : attribute.AttributeType === 'N' ? AttributeType.NUMBER : AttributeType.BINARY;
    };
    const key = (schema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[], kind: 'HASH' | 'RANGE') => {
      const name = schema.find((k) => k.KeyType === kind)!.AttributeName;
      return { name, type: type(name) };
    };
    const table = new Table(this, 'CommandsTable', {
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      ...overrides,
      tableName,
      partitionKey: key(definition.KeySchema, 'HASH'),
      sortKey: key(definition.KeySchema, 'RANGE'),
      // Feeds the stats aggregator and the parked-command events: no write costs more for it.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
    });
    for (const index of definition.GlobalSecondaryIndexes) {
      const projection = index.Projection;
      table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: key(index.KeySchema, 'HASH'),
        sortKey: key(index.KeySchema, 'RANGE'),
        ...(projection.ProjectionType === 'INCLUDE'
          ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...projection.NonKeyAttributes] }
          : { projectionType: ProjectionType.ALL }),
      });
    }
    return table;
  }

  /**
   * A function's own log group and its own role. The role may write only to that log group (no
   * AWSLambdaBasicExecutionRole, which allows every log group in the account); the function's grants
   * (X-Ray, SQS, DynamoDB) land in the role's default policy.
   */
  private functionBasics(id: string) {
    const logGroup = new LogGroup(this, `${id}Logs`, { retention: this.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(this, `${id}ServiceRole`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    return { logGroup, role };
  }

  private commonFunctionProps(id: string, options: { timeout: Duration; environment: Record<string, string> }) {
    const { logGroup, role } = this.functionBasics(id);
    return {
      role,
      logGroup,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      tracing: Tracing.ACTIVE,
      timeout: options.timeout,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...options.environment },
    };
  }

  /** A built-in Lambda (its code prebuilt in the package). */
  private builtinFunction(
    id: string,
    name: BuiltinHandler,
    options: { timeout: Duration; environment: Record<string, string>; overrides?: Partial<FunctionProps> | undefined },
  ): LambdaFn {
    const { environment, ...overrides } = options.overrides ?? {};
    const common = this.commonFunctionProps(id, options);
    return new LambdaFn(this, id, {
      ...common,
      code: builtinHandlerCode(name),
      handler: 'index.handler',
      ...overrides,
      environment: { ...common.environment, ...environment },
    });
  }

  /** A Lambda of yours (an entry file bundled with esbuild), in place of a built-in one. */
  private entryFunction(
    id: string,
    entry: string,
    options: { timeout: Duration; environment: Record<string, string>; overrides?: Partial<FunctionProps> | undefined },
  ): LambdaFn {
    const { environment, code: _code, handler: _handler, ...overrides } = options.overrides ?? {};
    const common = this.commonFunctionProps(id, options);
    return new NodejsFunction(this, id, {
      ...common,
      entry,
      handler: 'handler',
      ...overrides,
      environment: { ...common.environment, ...environment },
      bundling: NODEJS_BUNDLING,
    });
  }

  /** Active tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*" to each role's default policy. */
  private acknowledgeTracingGrants(functions: IFunction[]): void {
    for (const fn of functions) {
      const defaultPolicy = fn.role?.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
      if (!defaultPolicy || Stack.of(defaultPolicy) !== Stack.of(this)) continue;
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only the X-Ray statement uses "*": xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
      });
    }
  }
}

/** Refuses what cannot work before CloudFormation would (or worse, would deploy). */
function validateProps(props: CommandBusProps): void {
  if (props.domains.length === 0) throw new Error('CommandBus: give at least one domain');
  const seen = new Set<string>();
  for (const domain of props.domains) {
    const where = `CommandBus: domain ${JSON.stringify(domain.name)}`;
    if (!DOMAIN_NAME.test(domain.name)) throw new Error(`${where}: a name is 1–64 letters, digits, "_" or "-"`);
    if (seen.has(domain.name)) throw new Error(`${where} is given twice`);
    seen.add(domain.name);
    const concurrency = domain.maxConcurrency;
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 2 || concurrency > 1000)) {
      throw new Error(`${where}: maxConcurrency must be a whole number from 2 to 1000 (got ${concurrency})`);
    }
    const batchSize = domain.batchSize;
    if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)) {
      throw new Error(`${where}: batchSize must be a whole number from 1 to 10000 (got ${batchSize})`);
    }
    if (domain.commandsQueueProps?.queueName || domain.tsqQueueProps?.queueName || domain.commandsQueueProps?.deadLetterQueue) {
      throw new Error(`${where}: queue names and the dead-letter queue are the bus's own (<namespace>-<domain>-commands and -tsq)`);
    }
    const policy = domain.retryPolicy;
    if (policy?.maxAttempts !== undefined && (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > MAX_ALLOWED_ATTEMPTS)) {
      throw new Error(`${where}: retryPolicy.maxAttempts must be a whole number from 1 to ${MAX_ALLOWED_ATTEMPTS} (got ${policy.maxAttempts})`);
    }
    const base = policy?.baseDelay?.toSeconds();
    const max = policy?.maxDelay?.toSeconds();
    if (max !== undefined && max > 43_200) throw new Error(`${where}: retryPolicy.maxDelay must be at most 12 hours (SQS's longest delay)`);
    if (base !== undefined && max !== undefined && max < base) throw new Error(`${where}: retryPolicy.maxDelay must not be below baseDelay`);
  }
  const given = [props.workerEntry, props.existingWorkerFunctionObj].filter((value) => value !== undefined).length;
  if (given !== 1) throw new Error('CommandBus: give your worker, as exactly one of workerEntry (a file) or existingWorkerFunctionObj');
  if (props.existingWorkerFunctionObj && props.workerFunctionProps)
    throw new Error('CommandBus: workerFunctionProps is for workerEntry; set them on your existing function');
  if (props.existingTableObj && props.tableProps)
    throw new Error('CommandBus: tableProps is for the table the construct makes; set them on your existing table');
  if (props.existingAlarmTopicObj && props.alarmTopicProps) throw new Error('CommandBus: alarmTopicProps is for the topic the construct makes');
  if (props.operatorApi === false) {
    for (const option of ['apiKind', 'apiEntry', 'apiFunctionProps', 'unverifiedCaller'] as const) {
      if (props[option] !== undefined) throw new Error(`CommandBus: ${option} needs the operator API (operatorApi is false)`);
    }
  }
}

/** COMMANDBUS_RETRY_POLICIES: per domain, what differs from the library's defaults (seconds). */
function retryPoliciesOf(domains: readonly CommandBusDomainProps[]) {
  const entries = domains
    .filter((domain) => domain.retryPolicy && Object.values(domain.retryPolicy).some((value) => value !== undefined))
    .map((domain) => {
      const { maxAttempts, baseDelay, maxDelay } = domain.retryPolicy!;
      return [
        domain.name,
        {
          ...(maxAttempts === undefined ? {} : { maxAttempts }),
          ...(baseDelay === undefined ? {} : { baseDelaySeconds: baseDelay.toSeconds() }),
          ...(maxDelay === undefined ? {} : { maxDelaySeconds: maxDelay.toSeconds() }),
        },
      ] as const;
    });
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/** A table of yours must be the bus's: same keys, a stream with both images, every index. */
function checkedTable(table: Table, expectedName: string): Table {
  const definition = commandsTableDefinition(expectedName);
  const schema = table.schema();
  const hash = definition.KeySchema.find((key) => key.KeyType === 'HASH')!.AttributeName;
  const range = definition.KeySchema.find((key) => key.KeyType === 'RANGE')!.AttributeName;
  if (schema.partitionKey?.name !== hash || schema.sortKey?.name !== range) {
    throw new Error(`CommandBus: existingTableObj must have partition key ${hash} and sort key ${range} (commandsTableDefinition)`);
  }
  if (!table.tableStreamArn) throw new Error('CommandBus: existingTableObj needs a stream (NEW_AND_OLD_IMAGES): the stats and parked events read it');
  for (const index of definition.GlobalSecondaryIndexes) {
    try {
      table.schema(index.IndexName);
    } catch {
      throw new Error(`CommandBus: existingTableObj lacks the index ${index.IndexName} (commandsTableDefinition)`);
    }
  }
  return table;
}

/** A string with references as cdk-nag writes it in a finding: `{ Ref: X }` as `<X>`, `Fn::GetAtt` as `<X.Attr>`. */
function nagRendering(stack: Stack, value: string): string {
  const resolved = stack.resolve(value) as string | { 'Fn::Join': [string, unknown[]] };
  if (typeof resolved === 'string') return resolved;
  const [separator, parts] = resolved['Fn::Join'];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref !== undefined) return `<${ref}>`;
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
      throw new Error(`CommandBus.grantScope: cannot name ${JSON.stringify(part)} as cdk-nag does`);
    })
    .join(separator);
}
