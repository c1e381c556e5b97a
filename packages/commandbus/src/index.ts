export { CommandBus, type CommandBusOptions, type SetShardCountRequest, type StatusCounts } from './CommandBus.ts';
export { SHARD_CHANGE_DELAY_MS, SHARD_SETTINGS_TTL_MS, type ShardSettings } from './domain/shards.ts';
export { Worker, type WorkerOptions } from './Worker.ts';
export { StatsAggregator, type StatsAggregatorOptions, type StatsBatchResult } from './StatsAggregator.ts';
export {
  aggregateRecords,
  readStats,
  type StatsQuery,
  type StatsReport,
  type StatsSeriesGranularity,
  type StatsTotals,
} from './application/statsAggregation.ts';
export type { StatsPoint, ChangeRecord } from './domain/stats.ts';
export type { StatusPageQuery } from './application/statusPages.ts';
export { LATENCY_BUCKETS_PER_DOUBLING, MAX_SERIES_POINTS } from './domain/stats.ts';
export type { StatsApplyResult, StatsStore } from './ports/StatsStore.ts';
export { DynamoStatsStore } from './adapters/dynamodb/DynamoStatsStore.ts';
export { DynamoStreamPoller, type DynamoStreamPollerOptions } from './adapters/dynamodb/DynamoStreamPoller.ts';
export { toChangeRecords, type StreamBatchEvent, type StreamRecord } from './adapters/dynamodb/streamEvent.ts';
export { TroubleshootingQueue, type OperatorAction, type TroubleshootingQueueOptions } from './TroubleshootingQueue.ts';
export { BULK_CONCURRENCY, MAX_BULK_IDS } from './application/bulkActions.ts';
export { TsqSweeper, type SweepResult } from './application/TsqSweeper.ts';
export { HandlerRegistry, type CommandHandler, type HandlerCommand, type HandlerContext, type RegisterOptions } from './HandlerRegistry.ts';
export { CommandSchemas, type CommandSchemaLookup, type RegisteredSchema } from './CommandSchemas.ts';
export { INVALID_PAYLOAD, MAX_LISTED_ISSUES, type CommandSchema, type PayloadIssue, type SchemaOutput } from './domain/payloadSchema.ts';
export { CommandProcessor, MAX_RETAKES, withLogKeys, type HeartbeatOptions, type ProcessContext, type ProcessOutcome } from './application/CommandProcessor.ts';
export { METRIC_NAMES, NOOP_OBSERVER, type CommandObserver, type CommandRef } from './ports/CommandObserver.ts';
export { EmfMetricsObserver, METRICS_NAMESPACE } from './adapters/powertools/EmfMetricsObserver.ts';
export { DEFAULT_DYNAMODB_CLIENT, resolveAdapters, type CommandBusConfig, type Adapters } from './config.ts';
export { createConsoleLogger, silentLogger } from './logger.ts';
export { DEFAULT_RETRY_POLICY, backoffSeconds, resolveRetryPolicy, type RetryPolicy } from './domain/retryPolicy.ts';
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_DATA_BYTES } from './domain/validation.ts';
export * from './errors.ts';
export * from './types.ts';
export * from './resources.ts';
export * from './deployment.ts';
export { readEnvironment, type CommandBusEnvironment, type DomainRetrySettings } from './environment.ts';
export { ItemTooLargeError, StoreUnavailableError, type CommandStore } from './ports/CommandStore.ts';
export { DynamoCommandStore, type DynamoCommandStoreOptions } from './adapters/dynamodb/DynamoCommandStore.ts';
export {
  MessageRefusedError,
  QueueNotFoundError,
  type CommandQueue,
  type CommandTransport,
  type TransportMessage,
  type TsqQueue,
} from './ports/CommandTransport.ts';
export { MAX_JSON_DEPTH } from './domain/storableJson.ts';
export { SqsTransport } from './adapters/sqs/SqsTransport.ts';
export type { JobRef, JobRequest } from './TroubleshootingQueue.ts';
export {
  JOB_CONTROLS,
  MAX_RATE,
  MIN_RATE,
  TokenBucket,
  type Clock,
  type JobControl,
  type JobDryRun,
  type JobFilter,
  type JobProblem,
  type JobProgress,
  type JobSample,
  type JobStatus,
  type OperatorJob,
} from './domain/jobs.ts';
export type { RunJobResult } from './application/jobRunner.ts';
export type { JobCheckpoint, JobQueue, JobStore, JobWork } from './ports/JobStore.ts';
export { DynamoJobStore } from './adapters/dynamodb/DynamoJobStore.ts';
export { SqsJobQueue } from './adapters/sqs/SqsJobQueue.ts';
