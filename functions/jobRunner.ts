/**
 * The job-runner Lambda, fed by the jobs queue (`<namespace>-jobs`, batch size 1): each message says
 * "work on this job for a while". It runs the job (TroubleshootingQueue.runJob) for up to
 * JOB_RUNNER.budgetSeconds, leaving a third of its time limit spare; a run cut short by its budget
 * puts a continuation message on the queue before it returns. A runner that dies (a crash, a
 * timeout) reports nothing: SQS hands the message out again after the visibility timeout, by when
 * the job's lease has expired, and the next runner resumes from the last checkpoint. A message for a
 * job another runner holds, or one that is not RUNNING, is done with (the holder goes on by itself; a
 * resume sends a message of its own).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { JOB_RUNNER, TroubleshootingQueue, type CommandBusConfig, type Logger } from '@commandbus/core';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { configFromEnv } from './config.ts';
import { createLambdaLogger } from './logger.ts';
import { createTracer, tracedClients } from './observability.ts';

type JobRunnerHandler = (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse>;

/** The handler over a given configuration (tests, the local runtime); `handler` below reads the environment. */
export function createJobRunnerHandler(options: { config: CommandBusConfig; logger: Logger }): JobRunnerHandler {
  const { logger } = options;
  const tsq = new TroubleshootingQueue({ ...options.config, logger });
  return async (event, context) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      let work: { domain?: unknown; jobId?: unknown };
      try {
        work = JSON.parse(record.body) as typeof work;
      } catch {
        logger.error('dropped a jobs-queue message that is not JSON', { messageId: record.messageId });
        continue;
      }
      if (typeof work?.domain !== 'string' || typeof work.jobId !== 'string') {
        logger.error('dropped a jobs-queue message without domain and jobId', { messageId: record.messageId });
        continue;
      }
      const remaining = context.getRemainingTimeInMillis();
      const budgetMs = Math.max(1_000, Math.min(JOB_RUNNER.budgetSeconds * 1000, (remaining * 2) / 3));
      try {
        const result = await tsq.runJob({ domain: work.domain, jobId: work.jobId, budgetMs, leaseMs: JOB_RUNNER.leaseSeconds * 1000, requeue: true });
        logger.info('job run', { domain: work.domain, jobId: work.jobId, stopped: result.stopped, handled: result.handled, ...result.job?.progress });
      } catch (error) {
        // A job that is not there (or a bad id) will not appear by trying again.
        const code = (error as { code?: unknown }).code;
        if (code === 'JOB_NOT_FOUND' || code === 'VALIDATION_ERROR') {
          logger.error('dropped a jobs-queue message for no job', { domain: work.domain, jobId: work.jobId, error: (error as Error).message });
          continue;
        }
        // Left to SQS: the message comes back after the visibility timeout, and the job resumes from its checkpoint.
        logger.error('job run failed', { domain: work.domain, jobId: work.jobId, error: error instanceof Error ? error.message : String(error) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

const { powertools, logger } = createLambdaLogger('commandbus-job-runner');
const tracer = createTracer('commandbus-job-runner');
let fromEnvironment: JobRunnerHandler | undefined;

export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  fromEnvironment ??= createJobRunnerHandler({ config: { ...configFromEnv(process.env, logger), ...tracedClients(tracer) }, logger });
  return fromEnvironment(event, context);
})
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(powertools));
