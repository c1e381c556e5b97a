import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { CommandBus, type ApiKind, type CommandBusDomainProps } from '@commandbus/cdk';
import type { Construct } from 'constructs';

export interface CommandBusStackProps extends StackProps {
  /** Prefix of table and queue names. Default 'commandbus'. */
  namespace?: string;
  domains: CommandBusDomainProps[];
  /** The worker Lambda's entry file (exports `handler = createWorkerHandler({ registry })`). */
  workerEntry: string;
  /** The API Lambda's entry file, for typed commands (`createApiHandler({ schemas })`); default the built-in API. */
  apiEntry?: string;
  /** Worker function timeout. Default 30 s; each commands queue's visibility timeout is six times it. */
  workerTimeout?: Duration;
  /** Every domain's retry backoff (seconds). Defaults: the library's (1 s base, 300 s cap). */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  statsBatchingWindow?: Duration;
  apiKind?: ApiKind;
  parkedEvents?: boolean;
  unverifiedCaller?: boolean;
  /** The CloudWatch dashboard (default true; LocalStack's free image emulates no AWS::CloudWatch::Dashboard). */
  dashboard?: boolean;
}

/**
 * The repository's deployable app: one CommandBus construct (@commandbus/cdk) and the outputs the
 * CLI, the console and the remote E2E suite read (ApiUrl, TableName, …). Your own app can be the same
 * few lines with your worker.
 */
export class CommandBusStack extends Stack {
  readonly bus: CommandBus;

  constructor(scope: Construct, id: string, props: CommandBusStackProps) {
    super(scope, id, props);
    const backoff =
      props.retryBaseSeconds === undefined && props.retryMaxSeconds === undefined
        ? undefined
        : {
            ...(props.retryBaseSeconds === undefined ? {} : { baseDelay: Duration.seconds(props.retryBaseSeconds) }),
            ...(props.retryMaxSeconds === undefined ? {} : { maxDelay: Duration.seconds(props.retryMaxSeconds) }),
          };
    const bus = new CommandBus(this, 'Bus', {
      ...(props.namespace === undefined ? {} : { namespace: props.namespace }),
      domains: props.domains.map((domain) => (backoff ? { ...domain, retryPolicy: { ...backoff, ...domain.retryPolicy } } : domain)),
      workerEntry: props.workerEntry,
      ...(props.workerTimeout === undefined ? {} : { workerFunctionProps: { timeout: props.workerTimeout } }),
      ...(props.apiEntry === undefined ? {} : { apiEntry: props.apiEntry }),
      ...(props.statsBatchingWindow === undefined ? {} : { statsBatchingWindow: props.statsBatchingWindow }),
      ...(props.apiKind === undefined ? {} : { apiKind: props.apiKind }),
      ...(props.parkedEvents === undefined ? {} : { parkedEvents: props.parkedEvents }),
      ...(props.unverifiedCaller === undefined ? {} : { unverifiedCaller: props.unverifiedCaller }),
      ...(props.dashboard === undefined ? {} : { dashboard: props.dashboard }),
    });
    this.bus = bus;

    // The REST API's URL ends in its stage (`…/api/`); LocalStack serves it elsewhere (scripts/stack-outputs.mjs builds that from ApiId and ApiStage).
    new CfnOutput(this, 'ApiUrl', { value: bus.apiUrl });
    new CfnOutput(this, 'ApiKind', { value: bus.apiKind! });
    new CfnOutput(this, 'ApiId', { value: bus.apiId });
    new CfnOutput(this, 'ApiStage', { value: bus.apiStage });
    if (bus.events) new CfnOutput(this, 'EventBusName', { value: bus.events.eventBusName });
    new CfnOutput(this, 'Namespace', { value: bus.namespace });
    new CfnOutput(this, 'TableName', { value: bus.table.tableName });
    new CfnOutput(this, 'RepliesQueueUrl', { value: bus.repliesQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: bus.alarmTopic.topicArn });
    if (bus.dashboard) new CfnOutput(this, 'DashboardName', { value: bus.dashboard.dashboardName });
    for (const { name, commandsQueue, tsqQueue } of bus.domains) {
      const key = name.replace(/[^A-Za-z0-9]/g, '');
      new CfnOutput(this, `CommandsQueueUrl${key}`, { value: commandsQueue.queueUrl });
      new CfnOutput(this, `CommandsQueueArn${key}`, { value: commandsQueue.queueArn });
      new CfnOutput(this, `TsqQueueUrl${key}`, { value: tsqQueue.queueUrl });
      new CfnOutput(this, `TsqQueueArn${key}`, { value: tsqQueue.queueArn });
    }
    new CfnOutput(this, 'WorkerFunctionName', { value: bus.worker.functionName });
    new CfnOutput(this, 'ApiFunctionName', { value: bus.apiFunction!.functionName });
    new CfnOutput(this, 'TsqSweeperFunctionName', { value: bus.tsqSweeper.functionName });
    new CfnOutput(this, 'StatsFunctionName', { value: bus.statsAggregator.functionName });
    new CfnOutput(this, 'JobRunnerFunctionName', { value: bus.jobRunner!.functionName });
    new CfnOutput(this, 'JobsQueueUrl', { value: bus.jobsQueue!.queueUrl });
  }
}
