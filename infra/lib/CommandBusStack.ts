import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
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
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { CfnPipe } from 'aws-cdk-lib/aws-pipes';
import { Grant, PolicyStatement, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Architecture, FilterCriteria, FilterRule, Runtime, StartingPosition, Tracing, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEPLOYMENT_DEFAULTS } from '@commandbus/core/deployment';
import { scopePatterns, type Domains, type OperatorAction, type Scope } from '@commandbus/lambda/scopes';
import {
  commandsTableDefinition,
  DEFAULT_NAMESPACE,
  INDEXES,
  JOB_RUNNER,
  MAX_MESSAGE_BYTES,
  QUEUE_DEFAULTS,
  resourceNames,
  TSQ_MAX_MESSAGE_BYTES,
  TSQ_MAX_RECEIVE_COUNT,
} from '@commandbus/core/resources';

/** The detail-type of the event sent for every command that enters the TSQ. */
export const PARKED_EVENT_DETAIL_TYPE = 'CommandParked';

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

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface DomainOptions {
  name: string;
  /** Concurrent worker invocations for this domain's queue (event source MaximumConcurrency, ≥ 2). Default 5. */
  maxConcurrency?: number;
}

export interface CommandBusStackProps extends StackProps {
  /** Prefix of table and queue names. Default 'commandbus'. */
  namespace?: string;
  domains: DomainOptions[];
  /** The worker Lambda's entry file (exports `handler`); default: the E2E application's worker. */
  workerEntry?: string;
  /**
   * The API Lambda's entry file (exports `handler`); default functions/api.ts. For typed commands, a
   * module that exports `handler = createApiHandler({ schemas })` with the worker's schemas.
   */
  apiEntry?: string;
  /** Worker function timeout. Default 30 s; each commands queue's visibility timeout is six times it. */
  workerTimeout?: Duration;
  /** Event source batching window. Default 1 s. */
  batchingWindow?: Duration;
  /** Retry backoff for the worker (seconds). Defaults: the library's (1 s base, 300 s cap). */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  /**
   * How long the stats aggregator's event source gathers stream records before a batch (default 30 s,
   * at most 300): longer batches cost fewer stats writes per command, shorter ones fresher stats
   * (docs/data-model.md, "Counts and rates").
   */
  statsBatchingWindow?: Duration;
  /**
   * Which API Gateway serves the HTTP API, IAM-authorised either way, same routes, same Lambda:
   * - `'http'` (default): an HTTP API (API Gateway v2, payload 2.0), $1.00 per million requests
   *   (us-east-1, first 300 M a month);
   * - `'rest'`: a REST API (API Gateway v1, payload 1.0, stage `api`), $3.50 per million (us-east-1,
   *   first 333 M a month), plus its account-wide CloudWatch Logs role. For LocalStack's free image,
   *   which emulates REST APIs only (see infra/tests/localstackResources.ts).
   */
  apiKind?: ApiKind;
  /**
   * The `CommandParked` events (an EventBridge Pipe from the table stream to the stack's bus).
   * Default true; false leaves out the bus, the pipe and its role (LocalStack's free image has no
   * Pipes): then nothing announces a parked command but the TSQ alarms.
   */
  parkedEvents?: boolean;
  /**
   * LocalStack's free image only (needs `apiKind: 'rest'`): it verifies no SigV4 signature and names
   * no caller, so the API records an operator action without an IAM caller as
   * `unverified:<access key id the signature claims>` (functions/restEvent.ts). Default false; never
   * on AWS.
   */
  unverifiedCaller?: boolean;
}

export type ApiKind = 'http' | 'rest';

/** The REST API's stage (the HTTP API serves `$default`). */
export const REST_STAGE = 'api';

/**
 * commandbus on AWS: the commands table, per domain a commands queue dead-lettering to its TSQ queue,
 * a replies queue, the worker Lambda on SQS event source mappings (partial batch failures), the HTTP
 * API Lambda behind API Gateway with IAM authorisation, and alarms on what an operator must see.
 * Table and queues come from the same definitions the embedded local stack uses (resources.ts).
 */
export class CommandBusStack extends Stack {
  readonly table: Table;
  /** Where a `CommandParked` event lands for every command that enters the TSQ (absent with `parkedEvents: false`). */
  readonly events: EventBus | undefined;
  /** The API: an HttpApi, or with `apiKind: 'rest'` a RestApi. */
  readonly api: HttpApi | RestApi;
  readonly apiKind: ApiKind;

  constructor(scope: Construct, id: string, props: CommandBusStackProps) {
    super(scope, id, props);
    const namespace = props.namespace ?? DEFAULT_NAMESPACE;
    const names = resourceNames(namespace);
    const workerTimeout = props.workerTimeout ?? Duration.seconds(DEPLOYMENT_DEFAULTS.workerTimeoutSeconds);
    if (props.domains.length === 0) throw new Error('CommandBusStack needs at least one domain');

    this.table = this.commandsTable(names.table);

    const alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: `${namespace} alarms`,
      enforceSSL: true,
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    const alarm = (id: string, metric: IMetric, threshold: number, description: string) =>
      new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(new SnsAction(alarmTopic));

    const replies = new Queue(this, 'RepliesQueue', {
      queueName: names.repliesQueue,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    });
    Validations.of(replies.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "Replies are read by the callers' own consumers; whether they dead-letter is their consumer's choice.",
    });

    const domainQueues = props.domains.map((domain) => {
      const tsq = new Queue(this, `TsqQueue-${domain.name}`, {
        queueName: names.tsqQueue(domain.name),
        retentionPeriod: Duration.seconds(QUEUE_DEFAULTS.tsqRetentionSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // Parking copies a received command here with extra attributes: it needs more room than the commands queue.
        maxMessageSizeBytes: TSQ_MAX_MESSAGE_BYTES,
      });
      const commands = new Queue(this, `CommandsQueue-${domain.name}`, {
        queueName: names.commandsQueue(domain.name),
        visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * DEPLOYMENT_DEFAULTS.visibilityTimeoutFactor),
        retentionPeriod: Duration.seconds(QUEUE_DEFAULTS.commandsRetentionSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        maxMessageSizeBytes: MAX_MESSAGE_BYTES,
        // Above every allowed maxAttempts: the worker always decides before SQS dead-letters.
        deadLetterQueue: { queue: tsq, maxReceiveCount: TSQ_MAX_RECEIVE_COUNT },
      });
      alarm(
        `TsqDepth-${domain.name}`,
        tsq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
        1,
        `Commands of ${domain.name} are waiting in the troubleshooting queue`,
      );
      alarm(
        `TsqAge-${domain.name}`,
        tsq.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5) }),
        3600,
        `A ${domain.name} command has waited in the TSQ for over an hour`,
      );
      return { domain, tsq, commands };
    });

    // Operator jobs' work queue: one message = work on a job for a while (see functions/jobRunner.ts).
    const jobs = new Queue(this, 'JobsQueue', {
      queueName: names.jobsQueue,
      visibilityTimeout: Duration.seconds(JOB_RUNNER.visibilityTimeoutSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    });
    Validations.of(jobs.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'Redelivery is how a job resumes after its runner dies: a message must come back, never move aside. A job whose runs keep failing stays RUNNING with its progress and problems visible (GET /domains/{domain}/jobs/{jobId}); pause and resume send a new message.',
    });

    const queueUrls = Object.fromEntries([
      [replies.queueName, replies.queueUrl],
      [jobs.queueName, jobs.queueUrl],
      ...domainQueues.flatMap(({ tsq, commands }) => [
        [tsq.queueName, tsq.queueUrl],
        [commands.queueName, commands.queueUrl],
      ]),
    ]);
    const environment = {
      COMMANDBUS_NAMESPACE: namespace,
      COMMANDBUS_TABLE: this.table.tableName,
      COMMANDBUS_QUEUE_URLS: this.toJsonString(queueUrls),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...(props.retryBaseSeconds === undefined ? {} : { COMMANDBUS_RETRY_BASE_SECONDS: String(props.retryBaseSeconds) }),
      ...(props.retryMaxSeconds === undefined ? {} : { COMMANDBUS_RETRY_MAX_SECONDS: String(props.retryMaxSeconds) }),
    };

    // The worker.
    const totalConcurrency = domainQueues.reduce((sum, { domain }) => sum + Math.max(2, domain.maxConcurrency ?? DEPLOYMENT_DEFAULTS.maxConcurrency), 0);
    const worker = this.nodeFunction('Worker', props.workerEntry ?? path.join(root, 'functions/testWorker.ts'), {
      timeout: workerTimeout,
      environment,
      // No lower than the mappings' MaximumConcurrency: throttled polls would burn receives and could
      // dead-letter a healthy command.
      reservedConcurrentExecutions: totalConcurrency,
    });
    // Item access only: the worker never queries the indexes.
    worker.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [this.table.tableArn] }));
    for (const { domain, tsq, commands } of domainQueues) {
      worker.addEventSource(
        new SqsEventSource(commands, {
          batchSize: DEPLOYMENT_DEFAULTS.batchSize,
          maxBatchingWindow: props.batchingWindow ?? Duration.seconds(DEPLOYMENT_DEFAULTS.batchingWindowSeconds),
          reportBatchItemFailures: true,
          maxConcurrency: Math.max(2, domain.maxConcurrency ?? DEPLOYMENT_DEFAULTS.maxConcurrency),
        }),
      );
      commands.grantSendMessages(worker); // a native redrive re-enqueues under a fresh token
      tsq.grantSendMessages(worker); // parking
    }
    replies.grantSendMessages(worker);
    alarm('WorkerErrors', worker.metricErrors({ period: Duration.minutes(5) }), 1, 'The worker Lambda failed (a batch, not a command)');
    alarm('WorkerThrottles', worker.metricThrottles({ period: Duration.minutes(5) }), 1, 'The worker Lambda was throttled');

    // The TSQ sweeper: keeps the TSQ queues' depth and age (and their alarms) true.
    const sweeper = this.nodeFunction('TsqSweeper', path.join(root, 'functions/tsqSweeper.ts'), {
      timeout: Duration.minutes(2),
      environment: { ...environment, COMMANDBUS_DOMAINS: props.domains.map((domain) => domain.name).join(',') },
    });
    sweeper.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.table.tableArn] }));
    for (const { tsq } of domainQueues) tsq.grantConsumeMessages(sweeper);
    new Rule(this, 'TsqSweepSchedule', { schedule: Schedule.rate(Duration.minutes(5)), targets: [new LambdaFunction(sweeper)] });

    const statsFunction = this.statsAggregator(names.table, environment, alarm, props.statsBatchingWindow ?? Duration.seconds(30));

    // The HTTP API.
    if (props.unverifiedCaller && props.apiKind !== 'rest')
      throw new Error("CommandBusStack: unverifiedCaller is for LocalStack's REST API only (apiKind 'rest')");
    const apiFunction = this.nodeFunction('Api', props.apiEntry ?? path.join(root, 'functions/api.ts'), {
      timeout: Duration.seconds(DEPLOYMENT_DEFAULTS.apiTimeoutSeconds),
      environment: props.unverifiedCaller ? { ...environment, COMMANDBUS_UNVERIFIED_CALLER: 'sigv4-access-key' } : environment,
    });
    // The table and its indexes by name (Table.grant would add `index/*`).
    apiFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
        resources: [
          this.table.tableArn,
          ...commandsTableDefinition(names.table).GlobalSecondaryIndexes.map((index) => `${this.table.tableArn}/index/${index.IndexName}`),
        ],
      }),
    );
    for (const { commands } of domainQueues) commands.grantSendMessages(apiFunction);
    replies.grantSendMessages(apiFunction);
    jobs.grantSendMessages(apiFunction); // starting or resuming a job wakes the job runner

    // The job runner: works on operator jobs, one message at a time, through the operator paths.
    const jobRunner = this.nodeFunction('JobRunner', path.join(root, 'functions/jobRunner.ts'), {
      timeout: Duration.seconds(JOB_RUNNER.lambdaTimeoutSeconds),
      environment,
    });
    jobRunner.addToRolePolicy(
      new PolicyStatement({
        // Items (jobs, commands, group counters, in transactions too), audit trails (Query on the table), the TSQ listing (its index).
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [this.table.tableArn, `${this.table.tableArn}/index/${INDEXES.tsq.name}`],
      }),
    );
    jobRunner.addEventSource(new SqsEventSource(jobs, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }));
    jobs.grantSendMessages(jobRunner); // a run cut short by its budget sends its continuation
    for (const { commands } of domainQueues) commands.grantSendMessages(jobRunner); // retry re-enqueues
    replies.grantSendMessages(jobRunner); // cancel and complete reply
    alarm('JobRunnerErrors', jobRunner.metricErrors({ period: Duration.minutes(5) }), 1, 'The job runner failed a run (the job resumes from its checkpoint)');

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.apiKind = props.apiKind ?? 'http';
    this.api = this.apiKind === 'rest' ? this.restApi(namespace, apiFunction, accessLogs) : this.httpApi(namespace, apiFunction, accessLogs);

    this.events = props.parkedEvents === false ? undefined : this.parkedEvents(namespace);

    // The REST API's URL ends in its stage (`…/api/`); LocalStack serves it elsewhere (scripts/stack-outputs.mjs builds that from ApiId and ApiStage).
    new CfnOutput(this, 'ApiUrl', { value: this.api instanceof RestApi ? this.api.url : this.api.apiEndpoint });
    new CfnOutput(this, 'ApiKind', { value: this.apiKind });
    new CfnOutput(this, 'ApiId', { value: this.apiId() });
    new CfnOutput(this, 'ApiStage', { value: this.stageName() });
    if (this.events) new CfnOutput(this, 'EventBusName', { value: this.events.eventBusName });
    new CfnOutput(this, 'Namespace', { value: namespace });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'RepliesQueueUrl', { value: replies.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
    for (const { domain, tsq, commands } of domainQueues) {
      const key = domain.name.replace(/[^A-Za-z0-9]/g, '');
      new CfnOutput(this, `CommandsQueueUrl${key}`, { value: commands.queueUrl });
      new CfnOutput(this, `CommandsQueueArn${key}`, { value: commands.queueArn });
      new CfnOutput(this, `TsqQueueUrl${key}`, { value: tsq.queueUrl });
      new CfnOutput(this, `TsqQueueArn${key}`, { value: tsq.queueArn });
    }
    new CfnOutput(this, 'WorkerFunctionName', { value: worker.functionName });
    new CfnOutput(this, 'ApiFunctionName', { value: apiFunction.functionName });
    new CfnOutput(this, 'TsqSweeperFunctionName', { value: sweeper.functionName });
    new CfnOutput(this, 'StatsFunctionName', { value: statsFunction.functionName });
    new CfnOutput(this, 'JobRunnerFunctionName', { value: jobRunner.functionName });
    new CfnOutput(this, 'JobsQueueUrl', { value: jobs.queueUrl });

    this.acknowledgeJustifiedFindings([worker, sweeper, apiFunction, jobRunner]);
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
   * on `/{proxy+}`, each with IAM authorisation, a Lambda proxy integration (payload 1.0, which
   * functions/restEvent.ts turns into the 2.0 shape) — on a regional endpoint, stage `api`, with
   * access logs and error logs. IAM checks `execute-api:Invoke` on the request's own path, so the
   * grant helpers' ARNs work as for the HTTP API, with the stage `api` for `$default`.
   */
  private restApi(namespace: string, apiFunction: IFunction, accessLogs: LogGroup): RestApi {
    const api = new RestApi(this, 'RestApi', {
      restApiName: `${namespace}-api`,
      endpointTypes: [EndpointType.REGIONAL],
      // Stage logging needs the account's API Gateway CloudWatch Logs role: this stack sets it.
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
    const restApiResource = api.node.defaultChild!;
    Validations.of(restApiResource).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'The API Lambda checks every request itself (path and query parameters, body; a 400 naming the field), as it does behind the HTTP API, which has no gateway validation either.',
    });
    Validations.of(api.deploymentStage.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires IAM (SigV4): unsigned requests are refused before the Lambda runs; the HTTP API variant has no WAF either. Attach a web ACL to the stage where one is wanted.',
    });
    const cloudWatchRole = api.node.findChild('CloudWatchRole').node.defaultChild!;
    Validations.of(cloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-wide logging role: the AWS managed policy is the documented one for it, and it is assumed by apigateway.amazonaws.com only.",
    });
    return api;
  }

  private apiId(): string {
    return this.api instanceof RestApi ? this.api.restApiId : this.api.apiId;
  }

  private stageName(): string {
    return this.api instanceof RestApi ? REST_STAGE : this.api.defaultStage!.stageName;
  }

  /**
   * Lets a principal read (list, get, audit, history, counts, the TSQ) the given domains, or every
   * domain with `'*'` (which includes `GET /commands?domain=` and `GET /tsq?domain=`; a reader of some
   * domains uses `/domains/{domain}/commands` and `/domains/{domain}/tsq`). See {@link grantScope}.
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

  /**
   * Lets a principal administer the given domains (`POST /domains/{domain}/shards`: their index shard
   * count), or every domain with `'*'`. It reads nothing: add grantRead.
   */
  grantAdmin(principal: IGrantable, options: { domains: Domains }): Grant {
    return this.grantScope(principal, { admin: options.domains });
  }

  /**
   * `execute-api:Invoke` on exactly the routes a scope allows (functions/scopes.ts, the patterns the
   * local runtime checks its tokens against):
   * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}` (stage `$default` for the
   * HTTP API, `api` for the REST API; both check the request's own path), with a `*` for the
   * command id (and for the domain when `'*'`). For a principal whose policy this stack writes, the
   * wildcard finding (AwsSolutions-IAM5) is acknowledged on that policy: the `*`s stand for path
   * parameters only.
   */
  grantScope(principal: IGrantable, scope: Scope): Grant {
    const stage = this.stageName();
    const resourceArns = scopePatterns(scope).map((pattern) =>
      this.formatArn({ service: 'execute-api', resource: this.apiId(), resourceName: `${stage}/${pattern}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    );
    if (resourceArns.length === 0) throw new Error('grantScope: the scope allows nothing');
    const grant = Grant.addToPrincipal({ grantee: principal, actions: ['execute-api:Invoke'], resourceArns });
    const policy = grant.principalStatements.length > 0 ? (principal.grantPrincipal as { node?: Role['node'] }).node?.tryFindChild('DefaultPolicy') : undefined;
    const resource = policy?.node.defaultChild;
    if (resource && Stack.of(resource) === this) {
      // cdk-nag names each wildcard resource as it renders the ARN: a reference as `<LogicalId>`.
      for (const arn of resourceArns.filter((candidate) => this.nagRendering(candidate).includes('*'))) {
        Validations.of(resource).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${this.nagRendering(arn)}]`,
          reason:
            'execute-api:Invoke on a route of CommandBusStack.grantScope: each "*" stands for a path parameter (a command id, or every domain when asked for).',
        });
      }
    }
    return grant;
  }

  /** A string with references as cdk-nag writes it in a finding: `{ Ref: X }` as `<X>`, `Fn::GetAtt` as `<X.Attr>`. */
  private nagRendering(value: string): string {
    const resolved = this.resolve(value) as string | { 'Fn::Join': [string, unknown[]] };
    if (typeof resolved === 'string') return resolved;
    const [separator, parts] = resolved['Fn::Join'];
    return parts
      .map((part) => {
        if (typeof part === 'string') return part;
        const ref = (part as { Ref?: string }).Ref;
        if (ref !== undefined) return `<${ref}>`;
        const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
        if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
        throw new Error(`grantScope: cannot name ${JSON.stringify(part)} as cdk-nag does`);
      })
      .join(separator);
  }

  /**
   * One `CommandParked` event per command entering the TSQ, on a bus of the stack's own, so users
   * can route alerts per domain, type or error code with EventBridge rules. An EventBridge Pipe
   * reads the table's stream and lets through only writes that make a command IN_TSQ (a transition
   * from another status, or a record created parked); the worker does nothing more for it, and the
   * happy path pays nothing (see docs/data-model.md for the cost).
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
   * The stats aggregator (docs/data-model.md, "Counts and rates"): fed from the table's stream, command
   * items only (an event filter: counters, edits and its own stats items never invoke it), in batches
   * of up to 1000 records gathered for up to 30 s (by default), one batch per shard at a time. A tumbling window
   * makes each event name its shard (the stats items' watermarks are per shard). A failing batch is
   * bisected and retried; after 20 tries its range goes to a queue (with an alarm), never silently.
   */
  private statsAggregator(
    tableName: string,
    environment: Record<string, string>,
    alarm: (id: string, metric: IMetric, threshold: number, description: string) => void,
    batchingWindow: Duration,
  ) {
    const fn = this.nodeFunction('StatsAggregator', path.join(root, 'functions/statsAggregator.ts'), { timeout: Duration.minutes(1), environment });
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
    const streamPolicy = fn.role!.node.findChild('DefaultPolicy').node.defaultChild!;
    Validations.of(streamPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only dynamodb:ListStreams (the stream event source grant) and the X-Ray statement use "*": neither supports resource-level permissions; stream reads are on this table\'s stream ARN.',
    });
    return fn;
  }

  /** The commands table, read from the shared definition. */
  private commandsTable(tableName: string): Table {
    const definition = commandsTableDefinition(tableName);
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
      tableName,
      partitionKey: key(definition.KeySchema, 'HASH'),
      sortKey: key(definition.KeySchema, 'RANGE'),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      // Feeds the parked-command events (see parkedEvents): no write costs more for it.
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
   * A function with its own log group and its own role. The role may write only to that log group
   * (no AWSLambdaBasicExecutionRole, which allows every log group in the account); the function's
   * grants (X-Ray, SQS, DynamoDB) land in the role's default policy.
   */
  private nodeFunction(id: string, entry: string, options: { timeout: Duration; environment: Record<string, string>; reservedConcurrentExecutions?: number }) {
    const logGroup = new LogGroup(this, `${id}Logs`, { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(this, `${id}ServiceRole`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    return new NodejsFunction(this, id, {
      role,
      entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      logGroup,
      tracing: Tracing.ACTIVE,
      projectRoot: root,
      depsLockFilePath: path.join(root, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // The Node 24 runtime ships AWS SDK v3; everything else is bundled.
        externalModules: ['@aws-sdk/*'],
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      ...options,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...options.environment },
    });
  }

  /**
   * cdk-nag findings this design accepts, each on the one resource it concerns (the replies queue's
   * SQS3 is acknowledged where that queue is made).
   */
  private acknowledgeJustifiedFindings(functions: IFunction[]): void {
    for (const fn of functions) {
      // Active tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role's default policy.
      const defaultPolicy = fn.role!.node.findChild('DefaultPolicy').node.defaultChild!;
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only the X-Ray statement uses "*": xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
      });
    }
  }
}
