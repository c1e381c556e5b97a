/**
 * Scheduled every few minutes: removes stale copies from each domain's TSQ queue, so its depth and
 * age — and the alarms on them — show only what still waits for an operator.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { readEnvironment, TroubleshootingQueue, type SweepResult } from '@commandbus/core';
import middy from '@middy/core';
import { configFromEnv } from './config.ts';
import { createLambdaLogger } from './logger.ts';
import { createTracer, tracedClients } from './observability.ts';

const { powertools, logger } = createLambdaLogger('commandbus-tsq-sweeper');
const tracer = createTracer('commandbus-tsq-sweeper');
const tsq = new TroubleshootingQueue({ ...configFromEnv(process.env, logger), ...tracedClients(tracer) });
const domains = readEnvironment().domains ?? [];

export const handler = middy(async () => {
  const results: Record<string, SweepResult> = {};
  for (const domain of domains) {
    results[domain] = await tsq.sweep(domain);
    logger.info('swept TSQ queue', { domain, ...results[domain] });
  }
  return results;
})
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(powertools));
