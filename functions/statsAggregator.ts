/**
 * Fed by the table's stream (event source mapping with a tumbling window, so each batch names its
 * shard; filtered to command items): turns each batch into the stats items `GET /domains/{domain}/stats`
 * reads. A batch that throws is retried (and bisected) by Lambda; the stats items' per-shard
 * watermarks make a retried or overlapping batch count once.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { StatsAggregator, type StreamBatchEvent } from '@commandbus/core';
import middy from '@middy/core';
import { configFromEnv } from './config.ts';
import { createLambdaLogger } from './logger.ts';
import { createTracer, tracedClients } from './observability.ts';

const { powertools, logger } = createLambdaLogger('commandbus-stats');
const tracer = createTracer('commandbus-stats');
const aggregator = new StatsAggregator({ ...configFromEnv(process.env, logger), ...tracedClients(tracer) });

export const handler = middy(async (event: StreamBatchEvent) => {
  if (event.Records.length > 0) {
    const result = await aggregator.handle(event);
    logger.info('aggregated stream batch', { shardId: event.shardId, ...result });
  }
  // A tumbling-window invocation answers with the state to carry over: none is needed.
  return { state: {} };
})
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(powertools));
