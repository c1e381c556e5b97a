import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createConsoleLogger } from './logger.ts';
import { readEnvironment } from './environment.ts';
import { DEFAULT_NAMESPACE, resourceNames, type ResourceNames } from './resources.ts';
import type { CommandStore } from './ports/CommandStore.ts';
import { DynamoCommandStore } from './adapters/dynamodb/DynamoCommandStore.ts';
import type { CommandTransport } from './ports/CommandTransport.ts';
import { SqsTransport } from './adapters/sqs/SqsTransport.ts';
import type { StatsStore } from './ports/StatsStore.ts';
import { DynamoStatsStore } from './adapters/dynamodb/DynamoStatsStore.ts';
import type { Logger } from './types.ts';
import type { JobQueue, JobStore } from './ports/JobStore.ts';
import { DynamoJobStore } from './adapters/dynamodb/DynamoJobStore.ts';
import { SqsJobQueue } from './adapters/sqs/SqsJobQueue.ts';

/**
 * Where commandbus keeps its state. Everything is optional: by default the AWS SDK reads the usual
 * environment (AWS_REGION, credentials, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS for
 * LocalStack or the embedded stack), so moving between local, LocalStack and AWS is configuration.
 */
export interface CommandBusConfig {
  /** Prefix of table and queue names. Default: COMMANDBUS_NAMESPACE or 'commandbus'. */
  namespace?: string;
  /** Table name override. Default: COMMANDBUS_TABLE or `<namespace>-commands`. */
  tableName?: string;
  /** Queue URLs by queue name, to skip GetQueueUrl (e.g. from stack outputs). */
  queueUrls?: Record<string, string>;
  dynamodb?: DynamoDBClient;
  sqs?: SQSClient;
  logger?: Logger;
  /** Bring your own adapters (tests, other stores). Overrides dynamodb/sqs. */
  store?: CommandStore;
  transport?: CommandTransport;
  /** Where aggregated counts live (`bus.stats`). Default: the table, unless `store` is given (then none unless given). */
  stats?: StatsStore;
  /** Where operator jobs live. Default: the commands table (DynamoJobStore). */
  jobs?: JobStore;
  /**
   * What wakes a job runner when a job starts or resumes. Default: the `<namespace>-jobs` SQS queue
   * (the job-runner Lambda's, or the local runtime's); `false`: none (run jobs with tsq.runJob).
   */
  jobQueue?: JobQueue | false;
}

/**
 * The SDK waits forever for an answer by default; a store that stalls would then hold a worker's
 * slot (or a Lambda) until it times out elsewhere. With a request timeout the worker learns it
 * quickly, retries, and gives the message back unspent if the store stays away.
 */
export const DEFAULT_DYNAMODB_CLIENT = { requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true } } as const;

export interface Adapters {
  names: ResourceNames;
  store: CommandStore;
  transport: CommandTransport;
  logger: Logger;
  /** Absent when a custom `store` was given without `stats`. */
  stats?: StatsStore;
  /** The table, and the client used for it (absent with a custom store): the stream poller reads them. */
  tableName: string;
  dynamodb?: DynamoDBClient;
  jobs: JobStore;
  jobQueue?: JobQueue;
}

export function resolveAdapters(config: CommandBusConfig = {}): Adapters {
  // An explicit namespace decides the names; the environment only fills in what code left open.
  // The environment only fills in what code left open.
  const env = readEnvironment(process.env, ['namespace', 'tableName']);
  const names = resourceNames(config.namespace ?? env.namespace ?? DEFAULT_NAMESPACE);
  const tableName = config.tableName ?? (config.namespace === undefined ? env.tableName : undefined) ?? names.table;
  const dynamodb = config.dynamodb ?? (config.store && config.jobs ? undefined : new DynamoDBClient(DEFAULT_DYNAMODB_CLIENT));
  const stats = config.stats ?? (config.store || !dynamodb ? undefined : new DynamoStatsStore(dynamodb, tableName));
  // Jobs wake a runner through SQS unless told otherwise, or unless SQS was replaced altogether.
  let sqs = config.sqs;
  const sqsClient = () => (sqs ??= new SQSClient({}));
  const jobQueue =
    config.jobQueue === false
      ? undefined
      : (config.jobQueue ?? (config.transport && !config.sqs ? undefined : new SqsJobQueue(sqsClient(), names.jobsQueue, config.queueUrls?.[names.jobsQueue])));
  return {
    names,
    tableName,
    ...(dynamodb && (!config.store || config.dynamodb) ? { dynamodb } : {}),
    ...(stats ? { stats } : {}),
    logger: config.logger ?? createConsoleLogger(),
    jobs: config.jobs ?? new DynamoJobStore(dynamodb!, tableName),
    ...(jobQueue ? { jobQueue } : {}),
    store: config.store ?? new DynamoCommandStore(dynamodb!, tableName),
    transport: config.transport ?? new SqsTransport(sqsClient(), { names, ...(config.queueUrls ? { queueUrls: config.queueUrls } : {}) }),
  };
}
