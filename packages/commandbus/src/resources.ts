/**
 * The one definition of the AWS resources commandbus needs: table (with its indexes) and queues.
 * The embedded local stack creates them from here and the CDK stack deploys them from here,
 * so local and cloud cannot drift.
 */

/**
 * How many partitions each domain's index keys are spread over unless the domain's shard settings
 * say otherwise (see docs/data-model.md, "Shards"): about 8,000 sends/s and 8,000 parks/s per domain.
 */
export const INDEX_SHARDS = 8;

/** The most shards a domain may be set to (`setShardCount`): 256 × ≈ 1,000 writes/s per partition. */
export const MAX_INDEX_SHARDS = 256;

/** The highest maxAttempts a command may ask for; the TSQ queue's maxReceiveCount sits above it. */
export const MAX_ALLOWED_ATTEMPTS = 25;

/** SQS redrive threshold: above MAX_ALLOWED_ATTEMPTS so the worker always decides first. */
export const TSQ_MAX_RECEIVE_COUNT = MAX_ALLOWED_ATTEMPTS + 5;

/** Largest message body we send. SQS accepts 1 MiB; we keep room for the envelope under 256 KiB. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** SQS's maximum, for the TSQ queues: parking adds attributes to a message that may already fill MAX_MESSAGE_BYTES. */
export const TSQ_MAX_MESSAGE_BYTES = 1024 * 1024;

export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;

export const INDEXES = {
  /**
   * Every command by domain and creation time; written once per command (< 1 KB: one write unit),
   * keys + type and correlation id (both set at creation, never changed), which listings filter on.
   */
  byTime: { name: 'byTime', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', nonKeyAttributes: ['commandType', 'correlationId'] },
  /** Sparse: only commands currently IN_TSQ carry its keys, so the happy path never touches it. */
  tsq: { name: 'tsq', partitionKey: 'tsqPk', sortKey: 'tsqSk' },
} as const;

export interface ResourceNames {
  table: string;
  commandsQueue(domain: string): string;
  tsqQueue(domain: string): string;
  repliesQueue: string;
  /** Operator jobs' work queue (one message = work on a job for a while), fed to the job runner. */
  jobsQueue: string;
  /** Whether `queueName` is one of this namespace's commands or TSQ queues (of any domain), or its jobs queue. */
  isBusQueue(queueName: string): boolean;
}

/** The namespace (prefix of table and queue names) when none is given. */
export const DEFAULT_NAMESPACE = 'commandbus';

/** Names for one deployment (a "namespace"), e.g. `commandbus` or a per-test prefix. */
export function resourceNames(namespace = DEFAULT_NAMESPACE): ResourceNames {
  return {
    table: `${namespace}-commands`,
    commandsQueue: (domain) => `${namespace}-${domain}-commands`,
    tsqQueue: (domain) => `${namespace}-${domain}-tsq`,
    repliesQueue: `${namespace}-replies`,
    jobsQueue: `${namespace}-jobs`,
    isBusQueue: (queueName) =>
      queueName === `${namespace}-jobs` || (queueName.startsWith(`${namespace}-`) && (queueName.endsWith('-commands') || queueName.endsWith('-tsq'))),
  };
}

/** CreateTable input (plain object, no SDK import) for the commands table. */
export function commandsTableDefinition(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' as const },
      { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' as const },
      { AttributeName: INDEXES.byTime.partitionKey, AttributeType: 'S' as const },
      { AttributeName: INDEXES.byTime.sortKey, AttributeType: 'S' as const },
      { AttributeName: INDEXES.tsq.partitionKey, AttributeType: 'S' as const },
      { AttributeName: INDEXES.tsq.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' as const },
    ],
    /** The stats aggregator (and, on AWS, the CommandParked pipe) read the table's changes. */
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
    GlobalSecondaryIndexes: [
      {
        IndexName: INDEXES.byTime.name,
        KeySchema: [
          { AttributeName: INDEXES.byTime.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: INDEXES.byTime.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...INDEXES.byTime.nonKeyAttributes] },
      },
      {
        IndexName: INDEXES.tsq.name,
        KeySchema: [
          { AttributeName: INDEXES.tsq.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: INDEXES.tsq.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      },
    ],
  };
}

export interface QueueDefinition {
  name: string;
  attributes: Record<string, string>;
  /** Name of the queue this one dead-letters to, if any. */
  deadLetterQueue?: string;
}

export const QUEUE_DEFAULTS = {
  visibilityTimeoutSeconds: 30,
  /** Four days for commands; the TSQ keeps messages for the maximum, 14 days. */
  commandsRetentionSeconds: 4 * 24 * 3600,
  tsqRetentionSeconds: 14 * 24 * 3600,
} as const;

/** Queues for a set of domains, in creation order (a DLQ before the queue that points at it). */
export function queueDefinitions(names: ResourceNames, domains: readonly string[]): QueueDefinition[] {
  const queues: QueueDefinition[] = [];
  for (const domain of domains) {
    queues.push({
      name: names.tsqQueue(domain),
      attributes: {
        MessageRetentionPeriod: String(QUEUE_DEFAULTS.tsqRetentionSeconds),
        MaximumMessageSize: String(TSQ_MAX_MESSAGE_BYTES),
      },
    });
    queues.push({
      name: names.commandsQueue(domain),
      attributes: {
        VisibilityTimeout: String(QUEUE_DEFAULTS.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(QUEUE_DEFAULTS.commandsRetentionSeconds),
        MaximumMessageSize: String(MAX_MESSAGE_BYTES),
      },
      deadLetterQueue: names.tsqQueue(domain),
    });
  }
  queues.push({
    name: names.repliesQueue,
    attributes: { MaximumMessageSize: String(MAX_MESSAGE_BYTES) },
  });
  queues.push({
    name: names.jobsQueue,
    attributes: { VisibilityTimeout: String(JOB_RUNNER.visibilityTimeoutSeconds), MaximumMessageSize: String(MAX_MESSAGE_BYTES) },
  });
  return queues;
}

/**
 * The job runner's timing: each message of the jobs queue is worked on for up to `budgetSeconds`,
 * holding the job's lease for `leaseSeconds` past its last checkpoint; a runner that dies leaves
 * its message to reappear after the visibility timeout (above budget + lease), when the lease
 * has expired and the next runner resumes from the checkpoint.
 */
export const JOB_RUNNER = { budgetSeconds: 60, leaseSeconds: 30, visibilityTimeoutSeconds: 120, lambdaTimeoutSeconds: 90 } as const;

/** The RedrivePolicy attribute value for a queue whose DLQ has the given ARN. */
export function redrivePolicy(deadLetterTargetArn: string): string {
  return JSON.stringify({ deadLetterTargetArn, maxReceiveCount: TSQ_MAX_RECEIVE_COUNT });
}
