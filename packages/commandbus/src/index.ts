export { CommandBus, type CommandBusOptions, type StatusCounts } from './CommandBus.ts';
export { Worker, type WorkerOptions } from './Worker.ts';
export { TroubleshootingQueue, type OperatorAction } from './TroubleshootingQueue.ts';
export { BULK_CONCURRENCY, MAX_BULK_IDS } from './application/bulkActions.ts';
export { TsqSweeper, type SweepResult } from './application/TsqSweeper.ts';
export { HandlerRegistry, type CommandHandler, type HandlerCommand, type HandlerContext } from './HandlerRegistry.ts';
export { CommandProcessor, MAX_RETAKES, type HeartbeatOptions, type ProcessContext, type ProcessOutcome } from './application/CommandProcessor.ts';
export { resolveAdapters, type CommandBusConfig, type Adapters } from './config.ts';
export { createConsoleLogger, silentLogger } from './logger.ts';
export { DEFAULT_RETRY_POLICY, backoffSeconds, resolveRetryPolicy, type RetryPolicy } from './domain/retryPolicy.ts';
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_DATA_BYTES } from './domain/validation.ts';
export * from './errors.ts';
export * from './types.ts';
export * from './resources.ts';
export * from './deployment.ts';
export { readEnvironment, type CommandBusEnvironment } from './environment.ts';
export { ItemTooLargeError, StoreUnavailableError, type CommandStore } from './ports/CommandStore.ts';
export { DynamoCommandStore } from './adapters/dynamodb/DynamoCommandStore.ts';
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
